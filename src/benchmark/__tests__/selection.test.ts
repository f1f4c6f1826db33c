import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metrics } from '../../evaluation/evaluate.js';
import type { EpochLog } from '../../model/modelDir.js';
import { selectionResults, spearman, timeToQuality } from '../selection.js';

const m = (image: number, pixel: number) => ({ image_auroc: image, pixel_auroc: pixel, pixel_aupro: 0.5, image_f1_max: 0.9 }) as Metrics;
const e = (epoch: number, val?: [number, number]): EpochLog => ({
  epoch,
  loss: 1,
  pTrue: 0,
  pFake: 0,
  seconds: 1,
  ...(val ? { valImageAuroc: val[0], valPatchAuroc: val[1] } : {}),
});

test('final = last monitored epoch; validation = best val image + patch AUROC (first on ties); oracle = best test image, then pixel AUROC', () => {
  const log = [e(1, [0.9, 0.8]), e(2, [1, 0.9]), e(3), e(4, [1, 0.9]), e(5, [0.5, 0.5])];
  const monitor = [1, 2, 4, 5].map((epoch, i) => ({ epoch, metrics: m([0.8, 0.9, 0.99, 0.6][i], [0.5, 0.7, 0.6, 0.9][i]) }));
  monitor.push({ epoch: 3, metrics: m(0.99, 0.7) });
  const s = selectionResults(log, monitor);
  assert.equal(s.final.epoch, 5);
  assert.equal(s.validation?.epoch, 2);
  assert.equal(s.oracle.epoch, 3);
  assert.equal(s.oracle.metrics.image_auroc, 0.99);
  assert.equal(selectionResults([e(1)], [{ epoch: 1, metrics: m(0.7, 0.7) }]).validation, undefined);
});

test('spearman equals scipy.stats.spearmanr, ties included (values printed by reference/golden_spearman.py)', () => {
  assert.ok(Math.abs((spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) ?? 0) - 0.8207826816681233) < 1e-12);
  assert.ok(Math.abs((spearman([0.9, 0.9, 0.8, 0.95, 0.7, 0.7], [3, 1, 2, 5, 0, 0.5]) ?? 0) - 0.8827348295047495) < 1e-12);
  assert.equal(spearman([1, 2], [2, 1]), null);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
});

test('rank agreement pairs validated, monitored epochs; time to quality counts epoch seconds until validation patch AUROC ≥ 0.9', () => {
  const log = [e(1, [0.9, 0.5]), e(2, [0.95, 0.8]), e(3, [1, 0.95]), e(4, [1, 0.85])];
  const monitor = log.map((x, i) => ({ epoch: x.epoch, metrics: m([0.8, 0.9, 0.99, 0.95][i], 0.9) }));
  assert.ok(Math.abs((selectionResults(log, monitor).rankAgreement ?? 0) - 1) < 1e-12);
  const reversed = log.map((x, i) => ({ epoch: x.epoch, metrics: m([0.99, 0.95, 0.8, 0.9][i], 0.9) }));
  assert.ok((selectionResults(log, reversed).rankAgreement ?? 0) < 0);
  assert.deepEqual(timeToQuality(log), { epoch: 3, seconds: 3 });
  assert.equal(timeToQuality(log, 0.99), null);
});
