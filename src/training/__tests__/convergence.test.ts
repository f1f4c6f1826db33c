import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EpochLog } from '../../model/modelDir.js';
import { stillImproving } from '../convergence.js';

const epoch = (n: number, patch?: number): EpochLog => ({
  epoch: n,
  loss: 1,
  pTrue: 0.5,
  pFake: 0.5,
  seconds: 1,
  ...(patch === undefined ? {} : { valImageAuroc: 1, valPatchAuroc: patch }),
});

test('a kept last epoch that beats the one before by ≥ 0.002 is still improving; anything else is not', () => {
  // The mosaic run of docs/studies/fast-convergence.md: 0.9596 → 0.9640 at the last of six epochs.
  const log = [epoch(1, 0.5), epoch(2, 0.75), epoch(3, 0.9), epoch(4, 0.943), epoch(5, 0.9596), epoch(6, 0.964)];
  const r = stillImproving(log, { by: 'validation', epoch: 6 });
  assert.ok(r);
  assert.equal(r.epoch, 6);
  assert.equal(r.previousEpoch, 5);
  assert.ok(Math.abs(r.rise - 0.0044) < 1e-9);
  assert.equal(stillImproving(log, { by: 'validation', epoch: 5 }), undefined, 'an earlier epoch was kept');
  assert.equal(stillImproving(log, { by: 'final', epoch: 6 }), undefined, 'no validation selection');
  assert.equal(stillImproving(log, undefined), undefined);
  const flat = [...log.slice(0, 5), epoch(6, 0.9606)];
  assert.equal(stillImproving(flat, { by: 'validation', epoch: 6 }), undefined, 'a rise of 0.001 is noise');
  // Validation every 2 epochs: the two validated epochs are compared, and the last epoch must be validated.
  const sparse = [epoch(1), epoch(2, 0.9), epoch(3), epoch(4, 0.95)];
  assert.equal(stillImproving(sparse, { by: 'validation', epoch: 4 })?.previousEpoch, 2);
  assert.equal(stillImproving([epoch(1, 0.9)], { by: 'validation', epoch: 1 }), undefined, 'one validated epoch');
});
