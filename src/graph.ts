/**
 * `simplenet/graph`: the ONNX graph builders the scoring graph is made of, for people who build
 * their own graphs on the same pieces. Everything a builder takes is exported here too.
 * @example
 * import { GraphBuilder, addPreprocess } from 'simplenet/graph';
 * const g = new GraphBuilder('pre');
 * const image = g.input('image', 'uint8', [1, 'H', 'W', 3]);
 * g.output(addPreprocess(g, image, { resize: 329, crop: 288, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }), 'pixels', 'float32');
 * @packageDocumentation
 */
export { type Attr, GraphBuilder, OPSET } from './onnx/builder.js';
export { type DecodedModel, decodeModel, OnnxDecodeError } from './onnx/decode.js';
export {
  type AttrValue,
  type Dim,
  encodeModel,
  type GraphProto,
  type Initializer,
  type ModelProto,
  type NodeProto,
  ONNX_DTYPE,
  type ValueInfo,
} from './onnx/model.js';
export type { OrtTensor } from './onnx/session.js';
export type { DType, HostTensor, TypedArrayOf } from './onnx/tensor.js';
export { addPreprocess, type PreprocessOptions } from './images/preprocess.js';
export { IMAGE_FITS, type ImageFit, type ImageGeometry } from './images/fit.js';
export { addPatchEmbedding, DEFAULT_PATCH_EMBED, type LayerShape, type PatchEmbedOptions } from './embedding/patchEmbed.js';
export { FeatureExtractor, type FeatureExtractorOptions } from './embedding/featureExtractor.js';
export { addPatchScores, type FoldedHead, foldHead, type ScoreHeadOptions } from './heads/scoreHead.js';
export { type HeadParams, initHeadParams, PARAM_NAMES, type ParamName } from './heads/params.js';
export type { KnnParams, ModelParams } from './heads/knn.js';
export type { HeadConfig, HeadLoss } from './heads/config.js';
export { Rng } from './core/rng.js';
export { ConfigSchema as SimpleNetConfigSchema, type MapTransform, type SimpleNetConfig } from './model/config.js';
export { type EpochLog, MODEL_FORMAT, type ModelManifest, type SimpleNetModel, type TrainingRecord } from './model/modelDir.js';
export { type Manifest as BackboneManifest, ManifestSchema as BackboneManifestSchema } from './backbones/manifestSchema.js';
export type { Calibration, ScoreStats } from './model/calibration.js';
export type { Backbone, BackboneIdentity } from './backbones/types.js';
export type { DecodedImage } from './images/decode.js';
export { addAnomalyMap, type AnomalyMapOptions, DEFAULT_ANOMALY_MAP } from './scoring/anomalyMap.js';
export { buildFullScoringModel, type FullScoringOptions, type ScoringSpec, scoringSpecOf } from './scoring/fullScoringModel.js';
export { buildExportModel, type ExportOptions, exportModelBytes } from './export/exportModel.js';
