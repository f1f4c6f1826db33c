/**
 * The one scoring path: `test`, `predict` and every later consumer score decoded images through
 * this class, which runs the one scoring graph (`buildFullScoringModel`: preprocessing, backbone,
 * patch embedding, folded head, map, threshold and normalisation) in one onnxruntime session. The
 * exported model is the same graph, so its outputs are these.
 */
import type { FeatureExtractor } from '../embedding/featureExtractor.js';
import type { HeadParams } from '../heads/params.js';
import type { DecodedImage } from '../images/decode.js';
import { exactFitProblem, type ImageGeometry } from '../images/fit.js';
import type { SimpleNetModel } from '../model/modelDir.js';
import { firstNonFinite } from '../onnx/finite.js';
import { encodeModel } from '../onnx/model.js';
import { ortTensor, Session, type SessionOptions } from '../onnx/session.js';
import type { AnomalyMapOptions } from './anomalyMap.js';
import { type Calibration, UNCALIBRATED } from '../model/calibration.js';
import { buildFullScoringModel, type FullScoringOptions, type ScoringSpec } from './fullScoringModel.js';
import { type Precision, scoringSpecAt } from './precision.js';

export interface ImageScores {
  /** Raw image scores (max patch score; higher = more anomalous), one per image. */
  scores: Float32Array;
  /** clamp((score − threshold)/(max − min) + 0.5, 0, 1) with the scorer's calibration. */
  normalized: Float32Array;
  /** 1 = anomalous (score > threshold). */
  labels: Uint8Array;
  /** Anomaly maps [B, size, size] in the crop frame (raw). */
  maps: Float32Array;
  /** The maps normalised like the scores (one colour scale for all images). */
  mapsNormalized: Float32Array;
  /** With `withCrop`: the resized, cropped RGB input [B, size, size, 3]. */
  crops?: Uint8Array;
  mapSize: number;
}

export interface ScorerOptions extends Omit<FullScoringOptions, 'calibration' | 'batch'> {
  calibration?: Calibration;
  /** The backbone's arithmetic for `fromModel` (scoring/precision.ts); default 'fp32'. */
  precision?: Precision;
  session?: SessionOptions;
  /** Names the model in errors (default: its directory for fromModel). */
  label?: string;
}

/**
 * An image the fit would shrink beyond the resampling's exact range (images/fit.ts
 * `MAX_EXACT_DOWNSCALE`): scoring it could differ from PIL's preprocessing, so it is refused.
 * @example try { await detector.score('strip.png'); } catch (e) { if (e instanceof ImageFitError) console.error(e.message); }
 */
export class ImageFitError extends RangeError {
  override name = 'ImageFitError';
}

/**
 * Throws naming the image when `geometry`'s fit would shrink it more than `MAX_EXACT_DOWNSCALE`
 * along an axis (`Scorer.score` checks every image; the service checks before queueing).
 * @throws ImageFitError naming the image, its size, the shrink and the fit.
 * @example checkExactFit(await decodeImage('strip.png'), model.config.image);
 */
export function checkExactFit(im: Pick<DecodedImage, 'width' | 'height' | 'source'>, geometry: ImageGeometry): void {
  const problem = exactFitProblem(im.width, im.height, geometry, im.source);
  if (problem) throw new ImageFitError(problem);
}

/**
 * A score or map came out NaN or ±Inf: the model is broken for this image, which must not get a
 * label. Thrown by `Detector.score` and `Detector.scoreBatch`; `scoreMany` yields it as an
 * `{ ok: false }` entry.
 * @example
 * try { await detector.score('part.png'); } catch (e) { if (e instanceof NonFiniteScoreError) console.error('model is broken:', e.message); }
 */
export class NonFiniteScoreError extends Error {
  override name = 'NonFiniteScoreError';
}

export class Scorer {
  private constructor(
    private readonly session: Session,
    readonly mapSize: number,
    readonly calibration: Calibration,
    private readonly withCrop: boolean,
    private readonly label: string,
    private readonly geometry: ImageGeometry,
    /**
     * Runs of the graph this scorer serves at once: its session's worker threads, else 1 (a run
     * then holds the calling thread). `scoreImages` keeps this many in flight.
     */
    readonly runs: number,
  ) {}

  /**
   * A scorer for a loaded model directory (its stored calibration unless one is given), at
   * `opts.precision`.
   * @throws PrecisionError when 'int8' is asked for and the folder has no matching calibration.
   */
  static async fromModel(model: SimpleNetModel, opts: ScorerOptions = {}): Promise<Scorer> {
    return Scorer.fromSpec(await scoringSpecAt(model, opts.precision), {
      ...opts,
      calibration: opts.calibration ?? model.manifest.scoring ?? UNCALIBRATED,
      label: opts.label ?? `model ${model.dir}`,
    });
  }

  static async fromSpec(spec: ScoringSpec, opts: ScorerOptions = {}): Promise<Scorer> {
    const calibration = opts.calibration ?? UNCALIBRATED;
    const model = await buildFullScoringModel(spec, { ...opts, calibration });
    // The label names the model folder when there is one: a weights file corrupted past its
    // checksum (a mangled attribute name in backbone.onnx) first fails here, inside onnxruntime.
    const session = await Session.create(encodeModel(model), `${opts.label ?? 'the model'}: scoring graph`, opts.session);
    return new Scorer(
      session,
      spec.config.image.crop,
      calibration,
      Boolean(opts.withCrop),
      opts.label ?? 'the model',
      spec.config.image,
      Math.max(1, opts.session?.workers ?? 0),
    );
  }

