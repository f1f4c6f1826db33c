/**
 * simplenet: SimpleNet visual anomaly detection (Liu et al., CVPR 2023) in TypeScript on
 * onnxruntime. Train a detector on photos of good parts, then score new photos: an anomaly score
 * per image and a map of where the defect is.
 *
 * The entry points are `train` and `Detector`; the rest is what they take and give. Graph
 * builders (the ONNX pieces the scoring graph is made of) are under `simplenet/graph`.
 * @example
 * import { Detector, train } from 'simplenet';
 * const detector = await train({ data: { format: 'mvtec', root: 'mvtec_ad', category: 'bottle' }, backbone: 'mobilenet_v2', out: 'runs/bottle' });
 * const r = await detector.score('part.png');
 * await detector.close();
 * @packageDocumentation
 */

// Training and scoring.
export { Detector, type DetectorInfo, type DetectorOptions, type ScoreOutcome, type ScoreResult } from './api/detector.js';
export { type PartialConfig, type TrainOptions, train, trainingConfig } from './api/train.js';
export { type QuantizeOptions, type QuantizeSummary, quantize } from './api/quantize.js';
export { type Precision, PRECISIONS, PrecisionError } from './scoring/precision.js';
export { loadQuantization, QUANTIZATION_FILE, type QuantizationRecord } from './model/quantization.js';
export type { ImageSource } from './scoring/scoreImages.js';
export {
  type ExportSummary,
  ExportSummarySchema,
  type PredictLine,
  PredictLineSchema,
  predictLine,
  type TrainSummary,
  TrainSummarySchema,
} from './api/outputs.js';
export { type MetricsJson, MetricsJsonSchema, readMetricsJson } from './evaluation/metricsJson.js';
export { ModelManifestSchema } from './model/manifestSchema.js';
export type { BarOptions, EpochEvent, ProgressBar, ProgressEvent, Reporter } from './core/progress.js';
export { type SessionOptions, sideBySideSession } from './onnx/session.js';
export { VERSION } from './core/version.js';

// Images, datasets and backbones.
export {
  DEFAULT_MAX_PIXELS,
  type DecodedImage,
  decodeImage,
  IMAGE_EXTENSIONS,
  ImageDecodeError,
  ImageTooLargeError,
  maxPixels,
  setMaxPixels,
} from './images/decode.js';
export {
  coverageWarner,
  exactFitProblem,
  fitDownscale,
  frameBox,
  frameGeometry,
  IMAGE_FITS,
  type ImageFit,
  type ImageGeometry,
  keptShare,
  MAX_AUTO_TILES,
  MAX_EXACT_DOWNSCALE,
  resolveTiles,
  type TileSpec,
  tileGrid,
} from './images/fit.js';
export { type AnomalyDataset, DatasetError, type Sample } from './datasets/dataset.js';
export { type DatasetSpec, loadDataset } from './datasets/load.js';
export type { FolderOptions } from './datasets/folder.js';
export { type DatasetField, type DatasetFormat, datasetFormats, registerDatasetFormat } from './datasets/formats.js';
export { resolveBackbone, type ResolveOptions } from './backbones/backbone.js';
export { builtinNames, registerBackbone } from './backbones/registry.js';
export type { Backbone, BackboneIdentity, BuiltinFactory, BuiltinOptions } from './backbones/types.js';

// Configuration, model folders, metrics.
export {
  ConfigSchema as SimpleNetConfigSchema,
  defaultConfig,
  type MapTransform,
  type PresetName,
  resolveConfig,
  type SimpleNetConfig,
} from './model/config.js';
export {
  type EpochLog,
  loadModel,
  MODEL_FORMAT,
  ModelLoadError,
  type ModelManifest,
  readTrainingLog,
  type SimpleNetModel,
  type TrainingRecord,
} from './model/modelDir.js';
export type { LayerShape } from './embedding/patchEmbed.js';
export { type Manifest as BackboneManifest, ManifestSchema as BackboneManifestSchema } from './backbones/manifestSchema.js';
export type { DType, HostTensor, TypedArrayOf } from './onnx/tensor.js';
export type { CalibrationMethod } from './onnx/calibrate.js';
export { type HeadParams, PARAM_NAMES, type ParamName } from './heads/params.js';
export type { KnnParams, ModelParams } from './heads/knn.js';
export type { ImageResult } from './scoring/scoreImages.js';
export { type Calibration, normalizeScore, type ScoreStats, type TrainingFloor } from './model/calibration.js';
export type { Curves, Evaluation, EvaluateOptions, ImagePrediction, Metrics, OracleThresholds } from './evaluation/evaluate.js';
export {
  BENCHMARK_METRICS,
  type BenchmarkMetric,
  fmtMetric,
  formatMetrics,
  METRICS,
  type MetricKey,
  type MetricSpec,
  metricRows,
} from './evaluation/metricSpecs.js';
export type { RocCurve } from './metrics/roc.js';
export { aupro, type AuproOptions, averagePrecision, type BinaryMetrics, binaryMetrics, type F1Max, f1Max, rocAuc } from './metrics/index.js';

// Errors a caller may want to tell apart.
export { OutputRefusedError } from './io/atomic.js';
export { FileError } from './io/ioError.js';
export { checkExactFit, ImageFitError, NonFiniteScoreError } from './scoring/scorer.js';
