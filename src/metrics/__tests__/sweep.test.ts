import assert from 'node:assert/strict';
import { test } from 'node:test';
import { golden, goldenJson } from '../../testing/golden.js';
import { radixSortPacked } from '../radixSort.js';
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
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
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
  assert.equal(
    v.reduce((s, x) => s + x[1], 0),
    tags.filter((t) => t === 0).length,
  );
});

test('scores that are not float32 values take the generic path', () => {
  const v: number[] = [];
  sweepThresholds('test', [0.1, 0.2, 0.1], [1, 0, 0], LABEL_WEIGHTS, (t) => v.push(t));
  assert.deepEqual(v, [0.2, 0.1]);
  assert.throws(() => sweepThresholds('test', [0.1], [1], LABEL_WEIGHTS, () => {}, { packed: true }), /not a float32 value/);
});

test('the radix sort orders packed keys like the native sort (negatives, zero, ties, narrow ranges)', () => {
  const rng = (() => {
    let s = 7;
    return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  })();
  const cases: [string, () => number][] = [
    ['signed normal-ish', () => Math.fround((rng() - 0.5) * 1e3)],
    ['ties', () => Math.fround(Math.round(rng() * 20) / 4 - 2)],
    ['narrow', () => Math.fround(1 + rng() * 1e-3)],
    ['tiny and huge', () => Math.fround((rng() < 0.5 ? -1 : 1) * 10 ** (rng() * 60 - 30))],
  ];
  for (const [name, draw] of cases) {
    const n = 5000;
    const keys = new Float64Array(n);
    const words = new Uint32Array(keys.buffer);
    for (let i = 0; i < n; i++) {
      keys[i] = draw() + 0;
      words[2 * i] |= i % 1000; // tags in the low bits, as the sweep packs them
    }
    const expected = Float64Array.from(keys)
      .map((v) => {
        const w = new Uint32Array(Float64Array.of(v).buffer);
        w[0] &= 0xe0000000;
        return new Float64Array(w.buffer)[0];
      })
      .sort();
    radixSortPacked(words, n);
    const values = Array.from(keys, (_, i) => {
      const w = Uint32Array.of(words[2 * i] & 0xe0000000, words[2 * i + 1]);
      return new Float64Array(w.buffer)[0];
    });
    assert.deepEqual(values, Array.from(expected), name);
    const tags = Array.from({ length: n }, (_, i) => words[2 * i] & 0x1fffffff).sort((a, b) => a - b);
    assert.deepEqual(
      tags,
      Array.from({ length: n }, (_, i) => i % 1000).sort((a, b) => a - b),
      `${name}: tags kept`,
    );
  }
});

test('above the radix threshold the packed path still visits what the generic path visits', () => {
  const n = (1 << 18) + 17;
  let s = 3;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const scores = Float32Array.from({ length: n }, () => Math.round((rnd() - 0.3) * 500) / 7);
  const labels = Uint8Array.from({ length: n }, () => (rnd() < 0.2 ? 1 : 0));
  assertSamePaths(scores, labels, LABEL_WEIGHTS, 'large');
});
