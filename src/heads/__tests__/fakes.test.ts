import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import { f32, type HostTensor } from '../../onnx/tensor.js';
import { addDataDirections, addExtrapolatedFakes, addNoise, EXTRAPOLATE_FROM, EXTRAPOLATE_TO } from '../stepGraph.js';

const R = 4000;
const D = 64;

/** The in-graph ε for `spread` (times `factor` when given), one run of a graph holding only `addNoise`. */
async function drawNoise(spread: number, seed = 3, factor?: number): Promise<Float32Array> {
  const g = new GraphBuilder('fakes');
  const a = g.input('a', 'float32', ['R', D]);
  const f = factor === undefined ? undefined : g.input('factor', 'float32', []);
  const eps = addNoise(g, a, { featureDim: D, noiseStd: 0.2, noiseSpread: spread }, { seed }, f);
  assert.ok(eps);
  g.output(eps, 'eps', 'float32', ['R', D]);
  const s = await Session.create(g.toModel(), 'fakes test');
  try {
    const feeds: Record<string, HostTensor> = { a: f32([R, D]) };
    if (factor !== undefined) feeds.factor = f32([], [factor]);
    return (await s.run(feeds)).eps.data as Float32Array;
  } finally {
    await s.release();
  }
}

/** Each row's σ estimated from its D values. */
function rowStds(eps: Float32Array): number[] {
  return Array.from({ length: R }, (_, r) => {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += eps[r * D + j] ** 2;
    return Math.sqrt(ss / D);
  });
}

test('noiseSpread 1 draws one σ for every fake; 2 spreads each row log-uniformly over [σ/2, 2σ]', async () => {
  const one = rowStds(await drawNoise(1));
  const spread = rowStds(await drawNoise(2));
  const logs = (v: number[]) => v.map((x) => Math.log(x / 0.2));
  // One σ: a row's std of 64 normals errs by ~1/√128 ≈ 9 %, never near a factor 2.
  assert.ok(
    logs(one).every((l) => Math.abs(l) < 0.45),
    'spread 1 keeps every row at σ',
  );
  const ls = logs(spread);
  // log-uniform over ±ln 2: mean 0, std ln2/√3 ≈ 0.40 (plus the 9 % sampling error), range ±0.69.
  const mean = ls.reduce((s, x) => s + x, 0) / R;
  const sd = Math.sqrt(ls.reduce((s, x) => s + (x - mean) ** 2, 0) / R);
  assert.ok(Math.abs(mean) < 0.03, `mean log-ratio ${mean}`);
  assert.ok(sd > 0.38 && sd < 0.45, `std of the log-ratio ${sd}`);
  assert.ok(ls.filter((l) => l < -0.5).length > R / 20 && ls.filter((l) => l > 0.5).length > R / 20, 'both ends reached');
});

test('noiseSpread leaves the Gaussian stream itself as it was: same directions, only row scales differ', async () => {
  const one = await drawNoise(1, 9);
  const spread = await drawNoise(2, 9);
  for (const r of [0, 1, 1234, R - 1]) {
    const k = spread[r * D] / one[r * D];
    assert.ok(k >= 0.5 - 1e-6 && k <= 2 + 1e-6, `row ${r} factor ${k}`);
    for (let j = 1; j < D; j++) assert.ok(Math.abs(spread[r * D + j] - k * one[r * D + j]) <= 1e-5 * (1 + Math.abs(spread[r * D + j])), `row ${r} col ${j}`);
  }
});

test('a σ factor (train.noiseDecay) scales the same Gaussian stream: ε·f, row for row', async () => {
  const one = await drawNoise(1, 5);
  for (const f of [1, 0.5]) {
    const scaled = await drawNoise(1, 5, f);
    for (let i = 0; i < one.length; i += 997) assert.ok(Math.abs(scaled[i] - f * one[i]) <= 1e-6 * (1 + Math.abs(one[i])), `factor ${f} element ${i}`);
  }
});

/** What a data-made fake adder returns, read back: ε, the Gaussian ε it started from, the pairing, the mask and t when it has one. */
interface DataFakesRun {
  eps: Float32Array;
  gauss: Float32Array;
  partner: number[];
  mask: Float32Array;
  t: Float32Array;
}

