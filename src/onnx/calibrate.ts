/**
 * Calibration for static quantization: runs the float model on sample inputs with every value that
 * needs a range exposed as an extra output, and keeps only a running min and max per value, so
 * memory is one batch's activations whatever the number of batches.
 */
import { encodeModel, type ModelProto } from './model.js';
import type { TensorRange } from './quantParams.js';
import { calibrationTensors } from './quantize.js';
import { type OrtTensor, Session } from './session.js';
import type { HostTensor } from './tensor.js';

/**
 * Options of `collectRanges`.
 * @example const opts: CalibrationOptions = { tensors: ['conv1_out'], intraOpThreads: 2 };
 */
export interface CalibrationOptions {
  /** Values to range; default `calibrationTensors(model)`. */
  tensors?: readonly string[];
  /** Threads of the calibration session (default onnxruntime's choice). */
  intraOpThreads?: number;
}

/**
 * Activation ranges by the MinMax method: the smallest and largest value each tensor takes over
 * all calibration batches (no percentile clipping: the backbones' feature taps feed a float patch
 * embedding, where clipped outliers would be lost detail). `model` is the prepared float model
 * (`prepareForQuantization`); each batch maps its graph inputs to tensors. Batches are reduced as
 * they come, so an async generator can decode images lazily.
 * @throws Error when there are no batches, when onnxruntime cannot run the model, or naming the
 * tensor when a value is NaN or infinite.
 * @example
 * const prepared = prepareForQuantization(decodeModel(bytes));
 * const ranges = await collectRanges(prepared, [{ image: f32([1, 3, 64, 64], pixels) }]);
 * console.log(ranges.get('layer2'));
 */
export async function collectRanges(
  model: ModelProto,
  batches: Iterable<Record<string, HostTensor | OrtTensor>> | AsyncIterable<Record<string, HostTensor | OrtTensor>>,
  opts: CalibrationOptions = {},
): Promise<Map<string, TensorRange>> {
  const names = [...(opts.tensors ?? calibrationTensors(model))];
  const graph = model.graph;
  const exposed = new Set(graph.outputs.map((o) => o.name));
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const extra = names.filter((n) => !exposed.has(n) && !inputs.has(n)).map((name) => ({ name, dtype: 'float32' as const }));
  const bytes = encodeModel({ ...model, graph: { ...graph, outputs: [...graph.outputs, ...extra] } });
  const session = await Session.create(bytes, 'calibration', { intraOpThreads: opts.intraOpThreads });
  const ranges = new Map<string, TensorRange>();
  let count = 0;
  try {
    for await (const feeds of batches) {
      count++;
      const fetched = names.filter((n) => !inputs.has(n));
      const out = fetched.length > 0 ? await session.run(feeds, fetched) : {};
      for (const name of names) {
        const data = (inputs.has(name) ? feeds[name] : out[name]).data as Float32Array;
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (Number.isNaN(v)) throw new Error(`calibration: '${name}' has NaN values in batch ${count}`);
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`calibration: '${name}' has NaN or infinite values in batch ${count}`);
        const r = ranges.get(name);
        ranges.set(name, r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi });
      }
    }
  } finally {
    await session.release();
  }
  if (count === 0) throw new Error('batches: expected at least one calibration batch');
  return ranges;
}
