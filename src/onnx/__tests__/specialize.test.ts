/**
 * Specialisation to a known input size: shape-only values folded (but not those that depend on the
 * batch), zero Pads made Conv padding (float, and uint8 by the zero point before a
 * DequantizeLinear), the outputs unchanged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder } from '../builder.js';
import { decodeModel } from '../decode.js';
import { encodeModel, type ModelProto } from '../model.js';
import { Session } from '../session.js';
import { foldShapeValues, fusePadIntoConv, shapeOnlyValues } from '../specialize.js';
import { f32, i64, type HostTensor } from '../tensor.js';

const weights = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.5);

/**
 * input [N, 3, H, W] → Pad by a size computed from Shape (1 on each side, as a converter writes
 * "SAME") → Conv 3×3 → Pad by a constant (bottom/right 1) → Conv 3×3 with its own pads 1 → Reshape
 * to [N, −1] through Shape (a batch-dependent value).
 */
function samePadNet(opts: { padValue?: number; channelPad?: boolean; mode?: string } = {}): ModelProto {
  const g = new GraphBuilder('same_pad');
  const x = g.input('x', 'float32', ['N', 3, 'H', 'W']);
  const h = g.op('Gather', [g.op('Shape', [x]), g.constant(i64([], [2]))], { axis: 0 });
  const one = g.op('Div', [g.op('Sub', [g.op('Add', [h, g.constant(i64([], [1]))]), h]), g.constant(i64([], [1]))]);
  const p = g.op('Unsqueeze', [one, g.ints([0])]);
  const zero2 = g.ints([0, 0]);
  const pads = g.op('Concat', [opts.channelPad ? g.op('Concat', [g.ints([0]), p], { axis: 0 }) : zero2, p, p, zero2, p, p], { axis: 0 });
  const padInputs = opts.padValue === undefined ? [x, pads] : [x, pads, g.constant(f32([], [opts.padValue]))];
  const padded = g.op('Pad', padInputs, opts.mode ? { mode: opts.mode } : {});
  const c1 = opts.channelPad ? 4 : 3;
  const y1 = g.op('Conv', [padded, g.constant(f32([4, c1, 3, 3], weights(4 * c1 * 9, 1))), g.constant(f32([4], [0.1, -0.2, 0.3, 0]))]);
  const r1 = g.op('Relu', [y1]);
  const padded2 = g.op('Pad', [r1, g.ints([0, 0, 0, 0, 0, 0, 1, 1])]);
  const y2 = g.op('Conv', [padded2, g.constant(f32([2, 4, 3, 3], weights(72, 2)))], { pads: [1, 1, 1, 1] });
  const batch = g.op('Unsqueeze', [g.op('Gather', [g.op('Shape', [y2]), g.constant(i64([], [0]))], { axis: 0 }), g.ints([0])]);
  const flat = g.op('Reshape', [y2, g.op('Concat', [batch, g.ints([-1])], { axis: 0 })]);
  g.output(flat, 'y', 'float32');
  return decodeModel(g.toModel(), 'same_pad');
}

async function run(model: ModelProto, x: HostTensor): Promise<Float32Array> {
  const s = await Session.create(encodeModel(model), 'test');
  try {
    return (await s.run({ x })).y.data as Float32Array;
  } finally {
    await s.release();
  }
}

const input = (n: number, size = 8) => f32([n, 3, size, size], weights(n * 3 * size * size, 3));
const ops = (m: ModelProto, op: string) => m.graph.nodes.filter((n) => n.opType === op);

