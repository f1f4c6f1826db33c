/**
 * The one scoring graph (issue 5): decoded uint8 pixels → resize, centre crop, normalise → backbone
 * (the model directory's ONNX, inlined) → patch embedding → folded head → image score, anomaly map,
 * threshold and normalisation. `test`, `predict` and `export` all run this graph; decoding is the
 * only work outside it.
 *
 * Inputs:  image uint8 [N, H, W, 3] (RGB, any size; one size within a batch).
 * Outputs: score float32 [N] (raw: max patch score), score_normalized [N], label int64 [N]
 *          (1 = anomalous: score > threshold), anomaly_map [N, crop, crop] (raw, crop frame; for
 *          fit 'tile' the tiles' stitched patch grid mapped onto the whole image, squash's frame),
 *          anomaly_map_normalized [N, crop, crop] (the pixel threshold at 0.5), and with
 *          `withCrop` image_crop uint8 [N, crop, crop, 3] (the resized, cropped input for overlays).
 */
import type { Backbone } from '../backbones/backbone.js';
import { specializedBackbone } from '../backbones/specialize.js';
import { addPatchEmbedding, type LayerShape } from '../embedding/patchEmbed.js';
import { type FoldedHead, addPatchScores, foldHead } from '../heads/scoreHead.js';
import type { HeadParams } from '../heads/params.js';
import { isKnnParams, type KnnParams, type ModelParams } from '../heads/knn.js';
import { addStitchTiles, stitchedGrid } from '../embedding/stitchTiles.js';
import { frameGeometry, tileGrid } from '../images/fit.js';
import { addPreprocessParts } from '../images/preprocess.js';
import type { SimpleNetConfig } from '../model/config.js';
import type { SimpleNetModel } from '../model/modelDir.js';
import { GraphBuilder, OPSET } from '../onnx/builder.js';
import { composedModel, inlineModel, mergeOpsets, upgradeGraph } from '../onnx/compose.js';
import { decodeModel } from '../onnx/decode.js';
import type { ModelProto } from '../onnx/model.js';
import { join } from 'node:path';
import { addAnomalyMap } from './anomalyMap.js';
import { type Calibration, calibrationRange, pixelCalibration } from '../model/calibration.js';

/**
 * Everything the graph is built from (a loaded model directory, or a model still in training).
 * @example const spec: ScoringSpec = scoringSpecOf(await loadModel('runs/bottle'));
 */
export interface ScoringSpec {
  /** The backbone, with its ONNX bytes (inlined into the graph). */
  backbone: Backbone;
  /** Where the backbone's ONNX came from, for errors (a model folder's backbone.onnx). */
  backboneSource?: string;
  /** Each backbone layer's output shape, finest first. */
  layerShapes: readonly LayerShape[];
  /** The parts of the configuration the graph depends on. */
  config: {
    image: SimpleNetConfig['image'];
    embed: SimpleNetConfig['embed'];
    head: Pick<SimpleNetConfig['head'], 'bnEps' | 'leakySlope'>;
    map: SimpleNetConfig['map'];
  };
  /** The trained head weights: SimpleNet's adaptor + discriminator, or a knn head's memory bank. */
  params: ModelParams;
  /** The folded head's Linear in int8 (precision 'int8'; heads/int8Linear.ts). Default false. */
  int8Head?: boolean;
}

/**
 * How `buildFullScoringModel` builds the graph: the thresholds baked in, the batch axis, whether
 * the head is folded, and whether the resized crop is an output.
 * @example const opts: FullScoringOptions = { calibration: detector.calibration, batch: 'dynamic', withCrop: true };
 */
export interface FullScoringOptions {
  /** The thresholds and normalisation of the label and normalised outputs. */
  calibration: Calibration;
  /** Fold adaptor + fc1 + BN into one Linear (default true); false keeps them as separate ops. */
  fold?: boolean;
  /** Batch dimension of the input: a fixed N or 'dynamic' (default). */
  batch?: number | 'dynamic';
  /** Adds the image_crop output (predict's overlays). */
  withCrop?: boolean;
  /** A precomputed fold of `params` (saves the float64 fold when several graphs are built). */
  folded?: FoldedHead;
}

export const FULL_SCORING_OUTPUTS = ['score', 'score_normalized', 'label', 'anomaly_map', 'anomaly_map_normalized'] as const;

/**
 * What a loaded model folder gives the scoring graph: its backbone, layer shapes, configuration
 * and head weights.
 * @example const proto = await buildFullScoringModel(scoringSpecOf(detector.model), { calibration: detector.calibration });
 */
export function scoringSpecOf(model: SimpleNetModel): ScoringSpec {
  return {
    backbone: model.backbone,
    backboneSource: join(model.dir, model.manifest.backbone.file),
    layerShapes: model.manifest.backbone.layerShapes,
    config: model.config,
    params: model.params,
  };
}

