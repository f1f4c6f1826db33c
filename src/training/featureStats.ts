/** The mean per-dimension standard deviation of cached features (for a noise σ relative to it). */
import { GraphBuilder } from '../onnx/builder.js';
import { Session } from '../onnx/session.js';
import type { FeatureCache } from '../embedding/featureCache.js';

export async function featureStd(cache: FeatureCache, maxImages = 16): Promise<number> {
  const g = new GraphBuilder('simplenet_feature_std');
  let x = g.input('features', cache.plan.dtype, ['rows', cache.dim]);
  if (cache.plan.dtype === 'float16') x = g.cast(x, 'float32');
  const mean = g.op('ReduceMean', [x], { axes: [0], keepdims: 1 });
  const centred = g.op('Sub', [x, mean]);
  const variance = g.op('ReduceMean', [g.op('Mul', [centred, centred])], { axes: [0], keepdims: 0 });
  g.output(g.op('ReduceMean', [g.op('Sqrt', [variance])], { axes: [0], keepdims: 0 }), 'std', 'float32', []);
  const session = await Session.create(g.toModel(), 'feature std');
  try {
    const n = Math.min(maxImages, cache.nImages);
    // Evenly spread images, so the estimate does not depend on the first few.
    const idx = Array.from({ length: n }, (_, i) => Math.floor((i * cache.nImages) / n));
    const out = await session.run({ features: cache.batch(idx) });
    return (out.std.data as Float32Array)[0];
  } finally {
    await session.release();
  }
}
