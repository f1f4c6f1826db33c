/**
 * The export: the one scoring graph as a single self-contained .onnx file (weights embedded),
 * input `image` uint8 [N, H, W, 3] RGB of any size, outputs score, score_normalized, label,
 * anomaly_map and anomaly_map_normalized, with everything needed to interpret them in
 * metadata_props.
 */
import { KNN_BANK, type KnnParams } from '../heads/knn.js';
import { MAX_EXACT_DOWNSCALE, tileGrid } from '../images/fit.js';
import { headKind } from '../model/config.js';
import type { SimpleNetModel } from '../model/modelDir.js';
import { VERSION } from '../core/version.js';
import { MODEL_FORMAT_VERSION } from '../model/modelDir.js';
import { describeNonFinite, firstNonFiniteIn } from '../onnx/finite.js';
import { encodeModel, type GraphProto, type ModelProto } from '../onnx/model.js';
import type { HostTensor } from '../onnx/tensor.js';
import { type Calibration, calibrationRange, pixelCalibration } from '../model/calibration.js';
import { buildFullScoringModel } from '../scoring/fullScoringModel.js';
import { type Precision, scoringSpecAt } from '../scoring/precision.js';
import { weightsToFp16 } from './fp16.js';

/**
 * How a model is exported: the thresholds baked into the graph, the batch axis and the weights'
 * precision.
 * @example const opts: ExportOptions = { calibration: detector.calibration, batch: 1, fp16: true };
 */
export interface ExportOptions {
  /** The thresholds and normalisation the graph's label and normalised outputs use. */
  calibration: Calibration;
  /** Fixed batch size or 'dynamic' (default). */
  batch?: number | 'dynamic';
  /** Store large weights as float16 (cast to float32 inside the graph): about half the file. Default false. */
  fp16?: boolean;
  /** Adds the image_crop output (uint8 [N, crop, crop, 3]), for overlays drawn by the consumer (the web app). Default false. */
  withCrop?: boolean;
  /** The backbone's arithmetic (scoring/precision.ts): 'int8' needs the folder's quantization.json. Default 'fp32'. */
  precision?: Precision;
}

/** The preprocessing of each `image.fit` in words, for the export's metadata (images/fit.ts). */
function fitMetadata(image: SimpleNetModel['config']['image']): Record<string, unknown> {
  if (image.fit === 'squash') return { fit: 'squash', size: [image.crop, image.crop], resample: 'PIL bilinear (antialiased), Image.resize((crop, crop))' };
  if (image.fit === 'letterbox') {
    return {
      fit: 'letterbox',
      size: [image.crop, image.crop],
      resample: 'PIL bilinear (antialiased), ImageOps.pad centred: longer side to crop, padding = mean colour (0 after normalisation)',
    };
  }
  if (image.fit === 'tile') {
    const [rows, cols] = tileGrid(image);
    return {
      fit: 'tile',
      tiles: [rows, cols],
      canvas: [rows * image.crop, cols * image.crop],
      size: [image.crop, image.crop],
      resample:
        'PIL bilinear (antialiased), Image.resize((columns·crop, rows·crop)), cut into rows × columns crop×crop tiles; maps stitched and given over the whole image in a crop×crop frame',
    };
  }
  return { fit: 'crop', resize_shorter_side: image.resize, center_crop: image.crop, resample: 'PIL bilinear (antialiased), torchvision Resize + CenterCrop' };
}

const FRAME_WORDS = {
  crop: 'resized and centre-cropped',
  squash: 'whole image resized to a square',
  letterbox: 'letterboxed (padded) square',
  tile: 'whole image resized to a square (the tiles stitched)',
} as const;

