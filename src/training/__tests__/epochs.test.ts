import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPreset, FIELDS_BEFORE_THEY_EXISTED, mergeConfig, parseConfig } from '../../model/config.js';
import { heldOutCount, plannedEpochs, withPlannedEpochs } from '../epochs.js';
import { splitValidation } from '../validation.js';

test('plannedEpochs: the epochs rise until minSteps steps are reached, never fall', () => {
  const t = { epochs: 6, minSteps: 192, batchSize: 8 };
  assert.equal(plannedEpochs(t, 188), 8, 'bottle: 24 steps an epoch, 8 epochs for the default 192 steps');
  assert.equal(plannedEpochs({ ...t, minSteps: 144 }, 188), 6, 'the 144 steps before: 6 epochs');
  assert.equal(plannedEpochs(t, 94), 16, 'the 2×2 mosaics: 12 steps an epoch');
  assert.equal(plannedEpochs(t, 54), 28, '7 steps an epoch: ⌈192 / 7⌉');
  assert.equal(plannedEpochs(t, 400), 6, 'a larger set keeps its epochs');
  assert.equal(plannedEpochs({ ...t, minSteps: 0 }, 5), 6);
  assert.throws(() => plannedEpochs(t, 0), /nTrain must be a positive integer, got 0/);
  const c = { train: t, other: 1 };
  assert.equal(withPlannedEpochs(c, 400), c, 'unchanged: the same object');
  assert.deepEqual(withPlannedEpochs(c, 94), { train: { ...t, epochs: 16 }, other: 1 });
});

test('heldOutCount is the split splitValidation makes', () => {
  const samples = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `${i}.png`, label: 0 as const }));
  for (const n of [1, 2, 9, 20, 104, 209]) {
    for (const f of [0, 0.1, 0.5]) assert.equal(heldOutCount(n, f), splitValidation(samples(n) as never, f, 0).validation.length, `n ${n}, fraction ${f}`);
  }
});

test('train.minSteps: 192 by default, 0 under the paper, when epochs are given alone, and in models saved before it', () => {
  assert.equal(parseConfig({}).train.minSteps, 192);
  assert.equal(parseConfig(applyPreset({}, 'paper')).train.minSteps, 0);
  assert.equal(parseConfig(applyPreset({ train: { epochs: 3 } })).train.minSteps, 0, 'an explicit epoch count runs as given');
  assert.equal(parseConfig({ train: { epochs: 3 } }).train.minSteps, 0, 'however the configuration is parsed');
  assert.equal(parseConfig(applyPreset({ train: { epochs: 3, minSteps: 50 } })).train.minSteps, 50);
  assert.equal(parseConfig(applyPreset({ train: { seed: 2 } })).train.minSteps, 192);
  const saved = parseConfig(mergeConfig(FIELDS_BEFORE_THEY_EXISTED, { train: { epochs: 8 } }));
  assert.equal(saved.train.minSteps, 0);
});
