/**
 * Mixed precision in the static quantizer: values named float stay float32 together with the
 * Conv/Add units that read or write them, the rest still fuses to QLinearConv; and the per-value
 * uint8 error that decides which values those are.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../builder.js';
import { collectRanges, measureQuantizationError } from '../calibrate.js';
import { decodeModel } from '../decode.js';
import { encodeModel, type ModelProto } from '../model.js';
import { activationParams, dequantizeValue, quantizeValue } from '../quantParams.js';
import { calibrationTensors, prepareForQuantization, quantizeModel } from '../quantize.js';
import { planQuantization } from '../quantizePlan.js';
import { f32 } from '../tensor.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('quantize-mixed-test-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** x → Conv → Relu → a → Conv → b (linear) → Conv → Relu → c → Conv → y. */
function chain(): ModelProto {
  const g = new GraphBuilder('chain');
  const x = g.input('x', 'float32', [1, 3, 8, 8]);
  let k = 0;
  const conv = (v: string, cin: number, cout: number, output?: string) =>
    g.op(
      'Conv',
      [
        v,
        g.initializer(
          `w${++k}`,
          f32(
            [cout, cin, 3, 3],
            Array.from({ length: cout * cin * 9 }, (_, i) => Math.sin(i * 1.3 + k) / 3),
          ),
        ),
      ],
      { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
      output ? { output } : {},
    );
  const a = g.op('Relu', [conv(x, 3, 4)], {}, { output: 'a' });
  const b = conv(a, 4, 4, 'b');
  const c = g.op('Relu', [conv(b, 4, 4)], {}, { output: 'c' });
  g.output(conv(c, 4, 2, 'y'), 'y', 'float32');
  return prepareForQuantization(decodeModel(g.toModel()));
}
const input = {
  x: f32(
    [1, 3, 8, 8],
    Array.from({ length: 192 }, (_, i) => Math.cos(i * 0.37)),
  ),
};

test('a value kept float leaves its writer and reader units float; the others still fuse to QLinearConv', async () => {
  const model = chain();
  const plan = planQuantization(model.graph, ['b']);
  const convs = model.graph.nodes.filter((n) => n.opType === 'Conv');
  assert.deepEqual(
    convs.map((n) => plan.units.has(n)),
    [true, false, false, true],
    'the Conv writing b and the Conv reading it are not units',
  );
  assert.deepEqual(calibrationTensors(model, ['b']), ['x', 'a', 'c', 'y'], 'b needs no range; a (read by the first unit) and c still do');

  const q = quantizeModel(model, await collectRanges(model, [input]), { float: ['b'] });
  const optimized = join(dir, 'mixed.onnx');
  const s = await ort.InferenceSession.create(encodeModel(q), { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
  const y = (await s.run({ x: new ort.Tensor('float32', input.x.data, [1, 3, 8, 8]) })).y.data as Float32Array;
  await s.release();
  const ops = decodeModel(readFileSync(optimized)).graph.nodes.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'QLinearConv').length, 2, ops.join(', '));
  assert.equal(ops.filter((o) => o === 'Conv').length, 2, ops.join(', '));
  assert.ok(!q.graph.nodes.some((n) => n.opType === 'QuantizeLinear' && n.inputs[0].startsWith('b')), 'b is never quantized');

  const fs = await ort.InferenceSession.create(encodeModel(model));
  const ref = (await fs.run({ x: new ort.Tensor('float32', input.x.data, [1, 3, 8, 8]) })).y.data as Float32Array;
  await fs.release();
  const rel = Math.hypot(...y.map((v, i) => v - ref[i])) / Math.hypot(...ref);
  assert.ok(rel < 0.05, `mixed graph within 5 % of float: ${rel}`);
});

test('no float values: the same plan as before (every Conv a unit)', () => {
  const model = chain();
  const plan = planQuantization(model.graph, []);
  assert.ok(model.graph.nodes.filter((n) => n.opType === 'Conv').every((n) => plan.units.has(n)));
  assert.deepEqual(calibrationTensors(model), ['x', 'a', 'b', 'c', 'y']);
});

test('measureQuantizationError is the uint8 round-trip error with the range the quantizer uses; outliers make it larger', async () => {
  const model = chain();
  const ranges = await collectRanges(model, [input]);
  const errors = await measureQuantizationError(model, ranges, [input]);
  const p = activationParams(ranges.get('x')!);
  const x = input.x.data;
  const e = Math.hypot(...x.map((v) => dequantizeValue(quantizeValue(v, p, 0, 255), p) - v)) / Math.hypot(...x);
  assert.ok(Math.abs((errors.get('x') as number) - e) < 1e-6 * e, `${errors.get('x')} vs ${e}`);

  // One outlier widens x's range tenfold: the step grows with it, and so does the error (less than
  // tenfold, since the outlier also adds to ‖x‖).
  const spiky = {
    x: f32(
      [1, 3, 8, 8],
      Array.from(x, (v, i) => (i === 0 ? 20 : v)),
    ),
  };
  const wide = await measureQuantizationError(model, await collectRanges(model, [spiky]), [spiky]);
  assert.ok((wide.get('x') as number) > 3 * (errors.get('x') as number), `${wide.get('x')} vs ${errors.get('x')}`);
});