function assertClose(actual: Float32Array, expected: Float32Array, tol: number, what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test('shapeOnlyValues: the values computed from shapes and constants that the rest of the graph reads', () => {
  const m = samePadNet();
  const values = shapeOnlyValues(m.graph);
  const readers = [...values.keys()].map((v) => m.graph.nodes.find((n) => n.inputs.includes(v) && !values.has(n.outputs[0]))?.opType).sort();
  assert.deepEqual(readers, ['Pad', 'Reshape'], 'the Pad sizes and the Reshape target');
  assert.deepEqual([...values.values()], ['int64', 'int64']);
  // Sizes that follow the data (here a NonZero anywhere in the graph) leave nothing to fold.
  const nonZero = { ...m.graph, nodes: [...m.graph.nodes, { opType: 'NonZero', inputs: ['x'], outputs: ['nz'], name: 'nz', attributes: {} }] };
  assert.equal(shapeOnlyValues(nonZero).size, 0);
});

test('foldShapeValues: the Pad sizes become constants; the batch-dependent Reshape target stays computed', async () => {
  const m = samePadNet();
  const folded = await foldShapeValues(m, 'x', [3, 8, 8], 'same_pad');
  assert.equal(ops(folded, 'Shape').length, 1, 'only the Shape read by the Reshape target is left');
  assert.equal(ops(folded, 'Div').length, 0);
  for (const n of [1, 3]) assert.deepEqual(await run(folded, input(n)), await run(m, input(n)), `batch ${n}`);
  // A graph with nothing to fold comes back as it was.
  const plain = fusePadIntoConv(folded.graph);
  const again = { ...folded, graph: { ...plain, nodes: plain.nodes.filter((n) => n.opType !== 'Reshape' && n.opType !== 'Shape') } };
  assert.equal(await foldShapeValues(again, 'x', [3, 8, 8], 'x'), again);
});

test('fusePadIntoConv: zero Pads become Conv padding, added to its own; the outputs are unchanged', async () => {
  const m = samePadNet();
  const folded = await foldShapeValues(m, 'x', [3, 8, 8], 'same_pad');
  const fused = { ...folded, graph: fusePadIntoConv(folded.graph) };
  assert.equal(ops(fused, 'Pad').length, 0);
  const pads = ops(fused, 'Conv').map((n) => n.attributes.pads?.value);
  assert.deepEqual(pads, [
    [1, 1, 1, 1],
    [1, 1, 2, 2],
  ]);
  for (const n of [1, 2]) assertClose(await run(fused, input(n)), await run(m, input(n)), 1e-5, `batch ${n}`);
});

test('fusePadIntoConv leaves Pads that Conv padding cannot express', async () => {
  for (const [label, opts] of [
    ['a non-zero pad value', { padValue: 0.5 }],
    ['a pad of the channel axis', { channelPad: true }],
    ['edge padding', { mode: 'edge' }],
  ] as const) {
    const folded = await foldShapeValues(samePadNet(opts), 'x', [3, 8, 8], 'same_pad');
    assert.equal(ops({ ...folded, graph: fusePadIntoConv(folded.graph) }, 'Pad').length, 1, label);
  }
  // A Pad whose output is also read elsewhere (here: a graph output) stays.
  const m = samePadNet();
  const folded = await foldShapeValues(m, 'x', [3, 8, 8], 'same_pad');
  const pad = ops(folded, 'Pad')[0];
  const exposed = { ...folded.graph, outputs: [...folded.graph.outputs, { name: pad.outputs[0], dtype: 'float32' as const }] };
  assert.equal(fusePadIntoConv(exposed).nodes.filter((n) => n.opType === 'Pad').length, 1);
});

/** uint8 x → Pad by `value` → DequantizeLinear(scale, zero point 7) → Conv. */
function quantizedPadNet(value: number): ModelProto {
  const g = new GraphBuilder('q_pad');
  const x = g.input('x', 'uint8', [1, 2, 5, 5]);
  const zp = g.constant({ dtype: 'uint8', dims: [], data: Uint8Array.of(7) });
  const padValue = value === 7 ? zp : g.constant({ dtype: 'uint8', dims: [], data: Uint8Array.of(value) });
  const padded = g.op('Pad', [x, g.ints([0, 0, 1, 1, 0, 0, 1, 1]), padValue]);
  const dq = g.op('DequantizeLinear', [padded, g.constant(f32([], [0.05])), zp]);
  g.output(g.op('Conv', [dq, g.constant(f32([3, 2, 3, 3], weights(54, 4)))]), 'y', 'float32');
  return decodeModel(g.toModel(), 'q_pad');
}

test('fusePadIntoConv: a uint8 Pad by the zero point before a DequantizeLinear becomes Conv padding', async () => {
  const x: HostTensor = { dtype: 'uint8', dims: [1, 2, 5, 5], data: Uint8Array.from({ length: 50 }, (_, i) => (i * 37) % 256) };
  const m = quantizedPadNet(7);
  const fused = { ...m, graph: fusePadIntoConv(m.graph) };
  assert.equal(ops(fused, 'Pad').length, 0);
  assert.deepEqual(ops(fused, 'Conv')[0].attributes.pads?.value, [1, 1, 1, 1]);
  assertClose(await run(fused, x), await run(m, x), 1e-5, 'fused');
  // Padded by another value, the border is not zero once dequantized: the Pad stays.
  const other = quantizedPadNet(0);
  assert.equal(fusePadIntoConv(other.graph).nodes.filter((n) => n.opType === 'Pad').length, 1);
});
