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
export { GraphBuilder, OPSET } from './onnx/builder.js';
export { decodeModel, OnnxDecodeError } from './onnx/decode.js';
export { encodeModel, type ModelProto, ONNX_DTYPE } from './onnx/model.js';
export type { DType, HostTensor } from './onnx/tensor.js';
export { addPreprocess, type PreprocessOptions } from './images/preprocess.js';
export { addPatchEmbedding, DEFAULT_PATCH_EMBED, type LayerShape, type PatchEmbedOptions } from './embedding/patchEmbed.js';
export { FeatureExtractor, type FeatureExtractorOptions } from './embedding/featureExtractor.js';
export { addPatchScores, type FoldedHead, foldHead, type ScoreHeadOptions } from './heads/scoreHead.js';
export { type HeadParams, initHeadParams, PARAM_NAMES } from './heads/params.js';
export { addAnomalyMap, type AnomalyMapOptions, DEFAULT_ANOMALY_MAP } from './scoring/anomalyMap.js';
export { buildFullScoringModel, type FullScoringOptions, type ScoringSpec, scoringSpecOf } from './scoring/fullScoringModel.js';
export { buildExportModel, type ExportOptions, exportModelBytes } from './export/exportModel.js';
