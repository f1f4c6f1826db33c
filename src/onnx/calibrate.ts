/**
 * Calibration for static quantization: runs the float model on sample inputs with every value that
 * needs a range exposed as an extra output, and keeps only running statistics per value (min and
 * max, and fixed-size histograms for the percentile and MSE methods), so memory is one batch's activations
 * whatever the number of batches.
 */
import { encodeModel, type ModelProto } from './model.js';
import { activationParams, roundHalfEven, type TensorRange } from './quantParams.js';
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
   * 'mse': the MinMax range shrunk to the width whose uint8 round trip has the least expected
   * squared error over the values seen (rounding plus clipping; `RangeObserver.mseRange`).
   */
  method?: CalibrationMethod;
  /** Percentile of |x| for the 'percentile' method, in (0, 100]; default 99.99. */
  percentile?: number;
}

/**
 * How activation ranges are measured: the MinMax method, a percentile of |x| that clips rare
 * outliers so that the bulk of the values gets finer steps, or the range of least squared error.
 * @example const method: CalibrationMethod = 'mse';
 */
export type CalibrationMethod = 'minmax' | 'percentile' | 'mse';

/**
 * Every calibration method, for option parsing and schemas.
 * @example CALIBRATION_METHODS.includes('mse'); // true
 */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'mse'];

/**
 * Activation ranges of the values a quantizer needs, by the MinMax method (default: the smallest
 * and largest value each takes over all batches), by a percentile of |x| (`opts.method`,
 * `opts.percentile`, default 99.99) or by least squared round-trip error (`'mse'`). `model` is the prepared float model
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
  const mse = opts.method === 'mse';
  const observers = new Map(names.map((n) => [n, new RangeObserver(percentile !== undefined || mse)]));
  await forEachBatch(model, names, batches, opts.intraOpThreads, (name, data) => observers.get(name)?.add(data, name));
  return new Map(
    names.map((n) => {
      const o = observers.get(n) as RangeObserver;
      return [n, mse ? o.mseRange() : o.range(percentile)];
    }),
  );
}

/**
 * Each value's own uint8 rounding error on the calibration batches: ‖Q(x) − x‖ / ‖x‖ over all
 * batches, Q the QuantizeLinear→DequantizeLinear round trip with the scale and zero point
 * `quantizeModel` would give `ranges[name]` (clipping included). A second pass after
 * `collectRanges`, since the error depends on the final range. The figure mixed precision keeps
 * values float by: a value whose bulk is small next to its outliers (MobileNetV2's linear
 * bottlenecks) gets a coarse per-tensor step, and this says so before any int8 graph is built.
 * @throws Error when there are no batches, naming a value that has no range, or when onnxruntime
 * cannot run the model.
 * @example
 * const ranges = await collectRanges(prepared, batches);
 * const errors = await measureQuantizationError(prepared, ranges, batches);
 * const float = [...errors].filter(([, e]) => e > 0.05).map(([n]) => n);
 */
export async function measureQuantizationError(
  model: ModelProto,
  ranges: ReadonlyMap<string, TensorRange>,
  batches: Iterable<Record<string, HostTensor | OrtTensor>> | AsyncIterable<Record<string, HostTensor | OrtTensor>>,
  opts: { intraOpThreads?: number } = {},
): Promise<Map<string, number>> {
  const names = [...ranges.keys()];
  const params = new Map(names.map((n) => [n, activationParams(ranges.get(n) as TensorRange)]));
  const err = new Map(names.map((n) => [n, { e: 0, x: 0 }]));
  await forEachBatch(model, names, batches, opts.intraOpThreads, (name, data) => {
    const { scale, zeroPoint } = params.get(name) as { scale: number; zeroPoint: number };
    const acc = err.get(name) as { e: number; x: number };
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      const q = Math.max(0, Math.min(255, roundHalfEven(Math.fround(v / scale)) + zeroPoint));
      const d = (q - zeroPoint) * scale - v;
      acc.e += d * d;
      acc.x += v * v;
    }
  });
  return new Map(
    names.map((n) => {
      const { e, x } = err.get(n) as { e: number; x: number };
      return [n, x > 0 ? Math.sqrt(e / x) : e > 0 ? Infinity : 0];
    }),
  );
}

/** Runs `model` on every batch with `names` exposed as outputs and hands each value's data to `visit`. */
async function forEachBatch(
  model: ModelProto,
  names: readonly string[],
  batches: Iterable<Record<string, HostTensor | OrtTensor>> | AsyncIterable<Record<string, HostTensor | OrtTensor>>,
  intraOpThreads: number | undefined,
  visit: (name: string, data: Float32Array) => void,
): Promise<void> {
  const graph = model.graph;
  const exposed = new Set(graph.outputs.map((o) => o.name));
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const extra = names.filter((n) => !exposed.has(n) && !inputs.has(n)).map((name) => ({ name, dtype: 'float32' as const }));
  const bytes = encodeModel({ ...model, graph: { ...graph, outputs: [...graph.outputs, ...extra] } });
  const session = await Session.create(bytes, 'calibration', { intraOpThreads });
  let count = 0;
  try {
    for await (const feeds of batches) {
      count++;
      const fetched = names.filter((n) => !inputs.has(n));
      const out = fetched.length > 0 ? await session.run(feeds, fetched) : {};
      for (const name of names) {
        const t = inputs.has(name) ? feeds[name] : out[name];
        if (!t) throw new Error(`calibration: '${name}' is not a value of the model`);
        visit(name, t.data as Float32Array);
      }
    }
  } finally {
    await session.release();
  }
  if (count === 0) throw new Error('batches: expected at least one calibration batch');
}
