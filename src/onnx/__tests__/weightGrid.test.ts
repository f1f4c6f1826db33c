/**
 * Weights that already lie on a uint8 grid (a quantization-aware-trained network, dequantized) are
 * stored on it exactly; ordinary float weights still get per-channel symmetric int8.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../builder.js';
import { collectRanges } from '../calibrate.js';
import { decodeModel } from '../decode.js';
import { encodeModel, type ModelProto } from '../model.js';
import { weightGrid } from '../quantParams.js';
import { prepareForQuantization, quantizeModel } from '../quantize.js';
import { Session } from '../session.js';
import { f32, type HostTensor } from '../tensor.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('weight-grid-test-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A seeded stream in [0, 1) (the same draws on every run). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `n` values on the grid scale·(q − zeroPoint), q drawn from lo…hi. */
function onGrid(n: number, scale: number, zeroPoint: number, lo = 0, hi = 255, seed = 1): Float32Array {
  const r = lcg(seed);
  // As a converter writes them: the float32 scale times the integer, rounded to float32.
  return Float32Array.from({ length: n }, () => Math.fround(Math.fround(scale) * (lo + Math.floor(r() * (hi - lo + 1)) - zeroPoint)));
}

test('weightGrid finds the grid a dequantized uint8 tensor lies on, and gives the values back exactly', () => {
  for (const [scale, zeroPoint, lo, hi] of [
    [0.0123, 100, 0, 255],
    [0.0021, 164, 1, 255],
    [3.5e-4, 51, 10, 200],
  ] as const) {
    const w = onGrid(2000, scale, zeroPoint, lo, hi);
    const g = weightGrid(w);
    assert.ok(g, `scale ${scale}, zero point ${zeroPoint}: no grid found`);
    for (const v of w) {
      const q: number = Math.round(v / g.scale) + g.zeroPoint;
      assert.ok(q >= 0 && q <= 255, `q ${q} out of uint8`);
      assert.equal(Math.fround(g.scale * (q - g.zeroPoint)), v, `${v} not given back`);
    }
  }
});

test('weightGrid refuses ordinary float weights, values off the grid, and more than 256 levels', () => {
  const r = lcg(7);
  assert.equal(weightGrid(Float32Array.from({ length: 500 }, () => r() * 2 - 1)), undefined, 'uniform floats');
  const off = onGrid(500, 0.01, 128);
  off[17] += 0.003;
  assert.equal(weightGrid(off), undefined, 'one value 0.3 steps off the grid');
  assert.equal(weightGrid(Float32Array.from({ length: 600 }, (_, i) => (i - 300) * 0.01)), undefined, '600 levels');
  assert.equal(weightGrid(new Float32Array(10)), undefined, 'all zeros: nothing to scale');
});

/** x → Conv(w1) → Relu → Conv(w2) → y, w1 on a uint8 grid, w2 ordinary floats. */
function net(): ModelProto {
  const g = new GraphBuilder('grid');
  const x = g.input('x', 'float32', [1, 3, 8, 8]);
  const w1 = f32([4, 3, 3, 3], onGrid(108, 0.02, 120, 0, 255, 3));
  const r = lcg(11);
  const w2 = f32(
    [2, 4, 3, 3],
    Array.from({ length: 72 }, () => r() - 0.5),
  );
  const a = g.op('Relu', [g.op('Conv', [x, g.initializer('w1', w1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })], {}, { output: 'a' });
  g.output(g.op('Conv', [a, g.initializer('w2', w2)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { output: 'y' }), 'y', 'float32');
  return prepareForQuantization(decodeModel(g.toModel()));
}

test('a grid weight is stored uint8 per tensor, exactly; a float weight int8 per channel; onnxruntime fuses both', async () => {
  const model = net();
  const r = lcg(5);
  const x = f32(
    [1, 3, 8, 8],
    Array.from({ length: 192 }, () => r() * 2 - 1),
  );
  const ranges = await collectRanges(model, [{ x }]);
  const q = quantizeModel(model, ranges, { weightBits: 7 });
  const inits = new Map(q.graph.initializers.map((i) => [i.name, i.tensor]));
  const w1 = model.graph.initializers.find((i) => i.name === 'w1')?.tensor as HostTensor;
  const q1 = inits.get('w1_quantized') as HostTensor;
  const s1 = (inits.get('w1_scale') as HostTensor).data[0] as number;
  const z1 = (inits.get('w1_zero_point') as HostTensor).data[0] as number;
  assert.equal(q1.dtype, 'uint8');
  assert.deepEqual((inits.get('w1_scale') as HostTensor).dims, [], 'one scale for the tensor');
  q1.data.forEach((v, i) => assert.ok(Math.abs(Math.fround(s1 * (Number(v) - z1)) - (w1.data[i] as number)) === 0, `w1[${i}] not exact`));
  assert.equal((inits.get('w2_quantized') as HostTensor).dtype, 'int8');
  assert.deepEqual((inits.get('w2_scale') as HostTensor).dims, [2], 'per output channel');

  const off = quantizeModel(model, ranges, { weightBits: 7, weightGrid: false });
  assert.equal(
    (new Map(off.graph.initializers.map((i) => [i.name, i.tensor])).get('w1_quantized') as HostTensor).dtype,
    'int8',
    'weightGrid: false rounds per channel',
  );

  // The fused kernels compute what the graph says op by op, to within one output step.
  const opByOp = await Session.create(encodeModel(q), 'grid', { optimization: 'disabled' });
  const expected = (await opByOp.run({ x })).y.data as Float32Array;
  await opByOp.release();
  const optimized = join(dir, 'grid.onnx');
  const s = await ort.InferenceSession.create(encodeModel(q), { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
  const fused = (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [1, 3, 8, 8]) })).y.data as Float32Array;
  await s.release();
  const step = Math.max(Math.abs(ranges.get('y')?.min ?? 0), ranges.get('y')?.max ?? 0) / 255;
  expected.forEach((e, i) => assert.ok(Math.abs(fused[i] - e) <= step + 1e-6, `[${i}]: fused ${fused[i]} vs op by op ${e}`));
  const ops = decodeModel(readFileSync(optimized)).graph.nodes.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'QLinearConv').length, 2, `fused graph: ${ops.join(', ')}`);
});
