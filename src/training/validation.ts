/**
 * The validation split: good training images held out of training so that thresholds come from
 * images the detector has not fitted (never from the test split). Scored through the one scoring
 * graph, exactly as `test` and `predict` will score.
 */
import type { Reporter } from '../core/progress.js';
import type { Sample } from '../datasets/dataset.js';
import { Rng } from '../core/rng.js';
import { heldOutCount } from './epochs.js';
import { scoreAll } from '../scoring/scoreImages.js';
import { type Calibration, goodImagesCalibration, type QuantileEstimator } from '../model/calibration.js';
import type { Scorer } from '../scoring/scorer.js';

/** Its own stream, so the split does not shift the init and shuffle streams seeded with `seed`. */
const SPLIT_STREAM = 0x7a11d;

/**
 * Holds out round(n · fraction) images (at least 1 when fraction > 0, and always leaving one to
 * train on), chosen by a seeded shuffle. Both parts keep the original order.
 */
export function splitValidation(train: Sample[], fraction: number, seed: number): { train: Sample[]; validation: Sample[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`splitValidation: fraction must be in [0, 1), got ${fraction}`);
  const n = heldOutCount(train.length, fraction);
  if (n === 0) return { train, validation: [] };
  const held = seededChoice(train.length, n, seed ^ SPLIT_STREAM);
  return { train: train.filter((_, i) => !held.has(i)), validation: train.filter((_, i) => held.has(i)) };
}

/** How many training images the threshold floor scores at most: enough for a mean and a spread. */
export const FLOOR_IMAGES = 256;
/** Its own stream, so choosing the floor's images shifts no other draw. */
const FLOOR_STREAM = 0xf1002;

/** Up to FLOOR_IMAGES of the training images, chosen by a seeded shuffle, in their original order. */
export function floorImages(train: Sample[], seed: number): Sample[] {
  if (train.length <= FLOOR_IMAGES) return train;
  const keep = seededChoice(train.length, FLOOR_IMAGES, seed ^ FLOOR_STREAM);
  return train.filter((_, i) => keep.has(i));
}

/** The indices of n of `count` items, chosen by a seeded shuffle (both choices above). */
function seededChoice(count: number, n: number, seed: number): Set<number> {
  return new Set(new Rng(seed).shuffle(Array.from({ length: count }, (_, i) => i)).slice(0, n));
}

/**
 * Scores good images (held out, or the training images for the floor) through the scoring graph
 * and derives the quantile thresholds from their image scores and map maxima.
 */
export async function calibrateOnGoodImages(
  scorer: Scorer,
  samples: Sample[],
  opts: { quantile: number; estimator?: QuantileEstimator; reporter: Reporter; label?: string },
): Promise<Calibration> {
  if (samples.length === 0) throw new RangeError('calibrateOnGoodImages: no images');
  const scores = new Float64Array(samples.length);
  const mapMax = new Float64Array(samples.length);
  let min = Infinity;
  let max = -Infinity;
  const bar = opts.reporter.bar(opts.label ?? 'thresholds from validation images', samples.length);
  let i = 0;
  for await (const { result: r } of scoreAll(scorer, samples, { source: (s) => s.path, prefetch: 2 })) {
    scores[i] = r.score;
    let m = -Infinity;
    for (const v of r.map) {
      if (v > m) m = v;
      if (v < min) min = v;
    }
    mapMax[i++] = m;
    max = Math.max(max, m);
    bar.tick();
  }
  bar.done();
  return goodImagesCalibration(scores, { max: mapMax, min, maxValue: max }, opts.quantile, opts.estimator);
}
