import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atThreshold, f1At } from '../atThreshold.js';

test('image decisions at a threshold: precision, recall, F1 and the share of good images flagged', () => {
  // Labels 1 1 1 0 0; flagged 1 0 1 1 0: tp 2, fp 1, fn 1.
  const r = atThreshold(Uint8Array.of(1, 0, 1, 1, 0), Uint8Array.of(1, 1, 1, 0, 0));
  assert.deepEqual(r, {
    image_precision_at_threshold: 2 / 3,
    image_recall_at_threshold: 2 / 3,
    image_f1_at_threshold: 2 / 3,
    image_fpr_at_threshold: 1 / 2,
  });
  // Good images only: what can be measured is the false-positive rate.
  assert.deepEqual(atThreshold(Uint8Array.of(0, 1), Uint8Array.of(0, 0)), {
    image_precision_at_threshold: 0,
    image_recall_at_threshold: null,
    image_f1_at_threshold: null,
    image_fpr_at_threshold: 1 / 2,
  });
});

test('pixel F1 at a threshold uses a strict ">", like the scoring graph', () => {
  assert.equal(f1At(Float32Array.of(0.9, 0.5, 0.5, 0.1), Uint8Array.of(1, 1, 0, 0), 0.5), 2 / 3);
  assert.throws(() => f1At(Float32Array.of(1), Uint8Array.of(0), 0), /no defect pixels/);
});
