/**
 * A backbone turned into its static int8 twin: the float graph pruned to its feature taps,
 * calibrated on normalised sample images and rewritten in the QDQ format (src/onnx/quantize.ts),
 * so that onnxruntime's CPU provider runs its convolutions as QLinearConv. Bytes in, bytes out: the
 * result is an ordinary `Backbone` whose layers are still float32 outputs, for the float patch
 * embedding after them.
 */
import { type CalibrationMethod, collectRanges, measureQuantizationError } from '../onnx/calibrate.js';
import { chooseFloatValues, measureSensitivity, predictedError } from '../onnx/sensitivity.js';
import { pruneToLayers } from './specialize.js';
import { decodeModel } from '../onnx/decode.js';
import { encodeModel, type ModelProto } from '../onnx/model.js';
import type { TensorRange } from '../onnx/quantParams.js';
import { prepareForQuantization, quantizeModel, quantizedWeights } from '../onnx/quantize.js';
import type { OrtTensor } from '../onnx/session.js';
import type { HostTensor } from '../onnx/tensor.js';
import type { Backbone } from './types.js';

/**
 * Options of `quantizeBackbone`.
 * @example const opts: QuantizeBackboneOptions = { weightBits: 7, method: 'percentile', percentile: 99.99 };
 */
export interface QuantizeBackboneOptions {
  /** Range calibration (see `collectRanges`); default 'minmax'. */
  method?: CalibrationMethod;
  /** Percentile of |x| for method 'percentile'; default 99.99. */
  percentile?: number;
  /** Weight width (see `QuantizeOptions.weightBits`); default 7. */
  weightBits?: 8 | 7;
  /** Threads of the calibration session. */
  intraOpThreads?: number;
  /**
   * Mixed precision by the outputs' error (the default rule): each value's effect on the feature
   * taps when it alone is in uint8 is measured (`measureSensitivity`) and the fewest most
   * sensitive values stay float32, with the Conv/Add units that read or write them, so that the
   * predicted tap error √Σ sensitivity² of the rest is at most this (`chooseFloatValues`).
   * Default {@link DEFAULT_ERROR_BUDGET}; Infinity quantizes everything.
   */
  errorBudget?: number;
  /** Calibration images the sensitivities are measured on (the first ones); default 8. */
  sensitivityImages?: number;
  /**
   * The older rule, instead of `errorBudget`: a value whose own uint8 round-trip error
   * ‖Q(x) − x‖ / ‖x‖ on the calibration images exceeds this stays float32 (see
   * `measureQuantizationError`). Giving both is refused.
   */
  floatThreshold?: number;
}

/**
 * Default `errorBudget`: a predicted 1.25 % relative error at the feature taps, the largest budget
 * at which the one-epoch int8 check (src/api/__tests__/int8.int.test.ts) passes on train seeds 0–2
 * with today's training defaults (0.015 gave ρ 0.9895 on seed 1 once the ring trained as normal).
 * See the README's int8 section for the measurements (accuracy and speed on bottle, MobileNetV2).
 * @example const { float } = await quantizeBackbone(b, pixels, { errorBudget: DEFAULT_ERROR_BUDGET });
 */
export const DEFAULT_ERROR_BUDGET = 0.0125;

/**
 * The older rule's threshold (`floatThreshold`, the default before `errorBudget`): 1 % own
 * round-trip error, the point between MobileNetV2's ReLU6 outputs (0.2–0.7 %) and its linear
 * bottlenecks and residual sums (1.0–2.8 %). A value's own error turned out a poor guide to its
 * effect on the taps (see `measureSensitivity`), so it is kept for comparison and old records only.
 * @example const { float } = await quantizeBackbone(b, pixels, { floatThreshold: DEFAULT_FLOAT_THRESHOLD });
 */
export const DEFAULT_FLOAT_THRESHOLD = 0.01;

/**
 * Which mixed-precision rule a call asks for: `floatThreshold` (the older own-error rule) when
 * given, else `errorBudget` (default {@link DEFAULT_ERROR_BUDGET}). Checked before any work.
 * @throws RangeError when both are given or either is negative or NaN.
 * @example mixedPrecisionRule({}); // { errorBudget: 0.0125 }
 */
