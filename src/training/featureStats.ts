/** Per-dimension statistics of cached training features (for a noise σ or an adaptor init relative to them). */
import { GraphBuilder } from '../onnx/builder.js';
import { Session } from '../onnx/session.js';
import type { FeatureCache } from '../embedding/featureCache.js';

/** Per-dimension mean and (population) std of the features, and the std's mean over dimensions. */
export interface FeatureMoments {
  mean: Float32Array;
  std: Float32Array;
  meanStd: number;
}

export async function featureMoments(cache: FeatureCache, maxImages = 16): Promise<FeatureMoments> {
  const g = new GraphBuilder('simplenet_feature_moments');
  let x = g.input('features', cache.plan.dtype, ['rows', cache.dim]);
  if (cache.plan.dtype === 'float16') x = g.cast(x, 'float32');
  const mean = g.op('ReduceMean', [x], { axes: [0], keepdims: 1 });
  const centred = g.op('Sub', [x, mean]);
  const std = g.op('Sqrt', [g.op('ReduceMean', [g.op('Mul', [centred, centred])], { axes: [0], keepdims: 0 })]);
  g.output(g.op('Squeeze', [mean, g.ints([0])]), 'mean', 'float32', [cache.dim]);
  g.output(std, 'std', 'float32', [cache.dim]);
  const session = await Session.create(g.toModel(), 'feature moments');
  try {
    const n = Math.min(maxImages, cache.nImages);
    // Evenly spread images, so the estimate does not depend on the first few.
    const idx = Array.from({ length: n }, (_, i) => Math.floor((i * cache.nImages) / n));
    const out = await session.run({ features: cache.batch(idx) });
    const s = out.std.data as Float32Array;
    return { mean: out.mean.data as Float32Array, std: s, meanStd: s.reduce((a, b) => a + b, 0) / s.length };
  } finally {
    await session.release();
  }
}

/** The mean per-dimension standard deviation of cached features. */
export async function featureStd(cache: FeatureCache, maxImages = 16): Promise<number> {
  return (await featureMoments(cache, maxImages)).meanStd;
}
