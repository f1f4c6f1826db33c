import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32 } from '../../onnx/tensor.js';
import { FP16_MIN_ELEMENTS, toHalfBits, weightsToFp16 } from '../fp16.js';

test('float32 → float16 bits: exact values, rounding to nearest even, subnormals, overflow, NaN', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [2 ** -24, 0x0001],
    [2 ** -14, 0x0400],
    [1e-8, 0x0000],
    [Infinity, 0x7c00],
  ];
  for (const [v, bits] of cases) assert.equal(toHalfBits(v), bits, `${v}`);
  assert.equal(toHalfBits(NaN) & 0x7e00, 0x7e00);
});

test('large float32 initializers become float16 behind a Cast; small ones stay float32', () => {
  const big = f32([FP16_MIN_ELEMENTS], new Array(FP16_MIN_ELEMENTS).fill(0.5));
  const g = weightsToFp16({
    name: 'g',
    nodes: [{ opType: 'Relu', inputs: ['w'], outputs: ['y'], name: 'r', attributes: {} }],
    initializers: [
      { name: 'w', tensor: big },
      { name: 'threshold', tensor: f32([], [0.1]) },
    ],
    inputs: [],
    outputs: [],
  });
  assert.deepEqual(
    g.initializers.map((i) => [i.name, i.tensor.dtype]),
    [
      ['w__fp16', 'float16'],
      ['threshold', 'float32'],
    ],
  );
  assert.deepEqual(
    g.nodes.map((n) => [n.opType, n.inputs[0], n.outputs[0]]),
    [
      ['Cast', 'w__fp16', 'w'],
      ['Relu', 'w', 'y'],
    ],
  );
});
