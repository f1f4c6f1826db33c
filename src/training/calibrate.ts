/**
 * The stored calibration ('train-max'), computed at the end of training from the cached training
 * features: each training image's own image score (max patch score through the folded head, the
 * head the scoring graph uses), threshold = their max, normalisation range = their min..max. No test
 * data is involved. Cached features may be float16, so these scores can differ from the scoring
 * graph's by float16 rounding; the threshold is a calibration, not a parity value.
 */
import { addPatchScores, foldHead } from '../heads/scoreHead.js';
import { isKnnParams, type ModelParams } from '../heads/knn.js';
import { GraphBuilder } from '../onnx/builder.js';
import { Session } from '../onnx/session.js';
import { type Calibration, trainMaxCalibration } from '../model/calibration.js';
import type { FeatureCache } from '../embedding/featureCache.js';

export async function calibrateFromCache(
  cache: FeatureCache,
  params: ModelParams,
  opts: { bnEps: number; leakySlope: number; batchImages?: number },
): Promise<Calibration> {
  return trainMaxCalibration(await trainingImageScores(cache, params, opts));
}

/** Each cached training image's image score (max patch score) through the folded head. */
export async function trainingImageScores(
  cache: FeatureCache,
  params: ModelParams,
  opts: { bnEps: number; leakySlope: number; batchImages?: number },
): Promise<Float32Array> {
  // A knn head scores by distance to its memory bank: nothing to fold.
  const head = isKnnParams(params) ? params : await foldHead(params, { bnEps: opts.bnEps });
  const g = new GraphBuilder('simplenet_train_scores');
  let features = g.input('features', cache.plan.dtype, ['rows', cache.dim]);
  if (cache.plan.dtype === 'float16') features = g.cast(features, 'float32');
  const patch = addPatchScores(g, features, head, { fold: true, bnEps: opts.bnEps, leakySlope: opts.leakySlope });
  const perImage = g.op('Reshape', [patch, g.ints([-1, cache.rowsPerImage])]);
  g.output(g.op('ReduceMax', [perImage], { axes: [1], keepdims: 0 }), 'score', 'float32', ['images']);
  const session = await Session.create(g.toModel(), 'training-image scores');
  const scores = new Float32Array(cache.nImages);
  const step = opts.batchImages ?? 8;
  try {
    for (let start = 0; start < cache.nImages; start += step) {
      const indices = Array.from({ length: Math.min(step, cache.nImages - start) }, (_, k) => start + k);
      const out = await session.run({ features: cache.batch(indices) });
      scores.set(out.score.data as Float32Array, start);
    }
  } finally {
    await session.release();
  }
  return scores;
}
