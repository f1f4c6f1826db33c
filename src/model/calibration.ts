/**
 * Score calibration stored with a model: decision thresholds for images and pixels and the ranges
 * used for anomalib-style normalisation, normalised = clamp((x − threshold) / (max − min) + 0.5, 0, 1),
 * so 0.5 is the threshold. Training derives it from good images held out of training (the
 * validation split), never from test data; with no validation split, from the training images' own
 * scores ('train-max'). `test --threshold-from test` builds an oracle one, labelled as such.
 */
import { normalQuantile } from '../metrics/normalQuantile.js';

/**
 * Summary of the scores a threshold was derived from (kept so users can judge the threshold).
 * @example
 * const s = detector.calibration.stats?.images;
 * if (s) console.log(`${s.n} held-out images, scores ${s.min}..${s.max}, q${s.q} = ${s.quantile}`);
 */
export interface ScoreStats {
  /** How many scores. */
  n: number;
  /** Mean score. */
  mean: number;
  /** Population standard deviation. */
  std: number;
  /** Lowest score. */
  min: number;
  /** Highest score. */
  max: number;
  /** The q-quantile (numpy's default linear interpolation) and q. */
  quantile: number;
  /** The quantile's level, e.g. 0.995. */
  q: number;
}

/**
 * A model's decision thresholds and score normalisation (see the comment at the top of
 * model/calibration.ts), stored in its manifest and baked into the scoring graph. `Detector` has
 * the one in force as `detector.calibration`.
 * @example
 * const c: Calibration = { ...detector.calibration, imageThreshold: 0.4, thresholdSource: 'user' };
 * const strict = detector.withCalibration(c);
 */
export interface Calibration {
  /** Raw image score above which an image is labelled anomalous (label = score > threshold). */
  imageThreshold: number;
  /** Image normalisation range: (score − threshold) / (max − min) + 0.5, clamped to [0, 1]. */
  min: number;
  /** Upper end of the image normalisation range. */
  max: number;
  /**
   * Raw anomaly-map value above which a pixel is anomalous, and the maps' normalisation range.
   * Absent in older models: maps then use the image threshold and range.
   */
  pixelThreshold?: number;
  /** Lower end of the maps' normalisation range (with `pixelThreshold`). */
  pixelMin?: number;
  /** Upper end of the maps' normalisation range (with `pixelThreshold`). */
  pixelMax?: number;
  /**
   * Where the image threshold came from: 'validation-quantile', 'training-floor' (the training
   * images' estimate, above the held-out one: `withTrainingFloor`), 'validation-f1', 'train-max',
   * 'user' (--threshold), 'test-f1 (oracle)', 'none' (raw scores only).
   */
  thresholdSource: string;
  /** How the held-out quantile was estimated ('validation-quantile' thresholds; absent: 'empirical'). */
  estimator?: QuantileEstimator;
  /** Image scores and per-image map maxima of the images the thresholds came from. */
  stats?: { images: ScoreStats; mapMax?: ScoreStats };
  /**
   * The floor laid under held-out thresholds (config `threshold.floor: 'training'`): the same
   * estimates from the training images' own scores. The thresholds above are the larger of the two.
   */
  floor?: TrainingFloor;
}

/**
 * The training images' estimates that a held-out threshold may not go below, and their scores.
 * @example
 * const f = detector.calibration.floor;
 * if (f && f.imageThreshold >= detector.calibration.imageThreshold) console.log('the training floor sets the threshold');
 */
export interface TrainingFloor {
  /** The image threshold the training images' scores give (same quantile and estimator). */
  imageThreshold: number;
  /** The pixel threshold their map maxima give. */
  pixelThreshold: number;
  /** Their image scores and per-image map maxima. */
  stats: { images: ScoreStats; mapMax: ScoreStats };
}

/** For graphs whose only use is raw scores (test-split monitoring during training). */
export const UNCALIBRATED: Calibration = { imageThreshold: 0, min: 0, max: 1, thresholdSource: 'none' };

