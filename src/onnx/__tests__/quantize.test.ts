/**
 * The static int8 quantizer against reference/golden_qdq.py (torch fake-quantization of the same
 * tiny conv net with the same ranges): parameters, op-by-op QDQ semantics ('disabled'), and
 * onnxruntime's fused int8 kernels ('all', checked to really be QLinearConv/QLinearAdd).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { golden, goldenJson } from '../../testing/golden.js';
import { GraphBuilder } from '../builder.js';
import { collectRanges } from '../calibrate.js';
import { decodeModel } from '../decode.js';
import { foldBatchNorm } from '../foldBatchNorm.js';
import { encodeModel, type ModelProto } from '../model.js';
import { activationParams, dequantizeValue, quantizeValue, type TensorRange } from '../quantParams.js';
import { RangeObserver } from '../rangeObserver.js';
import { calibrationTensors, prepareForQuantization, quantizeModel } from '../quantize.js';
import { Session } from '../session.js';
import { f32, type HostTensor } from '../tensor.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('quantize-test-');
after(() => rmSync(dir, { recursive: true, force: true }));

interface Params {
  ranges: Record<string, TensorRange>;
  activations: Record<string, { scale: number; zeroPoint: number }>;
}
const params = goldenJson<Params>('qdq/params.json');

/** The golden net: x → Conv → Relu → a; a → Conv → c; y = Relu(a + c). */
function tinyNet(): ModelProto {
  const g = new GraphBuilder('tiny');
  const x = g.input('x', 'float32', [1, 3, 8, 8]);
  const conv = (v: string, w: string, b: string, output: string) =>
    g.op(
      'Conv',
      [v, g.initializer(w, golden(`qdq/${w}.npy`)), g.initializer(b, golden(`qdq/${b}.npy`))],
      { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      { output },
    );
  const a = g.op('Relu', [conv(x, 'w1', 'b1', 'h1')], {}, { output: 'a' });
  const c = conv(a, 'w2', 'b2', 'c');
  g.output(g.op('Relu', [g.op('Add', [a, c])], {}, { output: 'y' }), 'y', 'float32', [1, 4, 8, 8]);
  return prepareForQuantization(decodeModel(g.toModel()));
}

async function run(model: ModelProto, optimization: 'disabled' | 'all', optimizedPath?: string): Promise<Float32Array> {
  const bytes = encodeModel(model);
  const options: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: optimization, optimizedModelFilePath: optimizedPath };
  const s = optimizedPath ? await ort.InferenceSession.create(bytes, options) : await Session.create(bytes, 'tiny', { optimization });
  const x = golden('qdq/x.npy');
  const out = await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [...x.dims]) });
  await s.release();
  return out.y.data as Float32Array;
}

test('quantize then dequantize is within scale/2 inside the range and saturates at its ends', () => {
  for (const range of [
    { min: -1.3, max: 2.9 },
    { min: 0, max: 6 },
    { min: 0.5, max: 4 },
    { min: -3, max: -0.25 },
  ]) {
    const p = activationParams(range);
    const lo = Math.min(range.min, 0);
    const hi = Math.max(range.max, 0);
    assert.equal(dequantizeValue(quantizeValue(0, p, 0, 255), p), 0, 'zero is exact');
    for (let i = 0; i <= 1000; i++) {
      const x = lo + ((hi - lo) * i) / 1000;
      const err = Math.abs(dequantizeValue(quantizeValue(x, p, 0, 255), p) - x);
      assert.ok(err <= p.scale / 2 + 1e-6, `[${lo}, ${hi}] x=${x}: error ${err} > scale/2 ${p.scale / 2}`);
    }
    assert.equal(quantizeValue(lo - 10, p, 0, 255), 0);
    assert.equal(quantizeValue(hi + 10, p, 0, 255), 255);
    assert.ok(Math.abs(dequantizeValue(255, p) - hi) <= p.scale, 'the top step is the range max');
  }
});

