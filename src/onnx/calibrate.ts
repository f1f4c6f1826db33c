/**
 * Calibration for static quantization: runs the float model on sample inputs with every value that
 * needs a range exposed as an extra output, and keeps only running statistics per value (min and
 * max, and a fixed-size histogram for the percentile method), so memory is one batch's activations
 * whatever the number of batches.
 */
import { encodeModel, type ModelProto } from './model.js';
import type { TensorRange } from './quantParams.js';
import { RangeObserver } from './rangeObserver.js';
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
  /**
   * 'minmax' (default): the smallest and largest value seen. 'percentile': ±t with t the
   * `percentile`-th percentile of |x| over all batches (2048-bin histogram), within [min, max].
   */
  method?: CalibrationMethod;
  /** Percentile of |x| for the 'percentile' method, in (0, 100]; default 99.99. */
  percentile?: number;
}

/**
 * How activation ranges are measured: the MinMax method, or a percentile of |x| that clips rare
 * outliers so that the bulk of the values gets finer steps.
 * @example const method: CalibrationMethod = 'percentile';
 */
export type CalibrationMethod = 'minmax' | 'percentile';

/**
 * Activation ranges of the values a quantizer needs, by the MinMax method (default: the smallest
 * and largest value each takes over all batches) or by a percentile of |x| (`opts.method`,
 * `opts.percentile`, default 99.99). `model` is the prepared float model
 * (`prepareForQuantization`); each batch maps its graph inputs to tensors. Batches are reduced as
 * they come, so an async generator can decode images lazily.
 * @throws Error when there are no batches, when onnxruntime cannot run the model, or naming the
 * tensor when a value is NaN or infinite; RangeError when `opts.percentile` is not in (0, 100].
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
  const percentile = opts.method === 'percentile' ? (opts.percentile ?? 99.99) : undefined;
  if (percentile !== undefined && !(percentile > 0 && percentile <= 100)) throw new RangeError(`percentile: expected a number in (0, 100], got ${percentile}`);
  const names = [...(opts.tensors ?? calibrationTensors(model))];
  const graph = model.graph;
  const exposed = new Set(graph.outputs.map((o) => o.name));
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const extra = names.filter((n) => !exposed.has(n) && !inputs.has(n)).map((name) => ({ name, dtype: 'float32' as const }));
  const bytes = encodeModel({ ...model, graph: { ...graph, outputs: [...graph.outputs, ...extra] } });
  const session = await Session.create(bytes, 'calibration', { intraOpThreads: opts.intraOpThreads });
  const observers = new Map(names.map((n) => [n, new RangeObserver(percentile !== undefined)]));
  let count = 0;
  try {
    for await (const feeds of batches) {
      count++;
      const fetched = names.filter((n) => !inputs.has(n));
      const out = fetched.length > 0 ? await session.run(feeds, fetched) : {};
      for (const name of names) {
        const data = (inputs.has(name) ? feeds[name] : out[name]).data as Float32Array;
        observers.get(name)?.add(data, name);
      }
    }
  } finally {
    await session.release();
  }
  if (count === 0) throw new Error('batches: expected at least one calibration batch');
  return new Map(names.map((n) => [n, (observers.get(n) as RangeObserver).range(percentile)]));
}
