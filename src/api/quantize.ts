/**
 * `simplenet quantize`: measures a model's backbone activation ranges on good images and stores
 * them in the folder (model/quantization.ts), so that `--precision int8` can build the backbone's
 * static int8 twin (backbones/quantizeBackbone.ts). Calibration images are training images — the
 * model's own training split unless the caller names others — never test images.
 */
import type { Reporter } from '../core/progress.js';
import { silentReporter } from '../core/progress.js';
import { loadDataset } from '../datasets/load.js';
import { mixedPrecisionRule, quantizeBackbone } from '../backbones/quantizeBackbone.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../onnx/calibrate.js';
import { buildPreprocessModel } from '../embedding/featureExtractor.js';
import { decodeImage } from '../images/decode.js';
import { loadModel, type SimpleNetModel } from '../model/modelDir.js';
import { backboneSha256, type QuantizationRecord, saveQuantization } from '../model/quantization.js';
import { ortTensor, Session } from '../onnx/session.js';
import { expandInputs } from '../predict/inputs.js';

/**
 * What `quantize` calibrates on and how.
 * @example const opts: QuantizeOptions = { images: ['data/good'], count: 32, weightBits: 7 };
 */
export interface QuantizeOptions {
  /** Image files or folders of good images; default: the model's training split, as recorded in its manifest. */
  images?: readonly string[];
  /** How many of them, evenly spaced (default 32; all when fewer). */
  count?: number;
  /** Weight width: 7 (default, cannot saturate on CPUs without VNNI) or 8 (onnx/quantize.ts). */
  weightBits?: 7 | 8;
  /**
   * Mixed precision (the default rule): the fewest most sensitive activations stay float32 so that
   * the feature taps' predicted relative error is at most this (`QuantizeBackboneOptions.errorBudget`,
   * default 0.0125, `DEFAULT_ERROR_BUDGET`); Infinity quantizes all.
   */
  errorBudget?: number;
  /**
   * The older rule instead: activations whose own uint8 round-trip error on the calibration images
   * exceeds this fraction stay float32 (`QuantizeBackboneOptions.floatThreshold`). Not with `errorBudget`.
   */
  floatThreshold?: number;
  /**
   * How activation ranges are measured (`collectRanges`): 'minmax' (default), the smallest and
   * largest value seen; 'percentile', ±t with t the `percentile`-th percentile of |x|, clipping rare
   * outliers so that the bulk of the values gets finer uint8 steps; 'mse', the range whose uint8
   * round trip has the least squared error over the values seen (`RangeObserver.mseRange`).
   * @example const opts: QuantizeOptions = { method: 'percentile', percentile: 99.999 };
   */
  method?: CalibrationMethod;
  /** Percentile of |x| for method 'percentile', in (0, 100]; default 99.99. Refused with method 'minmax'. */
  percentile?: number;
  /** Progress of the calibration pass. */
  reporter?: Reporter;
}

/**
 * What `quantize` wrote: the file, the images it measured and the time taken.
 * @example const { path, images } = await quantize('runs/bottle');
 */
export interface QuantizeSummary {
  path: string;
  images: number;
  source: string;
  weightBits: 7 | 8;
  method: CalibrationMethod;
  /** The percentile of |x| the ranges were cut at (method 'percentile' only). */
  percentile?: number;
  /** Activation tensors with a stored range. */
  tensors: number;
  /** Of them, kept float32 by mixed precision (measured uint8 error above the threshold). */
  float: number;
  /** The feature taps' predicted relative error (the error-budget rule; absent with `floatThreshold`). */
  predictedError?: number;
  /** Conv weights quantized. */
  weights: number;
  /**
   * Of them, stored exactly on the uint8 grid they already lay on (weights of a
   * quantization-aware-trained network, such as the shared MobileNetV2); the rest are rounded to
   * `weightBits` per channel.
   */
  gridWeights: number;
  seconds: number;
}

/** The calibration images: the caller's, or the training split the model was trained on. */
async function calibrationPaths(model: SimpleNetModel, images: readonly string[] | undefined): Promise<{ paths: string[]; source: string }> {
  if (images && images.length > 0) return { paths: expandInputs([...images]).map((i) => i.path), source: images.join(', ') };
  const d = model.manifest.training.dataset;
  if (d.format === 'folder' || d.format === 'none' || !d.root) {
    throw new Error(`${model.dir}: was trained on a '${d.format}' dataset whose training images cannot be found again; give good images with --images`);
  }
  let dataset: Awaited<ReturnType<typeof loadDataset>>;
  try {
    dataset = await loadDataset({ format: d.format, root: d.root, category: d.category });
  } catch (e) {
    throw new Error(
      `${model.dir}: cannot read its training images (${d.format} at ${d.root}, ${d.category}): ${(e as Error).message}; give good images with --images`,
    );
  }
  return { paths: dataset.train.map((s) => s.path), source: `${d.format} ${d.root} ${d.category} (training split)` };
}