/** numpy.quantile with its default linear interpolation; `sorted` ascending. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile: no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function scoreStats(values: ArrayLike<number>, q: number): ScoreStats {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) throw new RangeError('calibration: no scores');
  if (!Number.isFinite(sorted[0]) || !Number.isFinite(sorted[sorted.length - 1])) {
    throw new RangeError('calibration: scores are not finite');
  }
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / sorted.length;
  let ss = 0;
  for (const v of sorted) ss += (v - mean) ** 2;
  return {
    n: sorted.length,
    mean,
    std: Math.sqrt(ss / sorted.length),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    quantile: quantileSorted(sorted, q),
    q,
  };
}

/**
 * How a threshold estimates the q-quantile of good scores (config `threshold.estimator`).
 * @example const e: QuantileEstimator = 'normal';
 */
export type QuantileEstimator = 'empirical' | 'normal';

/**
 * The q-quantile of good scores as `estimator` estimates it: 'empirical' is numpy's quantile of
 * the scores (`stats.quantile`); 'normal' is the larger of that and mean + z_q · s (s the sample
 * standard deviation, z_q the standard normal's q-quantile). With n held-out images the empirical
 * quantile cannot exceed their maximum, which a new good image exceeds with probability about
 * 1 / (n + 1) (4.5 % for n = 21) whatever q asks; the normal estimate extrapolates the tail from
 * the scores' own spread, and never goes below what was observed.
 * @throws RangeError when stats.q is not in (0, 1) for 'normal'.
 * @example upperQuantile({ n: 21, mean: 1, std: 0.2, min: 0.7, max: 1.4, quantile: 1.39, q: 0.995 }, 'normal'); // 1.528
 */
export function upperQuantile(stats: ScoreStats, estimator: QuantileEstimator): number {
  if (estimator === 'empirical' || stats.n < 2) return stats.quantile;
  const sample = stats.std * Math.sqrt(stats.n / (stats.n - 1));
  return Math.max(stats.quantile, stats.mean + normalQuantile(stats.q) * sample);
}

/** Calibration from the training images' own image scores: threshold = their max. */
export function trainMaxCalibration(scores: ArrayLike<number>): Calibration {
  const s = scoreStats(scores, 1);
  return { imageThreshold: s.max, min: s.min, max: s.max, thresholdSource: 'train-max', stats: { images: s } };
}

/**
 * Calibration from good held-out images: image threshold = the q-quantile of their image scores;
 * pixel threshold = the q-quantile of their per-image map maxima, so that a good image shows a
 * predicted defect region about as often as it is labelled anomalous (a quantile over all pixels
 * would instead mark 1 − q of every good image). Ranges are the observed min..max.
 */
export function goodImagesCalibration(
  scores: ArrayLike<number>,
  maps: { max: ArrayLike<number>; min: number; maxValue: number },
  q: number,
  estimator: QuantileEstimator = 'empirical',
): Calibration {
  const images = scoreStats(scores, q);
  const mapMax = scoreStats(maps.max, q);
  return {
    imageThreshold: upperQuantile(images, estimator),
    min: images.min,
    max: images.max,
    pixelThreshold: upperQuantile(mapMax, estimator),
    estimator,
    pixelMin: maps.min,
    pixelMax: maps.maxValue,
    thresholdSource: 'validation-quantile',
    stats: { images, mapMax },
  };
}

/**
 * How many training images score above an image threshold taken from held-out images, when that
 * is more than ten times the share the quantile asks for (1 − q) and at least 3 images; otherwise
 * undefined. A model fitted to its training images scores them lower than new good images on
 * average, not higher, so that many above says the held-out images likely understate how good
 * images vary: new good images would be flagged more often than asked.
 * @example
 * const over = trainingImagesAbove(result.trainingScores, calibration.imageThreshold, 0.995);
 * if (over) console.warn(`${over.above} of ${over.n} training images score above the threshold`);
 */
export function trainingImagesAbove(scores: ArrayLike<number>, threshold: number, q: number): { above: number; n: number } | undefined {
  let above = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > threshold) above++;
  return above >= 3 && above > 10 * (1 - q) * scores.length ? { above, n: scores.length } : undefined;
}

/**
 * Lays the training images' estimates under held-out thresholds: each threshold becomes the larger
 * of the two. Why: a threshold from ~20 held-out images rests on a spread measured on few images,
 * and those images also chose the kept epoch (they are its validation negatives), so both push it
 * low; the training images are many, and a model that fits them scores them lower than new good
 * images on average, not higher, so their estimate is a floor that new good images' scores reach.
 * On a model that has memorised its training images the floor sits low and changes nothing.
 * Ranges stay the held-out ones; the source says 'training-floor' where the floor sets the image
 * threshold, so reports and the service name where the number came from.
 * @throws RangeError when either calibration has no pixel threshold.
 * @example
 * const c = withTrainingFloor(goodImagesCalibration(held, heldMaps, 0.995, 'normal'), goodImagesCalibration(train, trainMaps, 0.995, 'normal'));
 */
