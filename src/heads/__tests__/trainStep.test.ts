import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import { f32, type HostTensor } from '../../onnx/tensor.js';
import { assertClose, golden } from '../../testing/golden.js';
import { type HeadConfig, headConfig } from '../config.js';
import { type HeadParams, PARAM_NAMES, TRAINABLE } from '../params.js';
import { Rng } from '../../core/rng.js';
import { addDataDirections, addExtrapolatedFakes, addNoise } from '../stepGraph.js';
import { TrainStep } from '../trainStep.js';

const cfg = headConfig({ featureDim: 12, hiddenDim: 8 });
/** Goldens of reference/golden_heads.py: `step` (the paper's truncated L1) or `step_logistic`. */
const goldenIn = (root: string) => (rel: string) => golden(`heads/${root}/${rel}.npy`) as HostTensor<'float32'>;
const gf = goldenIn('step');

function initParams(g = gf): HeadParams {
  const p = {} as HeadParams;
  for (const n of PARAM_NAMES) p[n] = g(`init/${n}`);
  return p;
}

/**
 * `realsTarget`: the goldens' REAL_ROWS are given reals (X + offset) with that soft target; 'per-row':
 * each with its own (the goldens' `reals_targets`).
 */
async function twoStepsMatchPyTorch(
  cfg: HeadConfig,
  gf: (rel: string) => HostTensor<'float32'>,
  given = false,
  realsTarget?: number | 'per-row',
): Promise<void> {
  const reals = realsTarget !== undefined;
  const ts = await TrainStep.create(cfg, initParams(gf), { noise: 'input', givenFakes: given, givenReals: reals, givenRealsTarget: realsTarget ?? 0 });
  let before = initParams(gf);
  const rowsAndOffsets = (s: number, kind: 'given' | 'reals') => ({
    rows: Int32Array.from(gf(`${s}/${kind}_rows`).data),
    offsets: Float32Array.from(gf(`${s}/${kind}_offsets`).data),
  });
  for (const s of [1, 2]) {
    const r = await ts.step(gf(`${s}/features`), {
      noise: gf(`${s}/noise`),
      ...(given ? { givenFakes: rowsAndOffsets(s, 'given') } : {}),
      ...(reals
        ? { givenReals: { ...rowsAndOffsets(s, 'reals'), ...(realsTarget === 'per-row' ? { targets: Float32Array.from(gf(`${s}/reals_targets`).data) } : {}) } }
        : {}),
    });
    const [loss, pTrue, pFake] = Array.from(gf(`${s}/metrics`).data);
    assertClose([r.loss], [loss], { rtol: 1e-4, label: `step ${s} loss` });
    assert.equal(r.pTrue, pTrue, `step ${s} p_true`);
    assert.equal(r.pFake, pFake, `step ${s} p_fake`);
    const params = ts.params();
    for (const n of PARAM_NAMES) {
      // adaptor.bias gets a zero gradient in exact arithmetic (BN subtracts the batch mean, and the
      // bias shifts every row of H alike), so Adam turns float round-off into steps of up to ±lr:
      // only the decay-and-bounded-step behaviour can be compared.
      const atol = n === 'adaptor.bias' ? 1.01 * s * cfg.adaptorLr : 0;
      assertClose(params[n].data, gf(`${s}/${n}`).data, { rtol: 1e-4, atol, label: `step ${s} ${n}` });
    }
    // The updates are ~lr against O(1) weights: check them on their own scale too.
    for (const n of TRAINABLE.filter((k) => k !== 'adaptor.bias')) {
      const want = gf(`${s}/${n}`).data.map((x, i) => x - before[n].data[i]);
      const got = params[n].data.map((x, i) => x - before[n].data[i]);
      // fc1.bias likewise has a zero loss gradient; its update is driven by the L2 term plus round-off
      // (up to 6 % apart in the hard-row case, where fewer rows carry gradient).
      const rtol = n === 'discriminator.fc1.bias' ? 1e-1 : 2e-3;
      assertClose(got, want, { rtol, label: `step ${s} ${n} update` });
    }
    const opt = ts.optimizerState();
    assert.equal(opt.step, s);
    for (const n of TRAINABLE) {
      for (const k of [`${n}.exp_avg`, `${n}.exp_avg_sq`]) {
        // Scale of the sibling weight's state: the gradient scale a real signal would have.
        const wScale = (q: string) => Math.max(...gf(`${s}/${n.replace(/bias$/, 'weight')}.${q}`).data.map(Math.abs));
        const q = k.endsWith('_sq') ? 'exp_avg_sq' : 'exp_avg';
        const atol = n === 'adaptor.bias' || n === 'discriminator.fc1.bias' ? 1e-4 * wScale(q) : 0;
        assertClose(opt.tensors[k].data, gf(`${s}/${k}`).data, { rtol: 1e-4, atol, label: `step ${s} ${k}` });
      }
    }
    before = params;
  }
  await ts.release();
}