  /** A scorer for weights still in training (raw scores only; used by test-split monitoring). */
  static async create(
    extractor: FeatureExtractor,
    params: HeadParams,
    opts: { map: AnomalyMapOptions; bnEps: number; leakySlope: number; fold?: boolean },
  ): Promise<Scorer> {
    const { image, embed } = extractor.options;
    const spec: ScoringSpec = {
      backbone: extractor.backbone,
      layerShapes: extractor.layerShapes,
      params,
      config: {
        // An extractor built without a fit preprocesses with the paper's crop (preprocess.ts).
        image: { ...image, fit: image.fit ?? 'crop', tiles: image.tiles ?? [1, 1] },
        embed: { ...embed },
        head: { bnEps: opts.bnEps, leakySlope: opts.leakySlope },
        map: { transform: opts.map.transform ?? 'none', sigma: opts.map.sigma, truncate: opts.map.truncate },
      },
    };
    if (opts.map.size !== image.crop) throw new RangeError(`Scorer: map size ${opts.map.size} must equal the crop ${image.crop}`);
    return Scorer.fromSpec(spec, { fold: opts.fold, label: 'the weights being trained' });
  }

  /**
   * Scores decoded RGB images. Images of one size run as one batch; mixed sizes run one image at a
   * time (the graph takes one size per batch), in order.
   */
  async score(images: readonly DecodedImage[]): Promise<ImageScores> {
    if (images.length === 0) throw new RangeError('Scorer.score: no images');
    for (const im of images) {
      if (im.channels !== 3) throw new TypeError(`Scorer: expected an RGB image, got ${im.channels} channel(s)`);
      checkExactFit(im, this.geometry);
    }
    const sameSize = images.every((im) => im.width === images[0].width && im.height === images[0].height);
    if (!sameSize) {
      const parts: ImageScores[] = [];
      for (const im of images) parts.push(await this.score([im]));
      return concatScores(parts, this.mapSize);
    }
    const { width, height } = images[0];
    const pixels = images.length === 1 ? images[0].data : new Uint8Array(images.length * width * height * 3);
    if (images.length > 1) images.forEach((im, i) => pixels.set(im.data, i * width * height * 3));
    const fetches = ['score', 'score_normalized', 'label', 'anomaly_map', 'anomaly_map_normalized'];
    if (this.withCrop) fetches.push('image_crop');
    const out = await this.session.run({ image: ortTensor('uint8', [images.length, height, width, 3], pixels) }, fetches);
    const labels = out.label.data as BigInt64Array;
    this.checkFinite(images, out.score.data as Float32Array, out.anomaly_map.data as Float32Array);
    return {
      scores: out.score.data as Float32Array,
      normalized: out.score_normalized.data as Float32Array,
      labels: Uint8Array.from(labels, (v) => Number(v)),
      maps: out.anomaly_map.data as Float32Array,
      mapsNormalized: out.anomaly_map_normalized.data as Float32Array,
      crops: this.withCrop ? (out.image_crop.data as Uint8Array) : undefined,
      mapSize: this.mapSize,
    };
  }

  /**
   * Throws naming the image when its score or map is NaN or ±Inf. The maps are checked too: the
   * image score is a max, which may skip a NaN patch. One pass over a 288×288 map costs about
   * 0.15 ms, against about 170 ms to score an image (README: predict, 5.75 images/s).
   */
  private checkFinite(images: readonly DecodedImage[], scores: Float32Array, maps: Float32Array): void {
    const perMap = this.mapSize * this.mapSize;
    const s = firstNonFinite(scores);
    const m = s >= 0 ? -1 : firstNonFinite(maps);
    if (s < 0 && m < 0) return;
    const i = s >= 0 ? s : Math.floor(m / perMap);
    const what = s >= 0 ? `score ${scores[s]}` : `anomaly map value ${maps[m]}`;
    const name = images[i].source ?? `image ${i + 1} of ${images.length}`;
    throw new NonFiniteScoreError(`${name}: ${this.label} gives a non-finite ${what} for this image; its weights or this input overflow, so it gets no label`);
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function concatScores(parts: ImageScores[], mapSize: number): ImageScores {
  const cat = <T extends Float32Array | Uint8Array>(get: (p: ImageScores) => T | undefined, make: (n: number) => T): T => {
    const arrays = parts.map(get) as T[];
    const out = make(arrays.reduce((a, x) => a + x.length, 0));
    let o = 0;
    for (const a of arrays) {
      out.set(a, o);
      o += a.length;
    }
    return out;
  };
  return {
    scores: cat(
      (p) => p.scores,
      (n) => new Float32Array(n),
    ),
    normalized: cat(
      (p) => p.normalized,
      (n) => new Float32Array(n),
    ),
    labels: cat(
      (p) => p.labels,
      (n) => new Uint8Array(n),
    ),
    maps: cat(
      (p) => p.maps,
      (n) => new Float32Array(n),
    ),
    mapsNormalized: cat(
      (p) => p.mapsNormalized,
      (n) => new Float32Array(n),
    ),
    crops: parts[0].crops
      ? cat(
          (p) => p.crops,
          (n) => new Uint8Array(n),
        )
      : undefined,
    mapSize,
  };
}