/**
 * The one scoring graph (see the top of scoring/fullScoringModel.ts): uint8 images of any size in;
 * image scores, labels and anomaly maps out, raw and normalised. `test`, `predict`, the service
 * and `export` all run it.
 * @throws OnnxDecodeError when the backbone's ONNX cannot be decoded; Error when it cannot be
 * inlined (the input or a layer is not one of its values, or it has control-flow subgraphs);
 * TypeError / RangeError when a head tensor has the wrong dtype or shape.
 * @example
 * const proto = await buildFullScoringModel(scoringSpecOf(detector.model), { calibration: detector.calibration, batch: 1 });
 * const session = await ort.InferenceSession.create(encodeModel(proto));
 */
export async function buildFullScoringModel(spec: ScoringSpec, opts: FullScoringOptions): Promise<ModelProto> {
  const { backbone, layerShapes, config } = spec;
  const fold = opts.fold ?? true;
  const params = spec.params;
  // A knn memory bank has nothing to fold.
  const head: HeadParams | FoldedHead | KnnParams =
    isKnnParams(params) || !fold ? params : (opts.folded ?? (await foldHead(params, { bnEps: config.head.bnEps })));
  const crop = config.image.crop;
  const batch = opts.batch === undefined || opts.batch === 'dynamic' ? 'N' : opts.batch;
  const g = new GraphBuilder('simplenet');
  const image = g.input('image', 'uint8', [batch, 'H', 'W', 3]);
  const { pixels, crop: fitted } = addPreprocessParts(g, image, { ...config.image, mean: backbone.mean, std: backbone.std });
  const tiles = tileGrid(config.image);
  const oneTile = tiles[0] === 1 && tiles[1] === 1;

  const source = spec.backboneSource ?? 'backbone.onnx';
  const decoded = decodeModel(await specializedBackbone(backbone, crop, source), source);
  const inlined = inlineModel(g, decoded, {
    prefix: 'backbone/',
    inputs: { [backbone.inputName]: pixels },
    outputs: backbone.layers,
    opset: OPSET,
    source,
  });
  const features = addPatchEmbedding(g, inlined.outputs, layerShapes, config.embed);
  // Only the folded SimpleNet head has a Linear to quantize; a knn head's distances stay float.
  const int8 = spec.int8Head === true && fold && !isKnnParams(head);
  const patch = addPatchScores(g, features, head, { fold, bnEps: config.head.bnEps, leakySlope: config.head.leakySlope, int8 });
  // Fit 'tile': each image's tiles' grids become one grid over the whole image (embedding/stitchTiles.ts).
  const perTile = { height: layerShapes[0].height, width: layerShapes[0].width };
  const grid = stitchedGrid(perTile, tiles);
  const perImage = addStitchTiles(g, patch, perTile, tiles);
  const score = g.op('ReduceMax', [perImage], { axes: [1, 2], keepdims: 0 });
  // A knn head's patch scores are distances, not log-odds: its maps are always of them as they are.
  const transform = isKnnParams(head) ? 'none' : config.map.transform;
  const map = addAnomalyMap(g, perImage, grid, { size: crop, ...config.map, transform });

  const c = opts.calibration;
  const threshold = g.scalarF32(c.imageThreshold);
  const normalize = (x: string, t: string, range: number) =>
    g.op('Clip', [g.op('Add', [g.op('Div', [g.op('Sub', [x, t]), g.scalarF32(range)]), g.scalarF32(0.5)]), g.scalarF32(0), g.scalarF32(1)]);
  const pixel = pixelCalibration(c);
  g.output(score, 'score', 'float32', [batch]);
  g.output(normalize(score, threshold, calibrationRange(c)), 'score_normalized', 'float32', [batch]);
  g.output(g.cast(g.op('Greater', [score, threshold]), 'int64'), 'label', 'int64', [batch]);
  g.output(map, 'anomaly_map', 'float32', [batch, crop, crop]);
  g.output(normalize(map, g.scalarF32(pixel.threshold), pixel.range), 'anomaly_map_normalized', 'float32', [batch, crop, crop]);
  if (opts.withCrop) {
    // Overlays are drawn in the maps' frame: for several tiles, the whole image squashed to it.
    const cropped = oneTile ? fitted : addPreprocessParts(g, image, frameGeometry(config.image)).crop;
    const hwc = g.op('Transpose', [cropped], { perm: [0, 2, 3, 1] });
    g.output(g.cast(hwc, 'uint8'), 'image_crop', 'uint8', [batch, crop, crop, 3]);
  }
  // Our nodes are written for OPSET; a newer backbone lifts the whole graph to its opset.
  const opsets = mergeOpsets({ '': OPSET }, inlined.opsets);
  return composedModel(upgradeGraph(g.graph(), OPSET, opsets['']), opsets, {});
}
