import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float, GraphBuilder } from '../builder.js';
import { Session } from '../session.js';
import { f32 } from '../tensor.js';

test('a built graph runs in onnxruntime with attributes and initializers', async () => {
  const g = new GraphBuilder('t');
  const x = g.input('x', 'float32', [2, 3]);
  const w = g.initializer('w', f32([3, 2], [1, 2, 3, 4, 5, 6]));
  const y = g.op('MatMul', [x, w]);
  const z = g.op('LeakyRelu', [g.op('Sub', [y, g.scalarF32(20)])], { alpha: float(0.5) });
  g.output(z, 'z', 'float32', [2, 2]);
  const s = await Session.create(g.toModel({ purpose: 'test' }), 'builder test');
  const out = await s.run({ x: f32([2, 3], [1, 0, 0, 0, 1, 1]) });
  assert.deepEqual(Array.from(out.z.data as Float32Array), [-9.5, -9, -6, -5]);
});

test('using a value name twice is an error that names the value', () => {
  const g = new GraphBuilder('t');
  g.input('x', 'float32', [1]);
  assert.throws(() => g.input('x', 'float32', [1]), /'x' is used twice/);
  assert.throws(() => g.op('Relu', ['nope']), /unknown value 'nope'/);
});
