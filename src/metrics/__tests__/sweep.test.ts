import assert from 'node:assert/strict';
import { test } from 'node:test';
import { golden, goldenJson } from '../../testing/golden.js';
import { LABEL_WEIGHTS, sweepThresholds } from '../sweep.js';

/** Runs one path and records what it visits. */
function visits(scores: ArrayLike<number>, tags: ArrayLike<number>, weights: Float64Array, packed: boolean) {
  const out: number[][] = [];
  sweepThresholds('test', scores, tags, weights, (t, neg, w) => out.push([t, neg, w]), { packed });
  return out;
}

function assertSamePaths(scores: ArrayLike<number>, tags: ArrayLike<number>, weights: Float64Array, label: string) {
  const a = visits(scores, tags, weights, true);
  const b = visits(scores, tags, weights, false);
  assert.equal(a.length, b.length, `${label}: number of thresholds`);
  for (let i = 0; i < a.length; i++) {
    assert.equal(a[i][0], b[i][0], `${label}: threshold ${i}`);
    assert.equal(a[i][1], b[i][1], `${label}: negatives at threshold ${i}`);
    assert.ok(Math.abs(a[i][2] - b[i][2]) <= 1e-12, `${label}: weight at threshold ${i}: ${a[i][2]} vs ${b[i][2]}`);
  }
  return a;
}

test('packed and generic sweeps agree on float32 golden scores', () => {
  for (const name of Object.keys(goldenJson<object>('metrics/binary_expected.json'))) {
    const scores = golden(`metrics/binary_${name}_scores.npy`).data as Float64Array;
    if (!scores.every((v) => Math.fround(v) === v)) continue;
    assertSamePaths(scores, golden(`metrics/binary_${name}_labels.npy`).data as Uint8Array, LABEL_WEIGHTS, name);
  }
});

test('packed and generic sweeps agree with signed values, zeros, subnormals and large tags', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const n = 20000;
  const scores = new Float32Array(n);
  const tags = new Uint32Array(n);
  const special = [0, -0, 1.4e-45, -1.4e-45, 1e-40, -3.4e38, 3.4e38, 1, -1];
  const weights = new Float64Array((1 << 29) - 1 + 1);
  for (let i = 0; i < n; i++) {
    const r = rand();
    scores[i] = r < 0.2 ? special[Math.floor(rand() * special.length)] : r < 0.5 ? Math.round(rand() * 8 - 4) : rand() * 2 - 1;
    tags[i] = rand() < 0.5 ? 0 : rand() < 0.5 ? (1 << 29) - 1 : 1 + Math.floor(rand() * 1000);
  }
  weights[(1 << 29) - 1] = 0.25;
  for (let t = 1; t <= 1000; t++) weights[t] = 1 / t;
  const v = assertSamePaths(scores, tags, weights, 'random');
  // Highest first, distinct, -0 merged with +0, and the visit covers every element.
  for (let i = 1; i < v.length; i++) assert.ok(v[i][0] < v[i - 1][0]);
  assert.equal(v.filter((x) => x[0] === 0).length, 1);
  assert.ok(!v.some((x) => Object.is(x[0], -0)));
  assert.equal(v[0][0], Math.fround(3.4e38));
  assert.equal(v[v.length - 1][0], Math.fround(-3.4e38));
  assert.ok(v.some((x) => x[0] === Math.fround(1.4e-45)) && v.some((x) => x[0] === -Math.fround(1.4e-45)));
  assert.equal(v.reduce((s, x) => s + x[1], 0), tags.filter((t) => t === 0).length);
});

test('scores that are not float32 values take the generic path', () => {
  const v: number[] = [];
  sweepThresholds('test', [0.1, 0.2, 0.1], [1, 0, 0], LABEL_WEIGHTS, (t) => v.push(t));
  assert.deepEqual(v, [0.2, 0.1]);
  assert.throws(
    () => sweepThresholds('test', [0.1], [1], LABEL_WEIGHTS, () => {}, { packed: true }),
    /not a float32 value/,
  );
});
