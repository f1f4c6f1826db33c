/** Issue 13: the adaptor's starting point is a named mechanism, off (Xavier) under the paper preset. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import { initHeadParams } from '../../heads/params.js';
import { resolveConfig } from '../../model/config.js';
import { initAdaptor } from '../adaptorInit.js';
import { effectiveNoise } from '../trainer.js';

const dims = { featureDim: 4, hiddenDim: 3 };

test("'identity' starts the adaptor as the identity map and leaves the discriminator's init as drawn", () => {
  const drawn = initHeadParams(dims, new Rng(3));
  const p = initAdaptor(drawn, 'identity');
  assert.deepEqual(Array.from(p['adaptor.weight'].data), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  assert.deepEqual(Array.from(p['adaptor.bias'].data), [0, 0, 0, 0]);
  assert.equal(p['discriminator.fc1.weight'], drawn['discriminator.fc1.weight']);
  assert.equal(initAdaptor(drawn, 'xavier'), drawn);
});

test("'standardize' maps the measured mean to 0 and one std to 1 per dimension, guarding constant dimensions", () => {
  const moments = { mean: Float32Array.from([1, -2, 0, 5]), std: Float32Array.from([2, 0.5, 0, 1]), meanStd: 0.875 };
  const p = initAdaptor(initHeadParams(dims, new Rng(0)), 'standardize', moments);
  const w = p['adaptor.weight'].data;
  const b = p['adaptor.bias'].data;
  const apply = (x: number[], i: number) => x.reduce((s, v, j) => s + w[i * 4 + j] * v, 0) + b[i];
  for (let i = 0; i < 4; i++) {
    const x = [0, 0, 0, 0].map((_, j) => moments.mean[j]);
    assert.ok(Math.abs(apply(x, i)) < 1e-6, `mean → 0 in dimension ${i}`);
  }
  assert.ok(Math.abs(apply([3, -2, 0, 5], 0) - 1) < 1e-6);
  assert.ok(Number.isFinite(w[2 * 4 + 2]) && w[2 * 4 + 2] <= 1 / (1e-3 * moments.meanStd) + 1);
  assert.throws(() => initAdaptor(initHeadParams(dims, new Rng(0)), 'standardize'), /needs the features' measured moments/);
});

test('the paper preset keeps the Xavier adaptor whatever else is asked', async () => {
  const paper = await resolveConfig(undefined, { preset: 'paper', head: { adaptorInit: 'identity' } });
  assert.equal(paper.head.adaptorInit, 'xavier');
});

test("the relative noise σ follows the std the discriminator sees at step 0: measured for 'identity', 1 for 'standardize'", async () => {
  const moments = { mean: new Float32Array(4), std: Float32Array.from([0.2, 0.4, 0.2, 0.4]), meanStd: 0.3 };
  const at = async (head: Record<string, unknown>) => effectiveNoise(await resolveConfig(undefined, { head }), moments);
  assert.deepEqual(await at({ adaptorInit: 'identity', noiseStd: 0.5 }), { std: 0.15, featureStd: 0.3 });
  assert.deepEqual(await at({ adaptorInit: 'standardize', noiseStd: 0.5 }), { std: 0.5, featureStd: 1 });
  assert.deepEqual(await at({ noiseScale: 'absolute', noiseStd: 0.015 }), { std: 0.015 });
});
