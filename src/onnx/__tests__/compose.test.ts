import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../builder.js';
import { composedModel, inlineModel, mergeOpsets, upgradeGraph } from '../compose.js';
import { decodeModel } from '../decode.js';
import { encodeModel } from '../model.js';
import { Session } from '../session.js';
import { f32 } from '../tensor.js';

const x = f32(
  [2, 3, 4],
  Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3),
);

async function run(model: Uint8Array, feeds: Record<string, ReturnType<typeof f32>>, fetches: string[]) {
  const s = await Session.create(model, 'compose test', { optimization: 'basic' });
  const out = await s.run(feeds, fetches);
  await s.release();
  return fetches.map((f) => Array.from(out[f].data as Float32Array));
}

/** A "foreign" model at `opset` using the axes forms of that opset, with an extra unused branch. */
function foreign(opset: number): Uint8Array {
  const g = new GraphBuilder('foreign');
  const input = g.input('pixels', 'float32', ['N', 3, 4]);
  g.input('unused_input', 'float32', [1]);
  const w = g.initializer(
    'w',
    f32(
      [4, 4],
      Array.from({ length: 16 }, (_, i) => (i % 5) - 2),
    ),
  );
  const h = g.op('Relu', [g.op('MatMul', [input, w])], {}, { output: 'hidden' });
  let sum: string;
  let expanded: string;
  if (opset < 13) {
    sum = g.op('ReduceSum', [h], { axes: [2], keepdims: 0 });
    expanded = g.op('Squeeze', [g.op('Unsqueeze', [sum], { axes: [0] })], { axes: [0] });
  } else {
    sum = g.op('ReduceSum', [h, g.ints([2])], { keepdims: 0 });
    expanded = g.op('Squeeze', [g.op('Unsqueeze', [sum, g.ints([0])]), g.ints([0])]);
  }
  const mean = opset >= 18 ? g.op('ReduceMean', [h, g.ints([1])], { keepdims: 0 }) : g.op('ReduceMean', [h], { axes: [1], keepdims: 0 });
  const soft = g.op('Softmax', [expanded], { axis: -1 });
  g.output(soft, 'layer_a', 'float32');
  g.output(mean, 'layer_b', 'float32');
  g.output(g.op('Add', ['unused_input', g.scalarF32(1)]), 'needs_unused', 'float32');
  return g.toModel({}, opset);
}

/** Our side: doubles the input, inlines the foreign model, adds a ReduceMean (axes attribute at 17). */
function composed(model: Uint8Array): Uint8Array {
  const g = new GraphBuilder('ours');
  const input = g.input('x', 'float32', ['N', 3, 4]);
  const doubled = g.op('Mul', [input, g.scalarF32(2)]);
  const r = inlineModel(g, decodeModel(model, 'foreign.onnx'), {
    prefix: 'bb/',
    inputs: { pixels: doubled },
    outputs: ['layer_a', 'layer_b'],
    opset: 17,
    source: 'foreign.onnx',
  });
  g.output(r.outputs[0], 'a', 'float32');
  g.output(g.op('ReduceMean', [r.outputs[1]], { axes: [1], keepdims: 0 }), 'b', 'float32');
  const opsets = mergeOpsets({ '': 17 }, r.opsets);
  return encodeModel(composedModel(upgradeGraph(g.graph(), 17, opsets['']), opsets, {}));
}

for (const opset of [11, 13, 17, 18]) {
  test(`a backbone at opset ${opset} inlines into our opset-17 graph and computes the same values`, async () => {
    const model = foreign(opset);
    const x2 = f32(
      x.dims,
      x.data.map((v) => v * 2),
    );
    const [a, b] = await run(model, { pixels: x2, unused_input: f32([1], [0]) }, ['layer_a', 'layer_b']);
    const bytes = composed(model);
    assert.equal(decodeModel(bytes).opsetVersion, Math.max(17, opset));
    const [ca, cb] = await run(bytes, { x }, ['a', 'b']);
    assert.deepEqual(ca, a);
    const meanB = [0, 1].map((n) => (b[n * 4] + b[n * 4 + 1] + b[n * 4 + 2] + b[n * 4 + 3]) / 4);
    cb.forEach((v, i) => assert.ok(Math.abs(v - meanB[i]) < 1e-5, `${v} vs ${meanB[i]}`));
    const names = decodeModel(bytes).graph.initializers.map((i) => i.name);
    assert.ok(names.includes('bb/w'), 'initializers keep their names under the prefix');
    assert.equal(decodeModel(bytes).graph.inputs.length, 1, 'the unused input and its branch are pruned');
  });
}

test('what cannot be inlined is refused with the model named', () => {
  const g = new GraphBuilder('old');
  const input = g.input('pixels', 'float32', ['N', 4]);
  g.output(g.op('Softmax', [input]), 'probs', 'float32');
  const old = decodeModel(g.toModel({}, 11), 'old.onnx');
  const inline = (m: typeof old, outputs: string[], inputs: Record<string, string> = { pixels: 'x' }) => {
    const ours = new GraphBuilder('ours');
    ours.input('x', 'float32', ['N', 4]);
    return inlineModel(ours, m, { prefix: 'b/', inputs, outputs, opset: 17, source: 'old.onnx' });
  };
  assert.throws(() => inline(old, ['probs']), /old\.onnx: Softmax node .* changes meaning at opset 13/);
  assert.throws(() => inline(old, ['nope']), /old\.onnx: 'nope' is not a value of the graph/);
  assert.throws(() => inline(old, ['probs'], { image: 'x' }), /old\.onnx: 'image' is not an input \(inputs: pixels\)/);
  const g9 = new GraphBuilder('ancient');
  g9.output(g9.op('Relu', [g9.input('pixels', 'float32', [1])]), 'y', 'float32');
  assert.throws(() => inline(decodeModel(g9.toModel({}, 9), 'old.onnx'), ['y']), /opset 9 is too old/);
});
