/** head.noiseLocality: each row's σ factor from its distance to other images' patches, and the step that takes it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import { FeatureCache } from '../../embedding/featureCache.js';
import { randomProjection } from '../../heads/coreset.js';
import { headConfig } from '../../heads/config.js';
import { initHeadParams, PARAM_NAMES } from '../../heads/params.js';
import { TrainStep } from '../../heads/trainStep.js';
import { ortTensor } from '../../onnx/session.js';
import { batchFactors, LOCAL_SCALE_RANGE, localNoiseScales } from '../localScale.js';

const IMAGES = 5;
const ROWS = 6;
const DIM = 10;
const P = 4;
const SEED = 7;

function cacheOf(values: Float32Array): FeatureCache {
  const cache = new FeatureCache({ dtype: 'float32', storage: 'memory', bytes: 0 }, IMAGES, ROWS, DIM);
  for (let i = 0; i < IMAGES; i++) cache.put(i, ortTensor('float32', [ROWS, DIM], values.slice(i * ROWS * DIM, (i + 1) * ROWS * DIM)));
  return cache;
}

/** The module's definition, computed directly: projection, nearest row of the other half (whole bank), clamp, mean 1. */
function expected(values: Float32Array, locality: number): Float32Array {
  const w = randomProjection(DIM, P, new Rng(SEED ^ 0x10ca1)).data;
  const proj = (r: number) =>
    Array.from({ length: P }, (_, j) => {
      let s = 0;
      for (let k = 0; k < DIM; k++) s += values[r * DIM + k] * w[k * P + j];
      return s;
    });
  const n = IMAGES * ROWS;
  const p = Array.from({ length: n }, (_, r) => proj(r));
  const d = Array.from({ length: n }, (_, r) => {
    const half = Math.floor(r / ROWS) % 2;
    let best = Number.POSITIVE_INFINITY;
    for (let o = 0; o < n; o++) {
      if (Math.floor(o / ROWS) % 2 === half) continue;
      best = Math.min(best, Math.hypot(...p[r].map((v, j) => v - p[o][j])));
    }
    return best;
  });
  const mean = d.reduce((a, b) => a + b, 0) / n;
  const f = d.map((x) => Math.min(LOCAL_SCALE_RANGE[1], Math.max(LOCAL_SCALE_RANGE[0], (x / mean) ** locality)));
  const fm = f.reduce((a, b) => a + b, 0) / n;
  return Float32Array.from(f, (x) => x / fm);
}

function features(): Float32Array {
  const rng = new Rng(3);
  const v = Float32Array.from({ length: IMAGES * ROWS * DIM }, () => rng.normal());
  // Image 1's row 2 repeats image 0's row 4: distance 0, so its factor is the clamp's floor.
  v.set(v.slice(4 * DIM, 5 * DIM), (ROWS + 2) * DIM);
  // Image 3's row 0 far away from everything: the clamp's ceiling.
  for (let k = 0; k < DIM; k++) v[3 * ROWS * DIM + k] *= 40;
  return v;
}

test('localNoiseScales: (d / mean d)^γ clamped to [1/4, 4] and scaled to mean 1, d from the other half of the images', async () => {
  const values = features();
  for (const locality of [1, 0.5]) {
    const cache = cacheOf(values);
    try {
      // A bank larger than the other half holds all its rows, so the sample's order cannot matter.
      const got = await localNoiseScales(cache, { locality, seed: SEED, projectionDim: P, bankRows: 1000 });
      const want = expected(values, locality);
      for (let i = 0; i < want.length; i++)
        assert.ok(Math.abs(got.factors[i] - want[i]) < 1e-4 * Math.max(1, want[i]), `γ ${locality} row ${i}: ${got.factors[i]} vs ${want[i]}`);
      const mean = got.factors.reduce((a, b) => a + b, 0) / got.factors.length;
      assert.ok(Math.abs(mean - 1) < 1e-5, `mean ${mean}`);
      assert.ok(got.quantiles[0] <= got.quantiles[1] && got.quantiles[1] <= got.quantiles[2]);
    } finally {
      cache.release();
    }
  }
  // The duplicate sits at the floor and the outlier at the ceiling (before the mean-1 scaling).
  const want = expected(values, 1);
  assert.ok(want[ROWS + 2] < want[0] && want[3 * ROWS] > 3 * want[0]);
});

