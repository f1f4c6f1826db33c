/**
 * The one scoring path: `test`, `predict` and every later consumer score images through this class
 * (decode → preprocessing graph → backbone → scoring graph). Nothing re-implements any step.
 */
import type { FeatureExtractor } from '../embedding/featureExtractor.js';
import { foldHead } from '../heads/scoreHead.js';
import type { HeadParams } from '../heads/params.js';
import type { DecodedImage } from '../images/decode.js';
import { type OrtTensor, Session } from '../onnx/session.js';
import type { AnomalyMapOptions } from './anomalyMap.js';
import { buildScoringGraph } from './scoringGraph.js';

export interface ImageScores {
  /** Raw image scores (max patch score; higher = more anomalous), one per image. */
  scores: Float32Array;
  /** Anomaly maps [B, size, size] in the crop frame. */
  maps: Float32Array;
  mapSize: number;
}

export class Scorer {
  private constructor(
    readonly extractor: FeatureExtractor,
    private readonly session: Session,
    readonly mapSize: number,
  ) {}

  static async create(
    extractor: FeatureExtractor,
    params: HeadParams,
    opts: { map: AnomalyMapOptions; bnEps: number; leakySlope: number; fold?: boolean },
  ): Promise<Scorer> {
    const head = opts.fold === false ? params : await foldHead(params, { bnEps: opts.bnEps });
    const model = buildScoringGraph(head, {
      layerShapes: extractor.layerShapes,
      embed: extractor.options.embed,
      map: opts.map,
      bnEps: opts.bnEps,
      leakySlope: opts.leakySlope,
    });
    return new Scorer(extractor, await Session.create(model, 'scoring'), opts.map.size);
  }

  async score(images: readonly DecodedImage[]): Promise<ImageScores> {
    const layers = await this.extractor.backboneLayers(images);
    const feeds: Record<string, OrtTensor> = {};
    layers.forEach((t, i) => (feeds[`layer${i}`] = t));
    const out = await this.session.run(feeds, ['score', 'anomaly_map']);
    return { scores: out.score.data as Float32Array, maps: out.anomaly_map.data as Float32Array, mapSize: this.mapSize };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