export function mixedPrecisionRule(opts: {
  floatThreshold?: number;
  errorBudget?: number;
}): { floatThreshold: number; errorBudget?: undefined } | { floatThreshold?: undefined; errorBudget: number } {
  const { floatThreshold, errorBudget } = opts;
  if (floatThreshold !== undefined && errorBudget !== undefined) {
    throw new RangeError('give errorBudget or floatThreshold (two rules for the same choice), not both');
  }
  for (const [name, v] of [
    ['errorBudget', errorBudget],
    ['floatThreshold', floatThreshold],
  ] as const) {
    if (v !== undefined && !(v >= 0)) throw new RangeError(`${name} must be a number ≥ 0, got ${v}`);
  }
  return floatThreshold === undefined ? { errorBudget: errorBudget ?? DEFAULT_ERROR_BUDGET } : { floatThreshold };
}

/**
 * What `quantizeBackbone` gives: the int8 backbone, the activation ranges it was built from (JSON
 * as they are: value name → {min, max}), how they were measured and from how many images.
 * @example const { backbone, ranges } = await quantizeBackbone(float, pixels);
 */
export interface QuantizedBackbone {
  backbone: Backbone;
  ranges: Record<string, TensorRange>;
  method: CalibrationMethod;
  /** The percentile used (method 'percentile' only). */
  percentile?: number;
  weightBits: 8 | 7;
  /** Calibration images (the sum of the batches' first dimensions). */
  images: number;
  /** Values kept float32 (mixed precision), in graph order; empty when all are quantized. */
  float: string[];
  /** The own-error threshold `float` was decided by (the older rule, when it was asked for). */
  floatThreshold?: number;
  /** The error budget `float` was decided by (the default rule). */
  errorBudget?: number;
  /** Each ranged value's effect on the taps when it alone is in uint8 (`measureSensitivity`; budget rule only). */
  sensitivity?: Record<string, number>;
  /** √Σ sensitivity² over the values in uint8: the taps' predicted relative error (budget rule only). */
  predictedError?: number;
  /** Each ranged value's measured uint8 round-trip error ‖Q(x) − x‖ / ‖x‖ on the calibration images. */
  errors: Record<string, number>;
  /**
   * Conv weights stored exactly on the uint8 grid they already lay on (a quantization-aware-trained
   * network's weights; `weightGrid`), the rest being rounded to `weightBits` per channel.
   */
  gridWeights: number;
  /** Conv weights quantized in all. */
  weights: number;
}

/**
 * The float graph the ranges are measured on and named after: pruned to the taps, BN folded.
 * @throws Error when a layer is not a value of the graph; OnnxDecodeError when the bytes are not a model.
 * @example const ranges = await collectRanges(preparedGraph(backbone), batches);
 */
export function preparedGraph(backbone: Backbone): ModelProto {
  const source = 'backbone';
  return prepareForQuantization(pruneToLayers(decodeModel(backbone.onnx, source), backbone.layers, source));
}

/**
 * The int8 twin of `backbone` from ranges measured earlier by `quantizeBackbone` on the same
 * backbone (a model folder's quantization.json): the same graph rewrite, without calibrating.
 * @throws Error naming a value whose range is missing (ranges of another backbone); OnnxDecodeError
 * when the bytes are not a model.
 * `opts.float` are the values kept float32 (`QuantizedBackbone.float`); absent, all are quantized.
 * @example const int8 = applyQuantization(model.backbone, record.ranges, { weightBits: record.weightBits, float: record.float });
 */
export function applyQuantization(
  backbone: Backbone,
  ranges: Readonly<Record<string, TensorRange>>,
  opts: { weightBits?: 8 | 7; float?: readonly string[] } = {},
): Backbone {
  const quantized = quantizeModel(preparedGraph(backbone), ranges, { weightBits: opts.weightBits ?? 7, float: opts.float });
  return { ...backbone, onnx: encodeModel(quantized) };
}

