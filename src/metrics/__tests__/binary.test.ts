import assert from 'node:assert/strict';
import { test } from 'node:test';
import { golden, goldenJson } from '../../testing/golden.js';
import { averagePrecision } from '../averagePrecision.js';
import { f1Max } from '../f1.js';
import { binaryMetrics } from '../binaryMetrics.js';
import { rocAuc, rocCurve } from '../roc.js';

interface Expected {
  roc: number;
  ap: number;
  f1: number;
  threshold: number;
  precision: number;
  recall: number;
  roc_fpr?: number[];
  roc_tpr?: number[];
}

const TOL = 1e-6;

function near(actual: number, expected: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= TOL, `${label}: ${actual} vs ${expected}`);
}

const cases = goldenJson<Record<string, Expected>>('metrics/binary_expected.json');

for (const [name, e] of Object.entries(cases)) {
  test(`binary metrics match scikit-learn: ${name}`, () => {
    const scores = golden(`metrics/binary_${name}_scores.npy`).data as Float32Array | Float64Array;
    const labels = golden(`metrics/binary_${name}_labels.npy`).data as Uint8Array;
    // Typed arrays and plain arrays must agree (plain arrays go through the float32 check).
    for (const [kind, s, l] of [
      ['typed', scores, labels],
      ['plain', Array.from(scores), Array.from(labels)],
    ] as const) {
      near(rocAuc(s, l), e.roc, `${name} (${kind}) rocAuc`);
      near(averagePrecision(s, l), e.ap, `${name} (${kind}) averagePrecision`);
      const f = f1Max(s, l);
      near(f.f1, e.f1, `${name} (${kind}) f1`);
      near(f.precision, e.precision, `${name} (${kind}) precision`);
      near(f.recall, e.recall, `${name} (${kind}) recall`);
      assert.ok(f.threshold === e.threshold, `${name} (${kind}) threshold: ${f.threshold} vs ${e.threshold}`); // -0 === 0
    }
    if (e.roc_fpr && e.roc_tpr) {
      // sklearn's roc_curve(drop_intermediate=False): (0, 0), then one point per distinct score.
      const c = rocCurve(scores, labels, { maxPoints: 1e12 });
      assert.deepEqual(c.fpr.length, e.roc_fpr.length, `${name} roc curve length`);
      c.fpr.forEach((x, i) => near(x, e.roc_fpr![i], `${name} fpr[${i}]`));
      c.tpr.forEach((y, i) => near(y, e.roc_tpr![i], `${name} tpr[${i}]`));
    }
  });
}

test('a four-score example, by hand', () => {
  const scores = [0.1, 0.4, 0.35, 0.8];
  const labels = [0, 0, 1, 1];
  // Pairs (positive, negative) ranked right: (0.35>0.1), (0.8>0.1), (0.8>0.4); wrong: (0.35<0.4).
  assert.equal(rocAuc(scores, labels), 3 / 4);
  // Thresholds 0.8 → P=1 R=1/2; 0.4 → P=1/2 R=1/2; 0.35 → P=2/3 R=1: AP = 1/2·1 + 1/2·2/3.
  near(averagePrecision(scores, labels), 1 / 2 + 1 / 3, 'averagePrecision');
  const f = f1Max(scores, labels);
  near(f.f1, 0.8, 'f1');
  assert.deepEqual({ threshold: f.threshold, recall: f.recall }, { threshold: 0.35, recall: 1 });
});

test('tied scores count half a correctly ranked pair', () => {
  assert.equal(rocAuc([0.5, 0.5], [0, 1]), 0.5);
  assert.equal(rocAuc([1, 0.5, 0.5, 0], [1, 1, 0, 0]), 7 / 8);
  assert.equal(averagePrecision([0.5, 0.5, 0.5, 0.5], [1, 0, 0, 0]), 1 / 4);
});

test('a single class is a RangeError for rocAuc; AP and F1 need a positive', () => {
  assert.throws(() => rocAuc([0.1, 0.2], [1, 1]), {
    name: 'RangeError',
    message: /rocAuc: 'labels' hold only positives \(1\); ROC AUC is undefined with one class/,
  });
  assert.throws(() => rocAuc(new Float32Array(3), new Uint8Array(3)), /hold only negatives \(0\)/);
  assert.throws(() => rocAuc([], []), RangeError);
  assert.throws(() => averagePrecision([0.1, 0.2], [0, 0]), /averagePrecision: 'labels' hold no positives/);
  assert.throws(() => f1Max([0.1, 0.2], [0, 0]), /f1Max: 'labels' hold no positives/);
  // With positives only, both are well defined (sklearn agrees).
  assert.equal(averagePrecision([0.1, 0.2], [1, 1]), 1);
  assert.equal(f1Max([0.1, 0.2], [1, 1]).f1, 1);
});

test('bad arguments are named in the error', () => {
  assert.throws(() => rocAuc([1, 2, 3, 4, 5], [0, 1, 0, 1]), {
    name: 'RangeError',
    message: "rocAuc: 'labels' must have the same length as 'scores' (4 vs 5)",
  });
  assert.throws(() => averagePrecision([1, 2, 3], [0, 2, 1]), /'labels' must hold only 0 and 1 \(labels\[1\] is 2\)/);
  assert.throws(() => f1Max([1, NaN, 3], [0, 1, 1]), /f1Max: scores must be finite numbers \(element 1 is NaN\)/);
  assert.throws(() => rocAuc(new Float32Array([1, Infinity]), [0, 1]), /element 1 is Infinity/);
  assert.throws(() => rocAuc([0.1, -Infinity], [0, 1]), /element 1 is -Infinity/);
});

test('binaryMetrics: one sort, the same numbers as the separate metrics, nulls that say why', () => {
  for (const name of Object.keys(cases)) {
    const scores = golden(`metrics/binary_${name}_scores.npy`).data as Float32Array | Float64Array;
    const labels = golden(`metrics/binary_${name}_labels.npy`).data as Uint8Array;
    const m = binaryMetrics(scores, labels, { curve: true });
    assert.equal(m.rocAuc, rocAuc(scores, labels), name);
    assert.equal(m.averagePrecision, averagePrecision(scores, labels), name);
    assert.deepEqual(m.f1Max, f1Max(scores, labels), name);
    assert.deepEqual(m.rocCurve, rocCurve(scores, labels), name);
  }
  const good = binaryMetrics([0.1, 0.2], [0, 0]);
  assert.deepEqual([good.rocAuc, good.averagePrecision, good.f1Max], [null, null, null]);
  assert.match(good.notes[0], /no positives/);
  const bad = binaryMetrics([0.1, 0.2], [1, 1]);
  assert.equal(bad.rocAuc, null);
  assert.equal(bad.averagePrecision, 1);
  assert.match(bad.notes[0], /no negatives \(0\): ROC AUC is undefined/);
});
