/**
 * Image-score calibration stored with a model: the decision threshold and the range used for
 * anomalib-style normalisation, normalised = clamp((score − threshold) / (max − min) + 0.5, 0, 1),
 * so 0.5 is the threshold. It is never derived from test data: training computes it from the
 * training images' own scores ('train-max': threshold = their max, min/max = their range).
 */

export interface Calibration {
  /** Raw image score above which an image is labelled anomalous (label = score > threshold). */
  imageThreshold: number;
  /** Normalisation range: (score − threshold) / (max − min) + 0.5, clamped to [0, 1]. */
  min: number;
  max: number;
  /** Where the threshold came from: 'train-max', 'user' (--threshold), 'none' (raw scores only). */
  thresholdSource: string;
}

/** For graphs whose only use is raw scores (test-split monitoring during training). */
export const UNCALIBRATED: Calibration = { imageThreshold: 0, min: 0, max: 1, thresholdSource: 'none' };

/** Calibration from the training images' own image scores: threshold = their max. */
export function trainMaxCalibration(scores: ArrayLike<number>): Calibration {
  if (scores.length === 0) throw new RangeError('calibration: no training scores');
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    min = Math.min(min, scores[i]);
    max = Math.max(max, scores[i]);
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError('calibration: training scores are not finite');
  return { imageThreshold: max, min, max, thresholdSource: 'train-max' };
}

/** The normalisation denominator; a degenerate range (one training image) falls back to 1. */
export function calibrationRange(c: Calibration): number {
  const r = c.max - c.min;
  return r > 0 && Number.isFinite(r) ? r : 1;
}

/** The same formula as the graph, for values computed outside it (tests, reports). */
export function normalizeScore(score: number, c: Calibration): number {
  return Math.min(1, Math.max(0, (score - c.imageThreshold) / calibrationRange(c) + 0.5));
}

/** Checks a calibration read from a file; `source` names it in errors. */
export function parseCalibration(v: unknown, source: string): Calibration {
  const o = v as Partial<Calibration> | null;
  const num = (k: 'imageThreshold' | 'min' | 'max') => {
    const x = o?.[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${source}: scoring.${k} must be a finite number, got ${JSON.stringify(x)}`);
    return x;
  };
  if (!o || typeof o !== 'object') throw new Error(`${source}: scoring must be an object`);
  return { imageThreshold: num('imageThreshold'), min: num('min'), max: num('max'), thresholdSource: String(o.thresholdSource ?? 'unknown') };
}