/**
 * Calibrates and quantizes `backbone` (static; MinMax or percentile ranges, uint8 activations,
 * weights exactly on their own uint8 grid when they lie on one, else int8 per channel). `pixels` are calibration batches as the backbone takes them: normalised NCHW float32
 * ([N, 3, H, W], the preprocessing graph's output); they are consumed once, one at a time. The
 * result keeps `inputName`, `layers`, `mean`, `std` and `identity` (the float model it derives
 * from); its graph computes only `layers`. Other outputs of the float graph are dropped. The
 * batches are held in memory for the passes that measure each value's own uint8 error and, on the
 * first `opts.sensitivityImages`, its effect on the taps (mixed precision: `opts.errorBudget`, or
 * `opts.floatThreshold`).
 * @throws Error when there are no batches, when a layer is not a value of the graph, or when
 * onnxruntime cannot run the float model (OnnxDecodeError when the bytes are not a model);
 * RangeError when `opts.percentile` is not in (0, 100], when `opts.errorBudget` or
 * `opts.floatThreshold` is negative or both are given, or `opts.sensitivityImages` is not a positive integer.
 * @example
 * const prep = await Session.create(buildPreprocessModel(float, { resize: 329, crop: 288 }), 'prep');
 * const pixels = [];
 * for (const im of images) pixels.push((await prep.run({ image: toUint8Tensor(im) })).pixels);
 * const { backbone, ranges } = await quantizeBackbone(float, pixels, { weightBits: 7 });
 * await writeFile('ranges.json', JSON.stringify(ranges));
 */
export async function quantizeBackbone(
  backbone: Backbone,
  pixels: Iterable<HostTensor | OrtTensor> | AsyncIterable<HostTensor | OrtTensor>,
  opts: QuantizeBackboneOptions = {},
): Promise<QuantizedBackbone> {
  const weightBits = opts.weightBits ?? 7;
  const method = opts.method ?? 'minmax';
  const percentile = method === 'percentile' ? (opts.percentile ?? 99.99) : undefined;
  const prepared = preparedGraph(backbone);
  const { floatThreshold, errorBudget: budget } = mixedPrecisionRule(opts);
  const sensitivityImages = opts.sensitivityImages ?? 8;
  if (!Number.isInteger(sensitivityImages) || sensitivityImages < 1) {
    throw new RangeError(`sensitivityImages: expected a positive integer, got ${sensitivityImages}`);
  }
  let images = 0;
  const held: Record<string, HostTensor | OrtTensor>[] = [];
  async function* batches() {
    for await (const p of pixels) {
      images += p.dims[0];
      const feeds = { [backbone.inputName]: p };
      held.push(feeds);
      yield feeds;
    }
  }
  const ranges = await collectRanges(prepared, batches(), { intraOpThreads: opts.intraOpThreads, method, percentile });
  const errors = await measureQuantizationError(prepared, ranges, held, { intraOpThreads: opts.intraOpThreads });
  let sensitivity: Map<string, number> | undefined;
  let float: string[];
  if (budget === undefined) {
    float = [...errors].filter(([, e]) => e > (floatThreshold as number)).map(([n]) => n);
  } else {
    const few: typeof held = [];
    let n = 0;
    for (const feeds of held) {
      if (n >= sensitivityImages) break;
      few.push(feeds);
      n += feeds[backbone.inputName].dims[0];
    }
    sensitivity = await measureSensitivity(prepared, ranges, few, { intraOpThreads: opts.intraOpThreads });
    float = chooseFloatValues(sensitivity, budget);
  }
  const quantized = quantizeModel(prepared, ranges, { weightBits, float });
  const weights = quantizedWeights(prepared, float);
  const gridWeights = weights.onGrid.length;
  quantized.metadata = { ...quantized.metadata, quantization: JSON.stringify({ method, percentile, weightBits, gridWeights, images, float }) };
  return {
    backbone: { ...backbone, onnx: encodeModel(quantized) },
    ranges: Object.fromEntries(ranges),
    method,
    ...(percentile === undefined ? {} : { percentile }),
    weightBits,
    images,
    float,
    ...(budget === undefined ? { floatThreshold } : { errorBudget: budget }),
    errors: Object.fromEntries(errors),
    ...(sensitivity ? { sensitivity: Object.fromEntries(sensitivity), predictedError: predictedError(sensitivity, float) } : {}),
    gridWeights,
    weights: weights.all.length,
  };
}