export function withTrainingFloor(heldOut: Calibration, training: Calibration): Calibration {
  if (heldOut.pixelThreshold === undefined || training.pixelThreshold === undefined || !training.stats?.mapMax) {
    throw new RangeError('withTrainingFloor: both calibrations need pixel thresholds and map statistics (goodImagesCalibration)');
  }
  return {
    ...heldOut,
    imageThreshold: Math.max(heldOut.imageThreshold, training.imageThreshold),
    thresholdSource: training.imageThreshold > heldOut.imageThreshold ? 'training-floor' : heldOut.thresholdSource,
    pixelThreshold: Math.max(heldOut.pixelThreshold, training.pixelThreshold),
    floor: {
      imageThreshold: training.imageThreshold,
      pixelThreshold: training.pixelThreshold,
      stats: { images: training.stats.images, mapMax: training.stats.mapMax },
    },
  };
}

/**
 * The largest value strictly below `t` among `values` (or just below t): with it as the threshold,
 * `x > threshold` selects exactly the values `x >= t` that F1-max thresholds are defined with.
 */
export function strictThresholdBelow(values: ArrayLike<number>, t: number): number {
  let best = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] < t && values[i] > best) best = values[i];
  return Number.isFinite(best) ? best : t - Math.max(Math.abs(t), 1) * 1e-6;
}

/** The normalisation denominator; a degenerate range (one image) falls back to 1. */
export function calibrationRange(c: Calibration): number {
  return rangeOf(c.min, c.max);
}

/** The pixel threshold and range the maps use (the image ones for older models). */
export function pixelCalibration(c: Calibration): { threshold: number; range: number } {
  if (c.pixelThreshold === undefined) return { threshold: c.imageThreshold, range: calibrationRange(c) };
  return { threshold: c.pixelThreshold, range: rangeOf(c.pixelMin ?? 0, c.pixelMax ?? 1) };
}

function rangeOf(min: number, max: number): number {
  const r = max - min;
  return r > 0 && Number.isFinite(r) ? r : 1;
}

/**
 * The same formula as the graph, clamp((score − threshold) / (max − min) + 0.5, 0, 1), for values
 * computed outside it (tests, reports): 0.5 is the threshold.
 * @example const n = normalizeScore(rawScore, detector.calibration); // > 0.5: anomalous
 */
export function normalizeScore(score: number, c: Calibration): number {
  return Math.min(1, Math.max(0, (score - c.imageThreshold) / calibrationRange(c) + 0.5));
}

/** Checks a calibration read from a file; `source` names it in errors. */
export function parseCalibration(v: unknown, source: string): Calibration {
  const o = v as Partial<Calibration> | null;
  if (!o || typeof o !== 'object') throw new Error(`${source}: scoring must be an object`);
  type NumKey = 'imageThreshold' | 'min' | 'max' | 'pixelThreshold' | 'pixelMin' | 'pixelMax';
  const num = (k: NumKey, optional = false) => {
    const x = o[k];
    if (optional && x === undefined) return undefined;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${source}: scoring.${k} must be a finite number, got ${JSON.stringify(x)}`);
    return x;
  };
  const c: Calibration = {
    imageThreshold: num('imageThreshold') as number,
    min: num('min') as number,
    max: num('max') as number,
    thresholdSource: String(o.thresholdSource ?? 'unknown'),
  };
  const pixelThreshold = num('pixelThreshold', true);
  if (pixelThreshold !== undefined) {
    c.pixelThreshold = pixelThreshold;
    c.pixelMin = num('pixelMin') as number;
    c.pixelMax = num('pixelMax') as number;
  }
  if (o.estimator === 'normal' || o.estimator === 'empirical') c.estimator = o.estimator;
  if (o.stats && typeof o.stats === 'object') c.stats = o.stats;
  if (o.floor && typeof o.floor === 'object') c.floor = o.floor;
  return c;
}
