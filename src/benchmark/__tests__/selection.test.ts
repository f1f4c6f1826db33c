import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Metrics } from '../../evaluation/evaluate.js';
import type { EpochLog } from '../../model/modelDir.js';
import { selectionResults } from '../selection.js';

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