export function exportMetadata(model: SimpleNetModel, opts: ExportOptions): Record<string, string> {
  const c = opts.calibration;
  const { config, manifest } = model;
  const pixel = pixelCalibration(c);
  return {
    simplenet_version: VERSION,
    model_format_version: String(MODEL_FORMAT_VERSION),
    model_created_at: manifest.createdAt,
    backbone: JSON.stringify(model.backbone.identity),
    backbone_layers: model.backbone.layers.join(','),
    backbone_precision: opts.precision ?? 'fp32',
    // The SimpleNet head's folded Linear follows the precision (heads/int8Linear.ts); a knn head's distances stay float.
    head_precision: opts.precision === 'int8' && headKind(config) !== 'knn' ? 'int8' : 'fp32',
    preprocessing: JSON.stringify({
      ...fitMetadata(config.image),
      mean: model.backbone.mean,
      std: model.backbone.std,
      // Beyond this shrink per axis the graph's float32 resampling may differ from PIL by one grey
      // level in some pixels (images/preprocess.ts); simplenet's own scorer refuses such images.
      exact_up_to_downscale: MAX_EXACT_DOWNSCALE,
    }),
    input: 'image: uint8 [N, H, W, 3] RGB, any H and W (one size per batch)',
    outputs:
      'score [N] raw (max patch score); score_normalized [N]; label [N] int64 (1 = anomalous: score > image_threshold); ' +
      `anomaly_map [N, ${config.image.crop}, ${config.image.crop}] raw, in the ${FRAME_WORDS[config.image.fit]} frame; anomaly_map_normalized (pixel_threshold at 0.5)`,
    image_threshold: String(c.imageThreshold),
    threshold_source: c.thresholdSource,
    normalization: 'clamp((x - image_threshold) / (score_max - score_min) + 0.5, 0, 1)',
    score_min: String(c.min),
    score_max: String(c.max),
    normalization_range: String(calibrationRange(c)),
    pixel_threshold: String(pixel.threshold),
    pixel_normalization: 'clamp((map - pixel_threshold) / pixel_normalization_range + 0.5, 0, 1)',
    pixel_normalization_range: String(pixel.range),
    anomaly_map: JSON.stringify({ size: config.image.crop, ...config.map }),
    head:
      headKind(config) === 'knn'
        ? `knn: patch score = Euclidean distance to the nearest of ${(model.params as KnnParams)[KNN_BANK].dims[0]} memory-bank features`
        : 'simplenet: patch score = -discriminator(adaptor(feature))',
    weights: opts.fp16 ? 'float16 (cast to float32 in the graph)' : 'float32',
    training: JSON.stringify({ dataset: manifest.training.dataset, epochs: manifest.training.epochs, seed: manifest.training.seed }),
  };
}

/**
 * Throws naming the model and the tensor when a weight (initializer or Constant) is NaN or ±Inf:
 * an exported model would give NaN scores that every consumer labels "normal". One pass over the
 * weights, once per export.
 */
export function checkFiniteWeights(graph: GraphProto, model: string, hint = 'the model is damaged; retrain it'): void {
  const tensors: [string, HostTensor][] = graph.initializers.map((i) => [i.name, i.tensor]);
  for (const n of graph.nodes) {
    for (const [k, a] of Object.entries(n.attributes)) if (a.kind === 'tensor') tensors.push([`${n.name || n.opType}.${k}`, a.value]);
  }
  for (const [name, t] of tensors) {
    const i = firstNonFiniteIn(t);
    if (i >= 0) throw new Error(`${model}: cannot export: weight '${name}' holds ${describeNonFinite(t, i)} at element ${i}; ${hint}`);
  }
}

/**
 * The exported model as data: the one scoring graph with its weights embedded and metadata_props
 * saying how to read its outputs (thresholds, normalisation, preprocessing, backbone, training).
 * @throws Error naming the model and the weight when a weight is NaN or ±Inf (or beyond the
 * float16 range with `fp16`); OnnxDecodeError when the model's backbone.onnx cannot be decoded;
 * PrecisionError when `precision` is 'int8' and the folder has no matching quantization.json.
 * @example
 * const proto = await buildExportModel(detector.model, { calibration: detector.calibration, batch: 'dynamic' });
 * console.log(proto.metadata.image_threshold, proto.graph.outputs.map((o) => o.name));
 */
export async function buildExportModel(model: SimpleNetModel, opts: ExportOptions): Promise<ModelProto> {
  const spec = await scoringSpecAt(model, opts.precision);
  const m = await buildFullScoringModel(spec, { calibration: opts.calibration, batch: opts.batch ?? 'dynamic', withCrop: opts.withCrop });
  checkFiniteWeights(m.graph, model.dir);
  const graph = opts.fp16 ? weightsToFp16(m.graph) : m.graph;
  if (opts.fp16) checkFiniteWeights(graph, model.dir, 'it is beyond the float16 range; export without --fp16');
  return { ...m, graph, metadata: exportMetadata(model, opts) };
}

/**
 * The exported model as ONNX bytes, ready to write or hand to onnxruntime anywhere (what
 * `Detector.exportBytes` and `simplenet export` write).
 * @throws Error naming the model and the weight when a weight is not finite; OnnxDecodeError for
 * an unreadable backbone.onnx; PrecisionError for 'int8' without a matching quantization.json.
 * @example await writeFile('bottle.onnx', await exportModelBytes(detector.model, { calibration: detector.calibration, fp16: true }));
 */
export async function exportModelBytes(model: SimpleNetModel, opts: ExportOptions): Promise<Uint8Array> {
  return encodeModel(await buildExportModel(model, opts));
}