test('onnxruntime QuantizeLinear/DequantizeLinear agree with the host helpers', async () => {
  const p = activationParams({ min: -1.3, max: 2.9 });
  const xs = Array.from({ length: 512 }, (_, i) => -2 + (5 * i) / 511);
  const g = new GraphBuilder('qdq');
  const x = g.input('x', 'float32', [xs.length]);
  const scale = g.scalarF32(p.scale);
  const zp = g.constant({ dtype: 'uint8', dims: [], data: Uint8Array.of(p.zeroPoint) });
  g.output(g.op('DequantizeLinear', [g.op('QuantizeLinear', [x, scale, zp]), scale, zp]), 'y', 'float32');
  const s = await Session.create(g.toModel(), 'qdq', { optimization: 'disabled' });
  const y = (await s.run({ x: f32([xs.length], xs) })).y.data as Float32Array;
  await s.release();
  xs.forEach((v, i) => assert.equal(y[i], dequantizeValue(quantizeValue(Math.fround(v), p, 0, 255), p), `x=${v}`));
});

test('MinMax calibration gives the golden ranges', async () => {
  const model = tinyNet();
  assert.deepEqual(calibrationTensors(model), ['x', 'a', 'c', 'y']);
  const ranges = await collectRanges(model, [{ x: golden('qdq/x.npy') }]);
  for (const [name, r] of Object.entries(params.ranges)) {
    const got = ranges.get(name) as TensorRange;
    assert.ok(Math.abs(got.min - r.min) <= 1e-5 && Math.abs(got.max - r.max) <= 1e-5, `${name}: [${got.min}, ${got.max}] vs [${r.min}, ${r.max}]`);
  }
});

for (const bits of [8, 7] as const) {
  test(`${bits}-bit weights: scales, zero points and outputs match the torch fake-quantized golden`, async () => {
    const q = quantizeModel(tinyNet(), params.ranges, { weightBits: bits });
    const inits = new Map(q.graph.initializers.map((i) => [i.name, i.tensor]));
    for (const [name, p] of Object.entries(params.activations)) {
      assert.equal((inits.get(`${name}_scale`) as HostTensor).data[0], Math.fround(p.scale), `${name} scale`);
      assert.equal((inits.get(`${name}_zero_point`) as HostTensor).data[0], p.zeroPoint, `${name} zero point`);
    }
    for (const w of ['w1', 'w2']) {
      assert.deepEqual([...(inits.get(`${w}_scale`) as HostTensor).data], [...golden(`qdq/${w}_scale_w${bits}.npy`).data], `${w} scales`);
      assert.ok(
        (inits.get(`${w}_zero_point`) as HostTensor).data.every((z) => z === 0),
        `${w} is symmetric`,
      );
      assert.equal((inits.get(`${w}_quantized`) as HostTensor).dtype, 'int8');
    }
    const expected = golden(`qdq/y_qdq_w${bits}.npy`).data as Float32Array;
    const opByOp = await run(q, 'disabled');
    expected.forEach((e, i) => assert.ok(Math.abs(opByOp[i] - e) <= 1e-5, `disabled [${i}]: ${opByOp[i]} vs ${e}`));

    const optimized = join(dir, `tiny-w${bits}.onnx`);
    const fused = await run(q, 'all', optimized);
    const step = params.activations.y.scale;
    expected.forEach((e, i) => assert.ok(Math.abs(fused[i] - e) <= step + 1e-6, `all [${i}]: ${fused[i]} vs ${e} (step ${step})`));
    const ops = decodeModel(readFileSync(optimized)).graph.nodes.map((n) => n.opType);
    assert.equal(ops.filter((o) => o === 'QLinearConv').length, 2, `fused graph: ${ops.join(', ')}`);
    assert.equal(ops.filter((o) => o === 'QLinearAdd').length, 1, `fused graph: ${ops.join(', ')}`);
    assert.ok(!ops.includes('Conv') && !ops.includes('Relu'), `no float conv left: ${ops.join(', ')}`);
  });
}

test('a missing range is named', () => {
  assert.throws(() => quantizeModel(tinyNet(), { x: { min: 0, max: 1 } }), /no range for 'a'/);
});