test('localNoiseScales: γ = 0 or a single image gives every factor 1; γ outside [0, 2] is refused', async () => {
  const cache = cacheOf(features());
  try {
    assert.ok((await localNoiseScales(cache, { locality: 0, seed: 1 })).factors.every((f) => f === 1));
    await assert.rejects(localNoiseScales(cache, { locality: 3, seed: 1 }), /locality must be in \[0, 2\], got 3/);
    await assert.rejects(localNoiseScales(cache, { locality: 1, seed: 1, bankRows: 0 }), /bankRows must be a positive integer/);
  } finally {
    cache.release();
  }
  const one = new FeatureCache({ dtype: 'float32', storage: 'memory', bytes: 0 }, 1, ROWS, DIM);
  one.put(0, ortTensor('float32', [ROWS, DIM], new Float32Array(ROWS * DIM).fill(1)));
  try {
    assert.ok((await localNoiseScales(one, { locality: 1, seed: 1 })).factors.every((f) => f === 1));
  } finally {
    one.release();
  }
});

test('batchFactors lays the factors out as FeatureCache.batch lays out the rows', () => {
  const f = Float32Array.from({ length: 3 * 2 }, (_, i) => i);
  assert.deepEqual(Array.from(batchFactors(f, [2, 0], 2)), [4, 5, 0, 1]);
});

test('noiseLocality: a step with every row factor 1 equals the step without; the factors are required exactly when taken', async () => {
  const base = headConfig({ featureDim: 12, hiddenDim: 8, noiseStd: 0.3, ascentSteps: 1, loss: 'logistic' });
  const local = headConfig({ ...base, noiseLocality: 1 });
  const rng = new Rng(5);
  const params = initHeadParams(base, rng);
  const x = ortTensor(
    'float32',
    [16, 12],
    Float32Array.from({ length: 16 * 12 }, () => rng.normal()),
  );
  const a = await TrainStep.create(base, params, { noise: { seed: 4 } });
  const b = await TrainStep.create(local, params, { noise: { seed: 4 } });
  try {
    const ra = await a.step(x);
    const rb = await b.step(x, { noiseRowScale: new Float32Array(16).fill(1) });
    assert.equal(rb.loss, ra.loss);
    for (const n of PARAM_NAMES) assert.deepEqual(b.params()[n].data, a.params()[n].data, n);
    // Factors of 0 leave the fakes on their patches: the step of σ = 0.
    const c = await TrainStep.create(local, params, { noise: { seed: 4 } });
    const still = await TrainStep.create(headConfig({ ...base, noiseStd: 0 }), params, { noise: { seed: 4 } });
    try {
      const rc = await c.step(x, { noiseRowScale: new Float32Array(16) });
      const r0 = await still.step(x);
      assert.ok(Math.abs(rc.loss - r0.loss) < 1e-6, `loss ${rc.loss} vs ${r0.loss}`);
    } finally {
      await c.release();
      await still.release();
    }
    await assert.rejects(b.step(x), /noiseRowScale must be a Float32Array of 16 factors/);
    await assert.rejects(b.step(x, { noiseRowScale: new Float32Array(15) }), /noiseRowScale must be a Float32Array of 16 factors/);
    await assert.rejects(a.step(x, { noiseRowScale: new Float32Array(16) }), /noiseRowScale needs noiseLocality > 0/);
  } finally {
    await a.release();
    await b.release();
  }
  await assert.rejects(TrainStep.create(local, params, { noise: 'input' }), /noiseLocality needs noise drawn in-graph/);
});
