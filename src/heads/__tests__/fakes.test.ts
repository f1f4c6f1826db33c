import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import { f32, type HostTensor } from '../../onnx/tensor.js';
import { addNoise } from '../stepGraph.js';

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