test('BatchNormalization after a Conv is folded into its weights and bias', async () => {
  const g = new GraphBuilder('bn');
  const x = g.input('x', 'float32', [1, 2, 4, 4]);
  const w = g.initializer('w', f32([3, 2, 1, 1], [1, 2, -1, 0.5, 0.25, -2]));
  const conv = g.op('Conv', [x, w], { kernel_shape: [1, 1] });
  const bn = (name: string, v: number[]) => g.initializer(name, f32([3], v));
  const y = g.op('BatchNormalization', [conv, bn('gamma', [1.5, 0.5, 2]), bn('beta', [0.1, -0.2, 0.3]), bn('mean', [0.2, 0, -1]), bn('var', [4, 1, 0.25])]);
  g.output(y, 'y', 'float32');
  const model = decodeModel(g.toModel());
  const folded = foldBatchNorm(model.graph);
  assert.deepEqual(
    folded.nodes.map((n) => n.opType),
    ['Conv', 'Identity'],
  );
  const input = f32(
    [1, 2, 4, 4],
    Array.from({ length: 32 }, (_, i) => Math.sin(i)),
  );
  const runOn = async (m: ModelProto) => {
    const s = await Session.create(encodeModel(m), 'bn', { optimization: 'disabled' });
    const out = (await s.run({ x: input })).y.data as Float32Array;
    await s.release();
    return out;
  };
  const a = await runOn(model);
  const b = await runOn({ ...model, graph: folded });
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-5, `[${i}] ${v} vs ${b[i]}`));
});

test('percentile calibration clips rare outliers; the histogram survives a widening batch', () => {
  const minmax = new RangeObserver(false);
  const pct = new RangeObserver(true);
  const first = Float32Array.from({ length: 10000 }, (_, i) => (i % 2 ? 1 : -1) * (i / 10000));
  const second = Float32Array.from({ length: 10000 }, (_, i) => (i === 0 ? 50 : (i % 2 ? 1 : -1) * (i / 10000)));
  for (const batch of [first, second]) {
    minmax.add(batch, 'x');
    pct.add(batch, 'x');
  }
  assert.deepEqual(minmax.range(), { min: Math.fround(-0.9998), max: 50 });
  const r = pct.range(99);
  // 99% of |x| lies below 0.99; one bin of the widened histogram is 50/2048 ≈ 0.024 wide.
  assert.ok(Math.abs(r.max - 0.99) <= 0.05 && Math.abs(r.min + 0.99) <= 0.05, JSON.stringify(r));
  assert.throws(() => pct.add(Float32Array.of(Number.NaN), 'x'), /'x' has NaN/);
});

test('MaxPool and zero Pad run on the uint8 tensor: the fused graph is int8 from input to output', async () => {
  const g = new GraphBuilder('pass');
  const x = g.input('x', 'float32', [1, 3, 8, 8]);
  const w = (name: string, dims: number[]) =>
    g.initializer(
      name,
      f32(
        dims,
        Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 1.7) / 3),
      ),
    );
  const h = g.op('Relu', [g.op('Conv', [x, w('w1', [4, 3, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
  const pooled = g.op('MaxPool', [h], { kernel_shape: [2, 2], strides: [2, 2] });
  const padded = g.op('Pad', [pooled, g.ints([0, 0, 0, 0, 0, 0, 1, 1])]);
  g.output(g.op('Conv', [padded, w('w2', [2, 4, 3, 3])], { kernel_shape: [3, 3] }), 'y', 'float32');
  const model = prepareForQuantization(decodeModel(g.toModel()));
  const input = {
    x: f32(
      [1, 3, 8, 8],
      Array.from({ length: 192 }, (_, i) => Math.cos(i * 0.37)),
    ),
  };
  const q = quantizeModel(model, await collectRanges(model, [input]));
  const ops = q.graph.nodes.map((n) => n.opType);
  assert.equal(
    ops.filter((o) => o === 'DequantizeLinear').length,
    5,
    `2 weights, x, the padded conv input, the output (none for the pooled value): ${ops.join(', ')}`,
  );
  const optimized = join(dir, 'pass.onnx');
  const s = await ort.InferenceSession.create(encodeModel(q), { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
  const fused = (await s.run({ x: new ort.Tensor('float32', input.x.data, [1, 3, 8, 8]) })).y.data as Float32Array;
  await s.release();
  const opByOp = await Session.create(encodeModel(q), 'pass', { optimization: 'disabled' });
  const expected = (await opByOp.run(input)).y.data as Float32Array;
  await opByOp.release();
  const step = (q.graph.initializers.find((i) => i.name === 'y_scale')?.tensor.data[0] as number) ?? 0;
  expected.forEach((e, i) => assert.ok(Math.abs(fused[i] - e) <= step + 1e-6, `[${i}] ${fused[i]} vs ${e}`));
  const after = decodeModel(readFileSync(optimized)).graph.nodes.map((n) => n.opType);
  assert.equal(after.filter((o) => o === 'QLinearConv').length, 2, after.join(', '));
  assert.ok(!after.includes('Conv') && after.filter((o) => o === 'DequantizeLinear').length === 1, after.join(', '));
});
