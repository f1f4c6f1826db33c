/**
 * The back half of the one scoring path, as one graph: backbone layers → patch embedding (the same
 * nodes training used) → folded head → patch scores → image score (max over patches, before any
 * upsampling, spec §7) and anomaly map (bilinear to the crop size, Gaussian σ=4).
 */
import { layerInputs } from '../embedding/featureExtractor.js';
import { addPatchEmbedding, type LayerShape, type PatchEmbedOptions } from '../embedding/patchEmbed.js';
import type { FoldedHead } from '../heads/scoreHead.js';
import { addPatchScores } from '../heads/scoreHead.js';
import type { HeadParams } from '../heads/params.js';
import { GraphBuilder } from '../onnx/builder.js';
import { addAnomalyMap, type AnomalyMapOptions } from './anomalyMap.js';

export interface ScoringGraphOptions {
  layerShapes: readonly LayerShape[];
  embed: PatchEmbedOptions;
  map: AnomalyMapOptions;
  bnEps: number;
  leakySlope: number;
}

export const SCORING_OUTPUTS = ['score', 'anomaly_map', 'patch_scores'] as const;

export function buildScoringGraph(head: HeadParams | FoldedHead, opts: ScoringGraphOptions): Uint8Array {
  const g = new GraphBuilder('simplenet_scoring');
  const shapes = opts.layerShapes;
  const grid = { height: shapes[0].height, width: shapes[0].width };
  const features = addPatchEmbedding(g, layerInputs(g, shapes), shapes, opts.embed);
  const fold = 'kind' in head && head.kind === 'folded';
  const patch = addPatchScores(g, features, head, { fold, bnEps: opts.bnEps, leakySlope: opts.leakySlope });
  const perImage = g.op('Reshape', [patch, g.ints([-1, grid.height, grid.width])]);
  const score = g.op('ReduceMax', [perImage], { axes: [1, 2], keepdims: 0 });
  const map = addAnomalyMap(g, perImage, grid, opts.map);
  g.output(score, 'score', 'float32', ['batch']);
  g.output(map, 'anomaly_map', 'float32', ['batch', opts.map.size, opts.map.size]);
  g.output(perImage, 'patch_scores', 'float32', ['batch', grid.height, grid.width]);
  return g.toModel();
}