/** `count` items spread evenly over `items` (all of them when there are fewer). */
function evenlySpaced<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)]);
}

/**
 * Calibrates a model folder's backbone for int8 and writes its quantization.json; afterwards
 * `Detector.load(dir, { precision: 'int8' })`, `simplenet predict|test|serve|export --precision int8`
 * run the int8 backbone.
 * @throws ModelLoadError when `dir` is not a model folder; RangeError when `opts.floatThreshold` or
 * `opts.errorBudget` is negative or both are given, `opts.method` is unknown, or `opts.percentile` is outside (0, 100] or given without
 * method 'percentile'; Error when no calibration images are
 * found (naming what was looked for); ImageDecodeError naming an unreadable image;
 * OutputRefusedError when a quantization.json that simplenet did not write is in the way.
 * @example
 * const { images, seconds } = await quantize('runs/bottle', { count: 32 });
 * const fast = await Detector.load('runs/bottle', { precision: 'int8' });
 */
export async function quantize(dir: string, opts: QuantizeOptions = {}): Promise<QuantizeSummary> {
  const started = Date.now();
  const reporter = opts.reporter ?? silentReporter;
  const count = opts.count ?? 32;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`quantize: count must be a positive integer, got ${count}`);
  const method = opts.method ?? 'minmax';
  if (!CALIBRATION_METHODS.includes(method)) throw new RangeError(`quantize: method must be one of ${CALIBRATION_METHODS.join(', ')}, got '${method}'`);
  if (opts.percentile !== undefined) {
    if (method !== 'percentile') throw new RangeError(`quantize: percentile ${opts.percentile} needs method 'percentile' (method is '${method}')`);
    if (!(opts.percentile > 0 && opts.percentile <= 100)) throw new RangeError(`quantize: percentile must be in (0, 100], got ${opts.percentile}`);
  }
  mixedPrecisionRule(opts);
  const model = await loadModel(dir);
  const { paths: all, source } = await calibrationPaths(model, opts.images);
  if (all.length === 0) throw new Error(`${dir}: no calibration images found in ${source}`);
  const paths = evenlySpaced(all, count);
  // The same preprocessing graph as training features and scoring, so ranges match what the backbone sees.
  const prep = await Session.create(buildPreprocessModel(model.backbone, model.config.image), 'preprocessing graph');
  const bar = reporter.bar('calibrating int8 ranges', paths.length);
  async function* pixels() {
    for (const path of paths) {
      const im = await decodeImage(path, { label: path });
      const out = await prep.run({ image: ortTensor('uint8', [1, im.height, im.width, 3], im.data) });
      bar.tick(1, path);
      yield out.pixels;
    }
  }
  try {
    const weightBits = opts.weightBits ?? 7;
    const q = await quantizeBackbone(model.backbone, pixels(), {
      weightBits,
      floatThreshold: opts.floatThreshold,
      errorBudget: opts.errorBudget,
      method,
      percentile: opts.percentile,
    });
    bar.done();
    const record: QuantizationRecord = {
      format: 'simplenet-quantization',
      version: 1,
      method: q.method,
      ...(q.percentile === undefined ? {} : { percentile: q.percentile }),
      weightBits: q.weightBits,
      images: q.images,
      source,
      backboneSha256: backboneSha256(model.backbone.onnx),
      created: new Date().toISOString(),
      ranges: q.ranges,
      float: q.float,
      ...(q.floatThreshold === undefined ? {} : { floatThreshold: q.floatThreshold }),
      ...(q.errorBudget === undefined ? {} : { errorBudget: Number.isFinite(q.errorBudget) ? q.errorBudget : null }),
      errors: q.errors,
      ...(q.sensitivity ? { sensitivity: q.sensitivity, predictedError: q.predictedError } : {}),
    };
    const path = await saveQuantization(dir, record);
    return {
      path,
      images: q.images,
      source,
      weightBits: q.weightBits,
      method: q.method,
      ...(q.percentile === undefined ? {} : { percentile: q.percentile }),
      tensors: Object.keys(q.ranges).length,
      float: q.float.length,
      ...(q.predictedError === undefined ? {} : { predictedError: q.predictedError }),
      weights: q.weights,
      gridWeights: q.gridWeights,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await prep.release();
  }
}