test('two full training steps match PyTorch (loss, metrics, params, Adam/AdamW states, BN stats)', () => twoStepsMatchPyTorch(cfg, gf));

test("loss 'logistic': two full training steps match PyTorch's binary cross-entropy with logits", () =>
  twoStepsMatchPyTorch(headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic' }), goldenIn('step_logistic')));

test("hardFraction 0.5: two full training steps match PyTorch training on each branch's ⌈R/2⌉ largest losses (topk)", () =>
  twoStepsMatchPyTorch(headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic', hardFraction: 0.5 }), goldenIn('step_logistic_hard')));

test("ascentSteps 2: two full training steps match PyTorch after turning the fakes along autograd's gradient of the eval-mode score", () =>
  twoStepsMatchPyTorch(headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic', ascentSteps: 2, ascentSize: 0.5 }), goldenIn('step_logistic_ascent')));

test('given fakes (A + δ at the given rows, after the ascent): two full training steps match PyTorch', () =>
  twoStepsMatchPyTorch(headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic', ascentSteps: 1, ascentSize: 0.1 }), goldenIn('step_logistic_given'), true));

test('fakesThroughAdaptor: given fakes as the adaptor of X + δ, its gradient included: two full training steps match PyTorch', () =>
  twoStepsMatchPyTorch(
    headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic', ascentSteps: 1, ascentSize: 0.1, fakesThroughAdaptor: true }),
    goldenIn('step_logistic_through'),
    true,
  ));

test('givenRealsTarget 0.3: given reals trained as fakes with probability 0.3 (BCE against 0.7): two full training steps match PyTorch', () =>
  twoStepsMatchPyTorch(headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic' }), goldenIn('step_logistic_soft_reals'), false, 0.3));

test("givenRealsTarget 'per-row': given reals with their own targets (1/9 and 4/9, BCE against 1 − t): two full training steps match PyTorch", () =>
  twoStepsMatchPyTorch(headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic' }), goldenIn('step_logistic_partial_reals'), false, 'per-row'));

test("givenRealsTarget 'per-row': every row's target is asked for, in [0, 1), and only then", async () => {
  const logistic = headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic' });
  const g = goldenIn('step_logistic_partial_reals');
  const reals = { rows: Int32Array.from(g('1/reals_rows').data), offsets: Float32Array.from(g('1/reals_offsets').data) };
  const perRow = await TrainStep.create(logistic, initParams(g), { noise: 'input', givenReals: true, givenRealsTarget: 'per-row' });
  const plain = await TrainStep.create(logistic, initParams(g), { noise: 'input', givenReals: true });
  try {
    const feeds = { noise: g('1/noise') };
    await assert.rejects(perRow.step(g('1/features'), { ...feeds, givenReals: reals }), /givenReals.targets must be a Float32Array of 2 values in \[0, 1\)/);
    await assert.rejects(perRow.step(g('1/features'), { ...feeds, givenReals: { ...reals, targets: Float32Array.of(0.1, 1) } }), /values in \[0, 1\)/);
    await assert.rejects(
      plain.step(g('1/features'), { ...feeds, givenReals: { ...reals, targets: Float32Array.of(0.1, 0.2) } }),
      /needs a step created with givenRealsTarget: 'per-row'/,
    );
  } finally {
    await perRow.release();
    await plain.release();
  }
});

test('givenRealsTarget: refused outside [0, 1) and without given reals, the logistic loss or every row', async () => {
  const params = initParams();
  const logistic = headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic' });
  await Promise.all([
    assert.rejects(
      TrainStep.create(logistic, params, { noise: 'input', givenReals: true, givenRealsTarget: 1 }),
      /givenRealsTarget must be in \[0, 1\) or 'per-row', got 1/,
    ),
    assert.rejects(TrainStep.create(logistic, params, { noise: 'input', givenRealsTarget: 0.5 }), /needs givenReals, the logistic loss and hardFraction 1/),
    assert.rejects(TrainStep.create(cfg, params, { noise: 'input', givenReals: true, givenRealsTarget: 0.5 }), /needs givenReals, the logistic loss/),
    assert.rejects(
      TrainStep.create(headConfig({ featureDim: 12, hiddenDim: 8, loss: 'logistic', hardFraction: 0.5 }), params, {
        noise: 'input',
        givenReals: true,
        givenRealsTarget: 0.5,
      }),
      /hardFraction 1/,
    ),
  ]);
});

/**
 * The rows a step graph with `mix` draws as data fakes, and their backbone offsets, for two
 * successive steps on `feats`: a graph holding only the noise and the data fakes, with the step
 * graph's seeds, run twice (each random node's stream advances per run, as in the step's session).
 */
async function drawnDataFakes(c: HeadConfig, seed: number, feats: HostTensor<'float32'>[]): Promise<{ rows: Int32Array; offsets: Float32Array }[]> {
  const g = new GraphBuilder('data fakes');
  const x = g.input('x', 'float32', ['R', c.featureDim]);
  let eps = addNoise(g, x, c, { seed });
  assert.ok(eps);
  const kinds = [];
  if (c.dataDirections > 0) kinds.push(addDataDirections(g, x, eps, c.dataDirections, seed));
  if (c.extrapolatedFakes > 0) {
    const dd = kinds[0];
    if (dd) eps = g.op('Where', [dd.use, g.scalarF32(0), dd.eps]); // as the step passes it on
    kinds.push(addExtrapolatedFakes(g, x, eps, c.extrapolatedFakes, seed));
  }
  kinds.forEach((k, i) => {
    g.output(k.offset, `offset${i}`, 'float32', ['R', c.featureDim]);
    g.output(k.mask, `mask${i}`, 'float32', ['R', 1]);
  });
  const s = await Session.create(g.toModel(), 'data fakes draw');
  try {
    const out = [];
    for (const f of feats) {
      const r = await s.run({ x: f });
      const rows: number[] = [];
      const offsets: number[] = [];
      const D = c.featureDim;
      for (let row = 0; row < f.dims[0]; row++) {
        // A later kind takes its rows from an earlier one.
        const k = [...kinds.keys()].reverse().find((i) => (r[`mask${i}`].data as Float32Array)[row] === 1);
        if (k === undefined) continue;
        rows.push(row);
        offsets.push(...(r[`offset${k}`].data as Float32Array).subarray(row * D, (row + 1) * D));
      }
      out.push({ rows: Int32Array.from(rows), offsets: Float32Array.from(offsets) });
    }
    return out;
  } finally {
    await s.release();
  }
}

/** The given rows `b` with the rows of `a` they do not hold. */
function union(
  a: { rows: Int32Array; offsets: Float32Array },
  b: { rows: Int32Array; offsets: Float32Array },
  D: number,
): { rows: Int32Array; offsets: Float32Array } {
  const taken = new Set(b.rows);
  const keep = [...a.rows.keys()].filter((i) => !taken.has(a.rows[i]));
  assert.ok(keep.length < a.rows.length, 'some given rows are also fakes on a line');
  const offsets = new Float32Array((keep.length + b.rows.length) * D);
  keep.forEach((i, k) => offsets.set(a.offsets.subarray(i * D, (i + 1) * D), k * D));
  offsets.set(b.offsets, keep.length * D);
  return { rows: Int32Array.from([...keep.map((i) => a.rows[i]), ...b.rows]), offsets };
}

test('fakesThroughAdaptor: fakes on the line to a partner, formed from the real rows, equal the same rows given as X + δ one by one (two steps)', async () => {
  const gf2 = goldenIn('step_logistic_through');
  const feats = [gf2('1/features'), gf2('2/features')];
  const base = { featureDim: 12, hiddenDim: 8, noiseStd: 0.3, loss: 'logistic', ascentSteps: 1, fakesThroughAdaptor: true } as const;
  const seed = 7;
  const stains = [1, 2].map((s) => ({ rows: Int32Array.from(gf2(`${s}/given_rows`).data), offsets: Float32Array.from(gf2(`${s}/given_offsets`).data) }));
  const cases = [{ extrapolatedFakes: 0.5 }, { dataDirections: 0.5 }, { dataDirections: 0.5, extrapolatedFakes: 0.3 }].map((mix) => ({ mix, stains: false }));
  // Given rows (the stains) keep their own offset where a fake on a line would have been.
  cases.push({ mix: { extrapolatedFakes: 0.9 }, stains: true });
  for (const { mix, stains: withStains } of cases) {
    const c = headConfig({ ...base, ...mix });
    const draws = await drawnDataFakes(c, seed, feats);
    assert.ok(
      draws.every((d) => d.rows.length > 0 && d.rows.length < feats[0].dims[0]),
      `some rows are data fakes, not all: ${draws.map((d) => d.rows.length)} of ${feats[0].dims[0]}`,
    );
    const pair = await TrainStep.create(c, initParams(gf2), { noise: { seed }, givenFakes: withStains });
    const given = await TrainStep.create(headConfig(base), initParams(gf2), { noise: { seed }, givenFakes: true });
    for (const s of [0, 1]) {
      const a = await pair.step(feats[s], withStains ? { givenFakes: stains[s] } : {});
      const b = await given.step(feats[s], { givenFakes: withStains ? union(draws[s], stains[s], c.featureDim) : draws[s] });
      assertClose([a.loss], [b.loss], { rtol: 1e-5, label: `${JSON.stringify(mix)} step ${s + 1} loss` });
    }
    const [pa, pb] = [pair.params(), given.params()];
    for (const n of PARAM_NAMES) {
      // adaptor.bias: Adam's steps on its round-off gradient, as in twoStepsMatchPyTorch.
      const atol = n === 'adaptor.bias' ? 1.01 * 2 * c.adaptorLr : 1e-6;
      assertClose(pa[n].data, pb[n].data, { rtol: 1e-4, atol, label: `${JSON.stringify(mix)} ${n}` });
    }
    await pair.release();
    await given.release();
  }
});

test('headConfig refuses ascent settings that are not a step count and a positive size', () => {
  for (const n of [-1, 0.5]) assert.throws(() => headConfig({ ascentSteps: n }), /headConfig: ascentSteps must be an integer ≥ 0/);
  for (const v of [0, Number.NaN]) assert.throws(() => headConfig({ ascentSize: v }), /headConfig: ascentSize must be a finite number > 0/);
});

test('extrapolatedFakes: a share in [0, 1], drawn in-graph only; 0 is the plain step', async () => {
  for (const f of [-0.1, 1.01, Number.NaN]) assert.throws(() => headConfig({ extrapolatedFakes: f }), /headConfig: extrapolatedFakes must be in \[0, 1\]/);
  const cfg = headConfig({ featureDim: 12, hiddenDim: 8, extrapolatedFakes: 0.5 });
  await assert.rejects(() => TrainStep.create(cfg, initParams(), { noise: 'input' }), /extrapolatedFakes needs noise drawn in-graph/);
  const feats = f32(
    [40, 12],
    Float32Array.from({ length: 480 }, (_, i) => Math.sin(i)),
  );
  const losses: number[] = [];
  for (const c of [cfg, headConfig({ featureDim: 12, hiddenDim: 8, extrapolatedFakes: 0 }), headConfig({ featureDim: 12, hiddenDim: 8 })]) {
    const ts = await TrainStep.create(c, initParams(), { noise: { seed: 1 } });
    losses.push((await ts.step(feats)).loss);
    await ts.release();
  }
  assert.ok(Number.isFinite(losses[0]), 'a step runs');
  assert.equal(losses[1], losses[2], 'share 0 is the plain step');
  assert.notEqual(losses[0], losses[2], 'a share > 0 changes the fakes');
});

test('dataDirections: a share in [0, 1], drawn in-graph only (fed noise has no pairing to draw from)', async () => {
  for (const f of [-0.1, 1.01, Number.NaN]) assert.throws(() => headConfig({ dataDirections: f }), /headConfig: dataDirections must be in \[0, 1\]/);
  const cfg = headConfig({ featureDim: 12, hiddenDim: 8, dataDirections: 0.5 });
  await assert.rejects(() => TrainStep.create(cfg, initParams(), { noise: 'input' }), /dataDirections needs noise drawn in-graph/);
  const ts = await TrainStep.create(cfg, initParams(), { noise: { seed: 1 } });
  const r = await ts.step(
    f32(
      [40, 12],
      Float32Array.from({ length: 480 }, (_, i) => Math.sin(i)),
    ),
  );
  assert.ok(Number.isFinite(r.loss), 'a step runs');
  await ts.release();
});

test('headConfig refuses a hard fraction outside (0, 1]', () => {
  for (const f of [0, -0.1, 1.01, Number.NaN]) assert.throws(() => headConfig({ hardFraction: f }), /headConfig: hardFraction must be in \(0, 1\]/);
});

test('headConfig refuses an unknown loss', () => {
  assert.throws(() => headConfig({ loss: 'hinge' as HeadConfig['loss'] }), /headConfig: loss must be 'truncated-l1' or 'logistic', got hinge/);
});

test('state round-trips through params()/optimizerState()/load(): a resumed step equals the original', async () => {
  const a = await TrainStep.create(cfg, initParams(), { noise: 'input' });
  await a.step(gf('1/features'), { noise: gf('1/noise') });
  const b = await TrainStep.create(cfg, initParams(), { noise: 'input' });
  b.load(a.params(), a.optimizerState());
  const ra = await a.step(gf('2/features'), { noise: gf('2/noise') });
  const rb = await b.step(gf('2/features'), { noise: gf('2/noise') });
  assert.deepEqual(rb, ra);
  assert.deepEqual(b.params()['adaptor.weight'].data, a.params()['adaptor.weight'].data);
});

async function toHalf(t: HostTensor<'float32'>): Promise<HostTensor<'float16'>> {
  const g = new GraphBuilder('half');
  g.output(g.cast(g.input('x', 'float32', [...t.dims]), 'float16'), 'y', 'float16');
  const out = await (await Session.create(g.toModel(), 'half')).run({ x: t });
  return { dtype: 'float16', dims: [...t.dims], data: out.y.data as Uint16Array };
}

test('float16 features are cast in-graph: same step as float32 features holding the same values', async () => {
  const half = await toHalf(gf('1/features'));
  const g = new GraphBuilder('back');
  g.output(g.cast(g.input('x', 'float16', [...half.dims]), 'float32'), 'y', 'float32');
  const back = (await (await Session.create(g.toModel(), 'back')).run({ x: half })).y.data as Float32Array;
  const a = await TrainStep.create(cfg, initParams(), { noise: 'input', featureDtype: 'float16' });
  const b = await TrainStep.create(cfg, initParams(), { noise: 'input' });
  const ra = await a.step(half, { noise: gf('1/noise') });
  const rb = await b.step(f32(half.dims, back), { noise: gf('1/noise') });
  assertClose([ra.loss], [rb.loss], { rtol: 1e-6, label: 'loss' });
  assertClose(a.params()['adaptor.weight'].data, b.params()['adaptor.weight'].data, { rtol: 1e-6 });
  await assert.rejects(() => a.step(gf('1/features'), { noise: gf('1/noise') }), /features must be float16/);
});

test('in-graph noise: same seed gives the same run in fresh sessions, another seed differs', async () => {
  const rng = new Rng(5);
  const x = f32(
    [10, 12],
    Array.from({ length: 120 }, () => rng.normal()),
  );
  const run = async (seed: number, c = headConfig({ featureDim: 12, hiddenDim: 8, noiseStd: 0.3 })) => {
    const ts = await TrainStep.create(c, initParams(), { noise: { seed } });
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) losses.push((await ts.step(x)).loss);
    await ts.release();
    return losses;
  };
  const a = await run(7);
  assert.deepEqual(await run(7), a);
  assert.notDeepEqual(await run(8), a);
  assert.ok(new Set(a).size === 3, 'the noise changes between steps of one session');
  // With σ = 0 the in-graph noise is exactly zero: same as feeding zeros.
  const zeroCfg = headConfig({ featureDim: 12, hiddenDim: 8, noiseStd: 0 });
  const z = await TrainStep.create(zeroCfg, initParams(), { noise: 'input' });
  const rz = await z.step(x, { noise: f32([10, 12]) });
  assert.equal((await run(7, zeroCfg))[0], rz.loss);
});

test('bad arguments are refused with errors naming them', async () => {
  await assert.rejects(() => TrainStep.create(cfg, initParams(), { noise: 'nope' as never }), /opts.noise must be/);
  const p = initParams();
  await assert.rejects(() => TrainStep.create(cfg, { ...p, 'adaptor.bias': f32([3]) }, { noise: 'input' }), /'adaptor.bias'.*\[12\]/);
  const ts = await TrainStep.create(cfg, p, { noise: 'input' });
  await assert.rejects(() => ts.step(f32([4, 11])), /features must be \[R ≥ 1, 12\]/);
  await assert.rejects(() => ts.step(f32([4, 12])), /opts.noise \[4, 12\] float32 is required/);
  await assert.rejects(() => ts.step(f32([4, 12]), { noise: f32([3, 12]) }), /opts.noise must be float32 \[4, 12\]/);
  assert.equal(ts.stepCount, 0);
  await assert.rejects(() => TrainStep.create({ ...cfg, beta2: 1 }, p, { noise: 'input' }), /beta2 must be in \[0, 1\)/);
  // R is a dynamic dim: one session takes batches of any row count.
  const r = await ts.step(f32([1, 12], new Float32Array(12).fill(0.5)), { noise: f32([1, 12], new Float32Array(12).fill(0.1)) });
  assert.ok(Number.isFinite(r.loss));
  assert.equal(ts.stepCount, 1);
});
