import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BenchmarkRow, meanStd, rowsCsv, summaryMarkdown } from '../summary.js';

const row = (category: string, seed: number, auroc: number | null): BenchmarkRow => ({
  category,
  seed,
  epochs: 2,
  metrics: { image_auroc: auroc, pixel_auroc: 0.5, pixel_aupro: null, image_f1_max: 1, image_recall_at_threshold: 0.9, image_fpr_at_threshold: 0.05 },
  trainSeconds: 10,
  testImagesPerSecond: 4,
});

test('mean ± sample std, ignoring metrics that could not be computed', () => {
  assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1, n: 3 });
  assert.deepEqual(meanStd([null, 0.5]), { mean: 0.5, std: 0, n: 1 });
  assert.equal(meanStd([null]), null);
});

test('per-category and overall lines; CSV keeps every run', () => {
  const rows = [row('a', 0, 0.9), row('a', 1, 0.7), row('b', 0, 1), row('b', 1, 1)];
  const md = summaryMarkdown(rows, 't');
  assert.match(md, /\| a \| 2 \| 0\.800 ± 0\.141 \|/);
  assert.match(md, /\| b \| 2 \| 1\.000 ± 0\.000 \|/);
  // overall per seed: seed 0 (0.9 + 1)/2 = 0.95, seed 1 (0.7 + 1)/2 = 0.85
  assert.match(md, /\| \*\*overall\*\* \(mean of categories\) \| 2 \| 0\.900 ± 0\.071 \|/);
  assert.match(md, /pixel_aupro/);
  const csv = rowsCsv(rows).trim().split('\n');
  assert.equal(csv.length, 5);
  assert.equal(
    csv[0],
    'category,seed,epochs,image_auroc,pixel_auroc,pixel_aupro,image_f1_max,image_recall_at_threshold,image_fpr_at_threshold,train_seconds,test_images_per_second',
  );
  assert.equal(csv[1], 'a,0,2,0.9,0.5,,1,0.9,0.05,10.0,4.00');
});
