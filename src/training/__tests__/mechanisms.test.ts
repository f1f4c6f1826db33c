/** Issue 6 mechanisms: the divergence guard, schedules and the weight EMA, each on its own. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headConfig } from '../../heads/config.js';
import { initHeadParams, PARAM_NAMES } from '../../heads/params.js';
import { Rng } from '../../core/rng.js';
import { TrainStep } from '../../heads/trainStep.js';
import { ortTensor } from '../../onnx/session.js';
import { ParamsEma } from '../ema.js';
import { DivergenceGuard } from '../guard.js';
import { lrFactor, noiseFactor } from '../schedule.js';

const cfg = headConfig({ featureDim: 12, hiddenDim: 8 });

function features(rng: Rng, rows: number) {
  return ortTensor(
    'float32',
    [rows, cfg.featureDim],
    Float32Array.from({ length: rows * cfg.featureDim }, () => rng.normal()),
  );
}

test('the divergence guard restores the last good weights and optimizer state on a forced spike, and lowers the rates', async () => {
  const rng = new Rng(1);
  const step = await TrainStep.create(cfg, initHeadParams(cfg, rng), { noise: { seed: 1 } });
  const guard = new DivergenceGuard({ spike: 0.05, lrFactor: 0.5, maxRollbacks: 2 });
  try {
    const r1 = await step.step(features(rng, 32));
    assert.equal(guard.afterEpoch(1, r1.loss, step), false);
    const kept = step.params();
    const keptOptimizer = step.optimizerState();
    // Force a spike: a huge learning rate wrecks the weights and the loss jumps.
    await step.step(features(rng, 32), { adaptorLr: 50, discLr: 50 });
    const spiked = await step.step(features(rng, 32));
    assert.ok(spiked.loss > r1.loss + 0.05, `forced loss ${spiked.loss} vs ${r1.loss}`);
    assert.equal(guard.afterEpoch(2, spiked.loss, step), true);
    for (const name of PARAM_NAMES) assert.deepEqual(step.params()[name].data, kept[name].data, name);
    assert.deepEqual(step.optimizerState(), keptOptimizer);
    assert.equal(guard.lrScale, 0.5);
    assert.deepEqual(guard.events, [{ epoch: 2, loss: spiked.loss, restoredEpoch: 1, lrScale: 0.5 }]);
    // A NaN loss is a spike too; after maxRollbacks the guard stops restoring and keeps going.
    assert.equal(guard.afterEpoch(3, Number.NaN, step), true);
    assert.equal(guard.afterEpoch(4, 9, step), false);
    assert.equal(guard.lrScale, 0.25);
  } finally {
    await step.release();
  }
});

test('a first epoch that is already non-finite cannot be rolled back: a clear error', () => {
  const guard = new DivergenceGuard({ spike: 0.05, lrFactor: 0.5, maxRollbacks: 2 });
  const fake = { params: () => ({}) as never, optimizerState: () => ({ step: 0, tensors: {} }), load: () => {} };
  assert.throws(() => guard.afterEpoch(1, Number.POSITIVE_INFINITY, fake), /training diverged at epoch 1/);
});

test('schedules: constant, cosine to its floor, linear warm-up', () => {
  const c = { kind: 'constant', minFactor: 0.4, warmupEpochs: 0 } as const;
  assert.equal(lrFactor(0, 100, 10, c), 1);
  assert.equal(lrFactor(99, 100, 10, c), 1);
  const cos = { ...c, kind: 'cosine' } as const;
  assert.equal(lrFactor(0, 100, 10, cos), 1);
  assert.ok(Math.abs(lrFactor(99, 100, 10, cos) - 0.4) < 1e-12);
  assert.ok(Math.abs(lrFactor(Math.round(99 / 2), 100, 10, cos) - 0.7) < 0.02);
  const warm = { ...c, warmupEpochs: 2 } as const;
  assert.deepEqual(
    [0, 9, 19, 20].map((s) => lrFactor(s, 100, 10, warm)),
    [0.05, 0.5, 1, 1],
  );
});

test('noise decay: σ factor 1 at the first step, linear to the decay at the last; decay 1 is constant', () => {
  assert.deepEqual(
    [0, 72, 143].map((s) => noiseFactor(s, 144, 1)),
    [1, 1, 1],
  );
  assert.equal(noiseFactor(0, 144, 0.5), 1);
  assert.ok(Math.abs(noiseFactor(143, 144, 0.5) - 0.5) < 1e-12);
  assert.ok(Math.abs(noiseFactor(143 / 2, 144, 0.5) - 0.75) < 1e-12);
  assert.equal(noiseFactor(0, 1, 0.5), 1, 'one step: the first step keeps σ');
});

test('TrainStep: noiseFactor scales in-graph noise (factor 1 is the default) and is checked', async () => {
  const rng = new Rng(2);
  const params = initHeadParams(cfg, new Rng(0));
  const x = features(rng, 16);
  const run = async (factor?: number) => {
    const s = await TrainStep.create(cfg, params, { noise: { seed: 4 }, noiseSchedule: true });
    try {
      return (await s.step(x, factor === undefined ? {} : { noiseFactor: factor })).loss;
    } finally {
      await s.release();
    }
  };
  const base = await run();
  assert.equal(await run(1), base);
  assert.notEqual(await run(0.25), base);
  const s = await TrainStep.create(cfg, params, { noise: { seed: 4 }, noiseSchedule: true });
  await assert.rejects(s.step(x, { noiseFactor: -1 }), /TrainStep\.step: opts\.noiseFactor must be a finite number ≥ 0, got -1/);
  await s.release();
  // Without a schedule the graph has no factor: 1 is what it does anyway, anything else is refused.
  const plain = await TrainStep.create(cfg, params, { noise: { seed: 4 } });
  assert.equal((await plain.step(x, { noiseFactor: 1 })).loss, base);
  await assert.rejects(plain.step(x, { noiseFactor: 0.5 }), /TrainStep\.step: opts\.noiseFactor needs a step created with noiseSchedule: true/);
  await plain.release();
});

test('EMA of the weights: decay · average + (1 − decay) · current, on copies', () => {
  const p = initHeadParams(cfg, new Rng(2));
  const ema = new ParamsEma(p, 0.9);
  const q = initHeadParams(cfg, new Rng(3));
  ema.update(q);
  const a = ema.params()['adaptor.weight'].data;
  const expected = p['adaptor.weight'].data.map((x, i) => 0.9 * x + 0.1 * q['adaptor.weight'].data[i]);
  a.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6));
  a[0] = 123;
  assert.notEqual(ema.params()['adaptor.weight'].data[0], 123);
  assert.throws(() => new ParamsEma(p, 1), /decay must be in \(0, 1\)/);
});
