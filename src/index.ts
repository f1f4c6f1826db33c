/**
 * simplenet: SimpleNet visual anomaly detection in TypeScript on onnxruntime.
 * The public API, in pipeline order: images → datasets → backbones → patch embedding → heads →
 * scoring → metrics → model directories and training.
 * @packageDocumentation
 */
export { DEFAULT_MAX_PIXELS, type DecodedImage, decodeImage, ImageDecodeError, ImageTooLargeError, maxPixels, setMaxPixels } from './images/decode.js';
export { addPreprocess, type PreprocessOptions } from './images/preprocess.js';
export { MaskLoader } from './images/maskLoader.js';
export { type AnomalyDataset, DatasetError, type Sample } from './datasets/dataset.js';
export { loadMvtec } from './datasets/mvtec.js';
export { type Backbone, type BackboneIdentity, resolveBackbone } from './backbones/backbone.js';
export { FeatureExtractor, type FeatureExtractorOptions } from './embedding/featureExtractor.js';
export { addPatchEmbedding, DEFAULT_PATCH_EMBED, type LayerShape, type PatchEmbedOptions } from './embedding/patchEmbed.js';
export * from './heads/index.js';
export { addAnomalyMap, type AnomalyMapOptions, DEFAULT_ANOMALY_MAP } from './scoring/anomalyMap.js';
export { type ImageScores, Scorer, type ScorerOptions } from './scoring/scorer.js';
export { buildFullScoringModel, type FullScoringOptions, type ScoringSpec, scoringSpecOf } from './scoring/fullScoringModel.js';
export { type Calibration, normalizeScore } from './model/calibration.js';
export { buildExportModel, exportModelBytes, type ExportOptions } from './export/exportModel.js';
export { type Prediction, type PredictionResult, predictImages } from './predict/predictImages.js';
export { decodeModel, OnnxDecodeError } from './onnx/decode.js';
export * from './metrics/index.js';
export { type Evaluation, evaluate, type Metrics } from './evaluation/evaluate.js';
export { ConfigSchema, defaultConfig, parseConfig, type SimpleNetConfig } from './model/config.js';
export { loadModel, ModelLoadError, saveModel, type SimpleNetModel } from './model/modelDir.js';
export { type TrainOptions, type TrainResult, trainSimpleNet } from './training/trainer.js';