/** Runs `add` (addDataDirections or addExtrapolatedFakes) on features `x` [n, D] with Gaussian ε of σ 0.2. */
async function runDataFakes(
  add: typeof addDataDirections | typeof addExtrapolatedFakes,
  x: Float32Array,
  n: number,
  fraction: number,
  seed: number,
): Promise<DataFakesRun> {
  const g = new GraphBuilder('data fakes');
  const a = g.input('x', 'float32', ['R', D]);
  const gauss = addNoise(g, a, { featureDim: D, noiseStd: 0.2, noiseSpread: 1 }, { seed });
  assert.ok(gauss);
  const out = add(g, a, gauss, fraction, seed);
  g.output(out.eps, 'eps', 'float32', ['R', D]);
  g.output(gauss, 'gauss', 'float32', ['R', D]);
  g.output(out.partner, 'partner', 'int64', ['R']);
  g.output(out.mask, 'mask', 'float32', ['R', 1]);
  const t = (out as { t?: string }).t;
  if (t) g.output(t, 't', 'float32', ['R', 1]);
  const s = await Session.create(g.toModel(), 'data fakes test');
  try {
    const r = await s.run({ x: { dtype: 'float32', dims: [n, D], data: x } });
    return {
      eps: r.eps.data as Float32Array,
      gauss: r.gauss.data as Float32Array,
      partner: Array.from(r.partner.data as BigInt64Array, Number),
      mask: r.mask.data as Float32Array,
      t: (r.t?.data as Float32Array | undefined) ?? new Float32Array(0),
    };
  } finally {
    await s.release();
  }
}
const dataDirections = (x: Float32Array, n: number, fraction: number, seed = 4) => runDataFakes(addDataDirections, x, n, fraction, seed);
const extrapolated = (x: Float32Array, n: number, fraction: number, seed = 6) => runDataFakes(addExtrapolatedFakes, x, n, fraction, seed);

/**
 * Checks a run row by row: the pairing is a permutation, unpicked rows keep their Gaussian ε, and a
 * picked row (never one paired with an identical feature) has the offset `want(r, X_j − X_i)`.
 */
function assertRows(run: DataFakesRun, x: Float32Array, n: number, want: (r: number, diff: number[]) => number[]): void {
  assert.deepEqual(
    [...run.partner].sort((p, q) => p - q),
    Array.from({ length: n }, (_, i) => i),
    'the pairing is a permutation',
  );
  for (let r = 0; r < n; r++) {
    const e = run.eps.subarray(r * D, (r + 1) * D);
    if (run.mask[r] === 0) {
      assert.deepEqual(e, run.gauss.subarray(r * D, (r + 1) * D), `row ${r} keeps its Gaussian ε`);
      continue;
    }
    const j = run.partner[r];
    const diff = Array.from({ length: D }, (_, k) => x[j * D + k] - x[r * D + k]);
    assert.ok(Math.hypot(...diff) > 1e-6, `row ${r} paired with an identical feature took an offset`);
    const w = want(r, diff);
    for (let k = 0; k < D; k++) assert.ok(Math.abs(e[k] - w[k]) <= 1e-4 * (1 + Math.abs(e[k])), `row ${r} col ${k}`);
  }
}

test('dataDirections: the chosen share of fakes point from their patch to a paired one, at the Gaussian length; the rest keep ε', async () => {
  const n = 2000;
  const x = new Float32Array(n * D);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * (1 + (i % 7));
  // Rows 0 and 1 are identical: if paired together they have no direction and must keep ε.
  x.copyWithin(D, 0, D);
  const run = await dataDirections(x, n, 0.5);
  const used = run.mask.reduce((s, m) => s + m, 0);
  assert.ok(used > 0.45 * n && used < 0.55 * n, `share of rows along the data ${used / n}`);
  const norm = (v: Float32Array, r: number) => Math.hypot(...v.subarray(r * D, (r + 1) * D));
  // Along X_j − X_i at the Gaussian ε's length.
  assertRows(run, x, n, (r, diff) => diff.map((d) => (d * norm(run.gauss, r)) / Math.hypot(...diff)));
});

test('extrapolatedFakes: the chosen share of fakes lie past a paired patch, X_i + t·(X_j − X_i) with t in [1.5, 2]; the rest keep ε', async () => {
  const n = 2000;
  const x = new Float32Array(n * D);
  for (let i = 0; i < x.length; i++) x[i] = Math.cos(i * 0.29) * (1 + (i % 5));
  x.copyWithin(D, 0, D); // rows 0 and 1 identical: paired together they have no line and keep ε
  const run = await extrapolated(x, n, 0.25);
  const used = run.mask.reduce((s, m) => s + m, 0);
  assert.ok(used > 0.2 * n && used < 0.3 * n, `share of extrapolated rows ${used / n}`);
  assert.ok(
    run.t.every((v) => v >= EXTRAPOLATE_FROM && v <= EXTRAPOLATE_TO),
    't within its range',
  );
  const ts = Array.from(run.t).sort((p, q) => p - q);
  assert.ok(ts[Math.floor(n / 10)] < 1.6 && ts[Math.floor((9 * n) / 10)] > 1.9, 'uniform over the range, both ends reached');
  assertRows(run, x, n, (r, diff) => diff.map((d) => run.t[r] * d));
});

test('dataDirections and extrapolatedFakes at 0 and 1: no row, and every row with a partner', async () => {
  const n = 500;
  const x = Float32Array.from({ length: n * D }, (_, i) => Math.cos(i * 0.11) * 3);
  for (const run of [dataDirections, extrapolated]) {
    assert.equal(
      (await run(x, n, 0)).mask.reduce((s, m) => s + m, 0),
      0,
    );
    const all = await run(x, n, 1);
    assert.equal(
      all.mask.reduce((s, m) => s + m, 0),
      n - all.partner.filter((j, r) => j === r).length,
    );
  }
});
