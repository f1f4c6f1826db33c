/**
 * The int8 head Linear: 7-bit per-channel weights that round-trip within half a step, the graph's
 * result within a percent of float32 on every row whatever the other rows' ranges, and the option refused where there is no folded Linear.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../../onnx/builder.js';
import { Session } from '../../onnx/session.js';
import { f32 } from '../../onnx/tensor.js';
import { addInt8Linear, quantizeLinearWeight } from '../int8Linear.js';
import { addPatchScores } from '../scoreHead.js';
import { initHeadParams } from '../params.js';
import { Rng } from '../../core/rng.js';

const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731 + seed) * Math.cos(i * 0.017));

test('quantizeLinearWeight: two 7-bit digits per weight, within half a step of the second', () => {
  const [out, inDim] = [5, 40];
  const w = wave(out * inDim, 1);
  w.fill(0, 2 * inDim, 3 * inDim); // an all-zero row
  const { q, scales } = quantizeLinearWeight(f32([out, inDim], w));
  assert.deepEqual(q.dims, [inDim, 2 * out]);
  for (let o = 0; o < out; o++) {
    const row = w.subarray(o * inDim, (o + 1) * inDim);
    const peak = Math.max(...Array.from(row, Math.abs));
    const s = scales.data[o];
    assert.equal(s, peak > 0 ? Math.fround(peak / 63) : 1, `row ${o} scale`);
    assert.equal(scales.data[out + o], Math.fround(s / 64), `row ${o} second digit's scale`);
    for (let i = 0; i < inDim; i++) {
      const [hi, lo] = [q.data[i * 2 * out + o], q.data[i * 2 * out + out + o]];
      assert.ok(Math.abs(hi) <= 63 && Math.abs(lo) <= 32, `digits ${hi}, ${lo}`);
      assert.ok(Math.abs(hi * s + lo * (s / 64) - row[i]) <= s / 128 + 1e-7, `row ${o} [${i}]`);
    }
  }
  assert.throws(() => quantizeLinearWeight(f32([4], [1, 2, 3, 4])), /weight must be \[out, in\], got \[4\]/);
});

test('addInt8Linear: x·Wᵀ + b within half a percent of float32', async () => {
  const [m, d, h] = [300, 96, 48];
  const weight = f32([h, d], wave(h * d, 2));
  const bias = f32([h], wave(h, 3));
  const x = f32(
    [m, d],
    Float32Array.from(wave(m * d, 4), (v) => Math.max(0, v + 0.2)),
  );
  const g = new GraphBuilder('int8_linear');
  const input = g.input('x', 'float32', [m, d]);
  g.output(addInt8Linear(g, input, weight, bias), 'y', 'float32');
  g.output(g.op('Gemm', [input, g.constant(weight), g.constant(bias)], { transB: 1 }), 'reference', 'float32');
  const s = await Session.create(g.toModel(), 'int8 linear');
  const out = await s.run({ x });
  await s.release();
  const y = out.y.data as Float32Array;
  const ref = out.reference.data as Float32Array;
  let err = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    err += (y[i] - ref[i]) ** 2;
    norm += ref[i] ** 2;
  }
  const relative = Math.sqrt(err / norm);
  assert.ok(relative < 0.005, `relative error ${relative}`);
  assert.ok(relative > 0, 'the int8 path is a different computation');
});

test('addInt8Linear: every row on its own range: next to a row 1000× wider the others stay within a percent; a constant row is exact', async () => {
  const [m, d, h] = [64, 96, 48];
  const weight = f32([h, d], wave(h * d, 5));
  const bias = f32([h], wave(h, 6));
  const data = Float32Array.from(wave(m * d, 7), (v) => v + 0.1);
  for (let i = 0; i < d; i++) data[i] *= 1000; // row 0: a patch far wider than the rest
  data.fill(0.37, d, 2 * d); // row 1: constant
  const g = new GraphBuilder('int8_rows');
  const input = g.input('x', 'float32', [m, d]);
  g.output(addInt8Linear(g, input, weight, bias), 'y', 'float32');
  g.output(g.op('Gemm', [input, g.constant(weight), g.constant(bias)], { transB: 1 }), 'reference', 'float32');
  const s = await Session.create(g.toModel(), 'int8 rows');
  const out = await s.run({ x: f32([m, d], data) });
  await s.release();
  const y = out.y.data as Float32Array;
  const ref = out.reference.data as Float32Array;
  for (let r = 0; r < m; r++) {
    let err = 0;
    let norm = 0;
    for (let o = 0; o < h; o++) {
      err += (y[r * h + o] - ref[r * h + o]) ** 2;
      norm += ref[r * h + o] ** 2;
    }
    const relative = Math.sqrt(err / norm);
    // One range for the batch would give the small rows steps 1000× too coarse (errors of order 1).
    assert.ok(relative < (r === 1 ? 1e-4 : 0.01), `row ${r}: relative error ${relative}`);
  }
});

test('addPatchScores refuses int8 without a folded head', () => {
  const params = initHeadParams({ featureDim: 8, hiddenDim: 4 }, new Rng(0));
  const g = new GraphBuilder('head');
  const features = g.input('features', 'float32', ['patches', 8]);
  assert.throws(() => addPatchScores(g, features, params, { fold: true, int8: true }), /opts\.int8 needs a FoldedHead/);
});
