import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float, floats, GraphBuilder } from '../builder.js';
import { decodeModel, decodeTensor, OnnxDecodeError } from '../decode.js';
import { encodeModel } from '../model.js';
import { ProtoWriter } from '../protobuf.js';
import { f32, i64 } from '../tensor.js';

function sampleModel(): Uint8Array {
  const g = new GraphBuilder('sample');
  const x = g.input('x', 'float32', ['N', 3]);
  const w = g.initializer('w', f32([3, 2], [1, 2, 3, 4, 5, 6]));
  const y = g.op('MatMul', [x, w]);
  const z = g.op('LeakyRelu', [y], { alpha: float(0.25) });
  const c = g.op('Constant', [], { value: i64([2], [7, -8]) });
  const s = g.op('Concat', [z, g.cast(g.op('Unsqueeze', [c, g.ints([0])]), 'float32')], { axis: 0 });
  const p = g.op('Pad', [s, g.ints([0, 0, 0, 1])], { mode: 'constant' });
  g.op('Identity', [p], { note: 'text', scales: floats([0.5, 1.5]), pads: [1, -2] });
  g.output(p, 'out', 'float32', ['M', 3]);
  return g.toModel({ purpose: 'decode test' });
}

test('decoding then re-encoding one of our models gives the same bytes', () => {
  const bytes = sampleModel();
  const m = decodeModel(bytes);
  assert.equal(m.irVersion, 8);
  assert.deepEqual(m.opsetImports, { '': 17 });
  assert.equal(m.metadata.purpose, 'decode test');
  assert.deepEqual(m.graph.inputs, [{ name: 'x', dtype: 'float32', shape: ['N', 3] }]);
  assert.deepEqual(m.graph.outputs, [{ name: 'out', dtype: 'float32', shape: ['M', 3] }]);
  const attrs = m.graph.nodes.find((n) => n.opType === 'Identity' && n.attributes.note)!.attributes;
  assert.deepEqual(attrs.note, { kind: 'string', value: 'text' });
  assert.deepEqual(attrs.scales, { kind: 'floats', value: [0.5, 1.5] });
  assert.deepEqual(attrs.pads, { kind: 'ints', value: [1, -2] });
  const constant = m.graph.nodes.find((n) => n.opType === 'Constant')!.attributes.value;
  assert.equal(constant.kind, 'tensor');
  assert.deepEqual(constant.kind === 'tensor' && Array.from(constant.value.data as BigInt64Array), [7n, -8n]);
  assert.deepEqual(Buffer.from(encodeModel(m)), Buffer.from(bytes));
});

test('tensors from the typed fields (float_data, int64_data, int32_data, double_data), packed or not', () => {
  const floats = new ProtoWriter().packedInts(1, [2]).int(2, 1).packedFloats(4, [1.5, -2]).string(8, 'f').finish();
  assert.deepEqual(Array.from(decodeTensor(floats).tensor.data as Float32Array), [1.5, -2]);
  const unpacked = new ProtoWriter().int(1, 2).int(2, 7).int(7, -3).int(7, 4).finish();
  assert.deepEqual(Array.from(decodeTensor(unpacked).tensor.data as BigInt64Array), [-3n, 4n]);
  const bytes = new ProtoWriter().int(1, 3).int(2, 2).packedInts(5, [0, 128, 255]).finish();
  const u8 = decodeTensor(bytes).tensor;
  assert.equal(u8.dtype, 'uint8');
  assert.deepEqual(Array.from(u8.data as Uint8Array), [0, 128, 255]);
  const d = new Float64Array([0.1, -1e300]);
  const doubles = new ProtoWriter().int(1, 2).int(2, 11).bytes(10, new Uint8Array(d.buffer)).finish();
  assert.deepEqual(Array.from(decodeTensor(doubles).tensor.data as Float64Array), [0.1, -1e300]);
  const scalar = new ProtoWriter().int(2, 1).packedFloats(4, [3]).finish();
  assert.deepEqual(decodeTensor(scalar).tensor.dims, []);
});

test('external data, missing values, unsupported types and non-ONNX bytes are clear errors', () => {
  const external = new ProtoWriter().int(1, 4).int(2, 1).string(8, 'conv.weight').int(14, 1).finish();
  assert.throws(() => decodeTensor(external, 'initializer'), /initializer 'conv\.weight': stored as external data/);
  const short = new ProtoWriter().int(1, 4).int(2, 1).packedFloats(4, [1]).string(8, 'b').finish();
  assert.throws(() => decodeTensor(short), /'b': has 1 values for dims \[4\]/);
  const strings = new ProtoWriter().int(1, 1).int(2, 8).string(8, 's').finish();
  assert.throws(() => decodeTensor(strings), /'s': ONNX data type string is not supported/);
  assert.throws(
    () => decodeModel(new TextEncoder().encode('hello world'), 'x.onnx'),
    (e: Error) => e instanceof OnnxDecodeError && /^x\.onnx: /.test(e.message),
  );
  assert.throws(() => decodeModel(new Uint8Array(0), 'empty.onnx'), /empty\.onnx: no graph/);
});

test('subgraph attributes are kept verbatim and re-encode to the same bytes', async () => {
  const body = new GraphBuilder('then');
  const one = body.constant(f32([1], [1]));
  body.output(body.op('Identity', [one]), 'y', 'float32', [1]);
  const g = new GraphBuilder('main');
  const c = g.input('c', 'bool', []);
  const r = g.op('If', [c], { then_branch: { kind: 'graph', value: body.graph() }, else_branch: { kind: 'graph', value: body.graph() } });
  g.output(r, 'r', 'float32', [1]);
  const bytes = g.toModel();
  const m = decodeModel(bytes);
  const attr = m.graph.nodes[0].attributes.then_branch;
  assert.equal(attr.kind, 'raw');
  assert.equal(attr.kind === 'raw' && attr.subgraph, true);
  assert.deepEqual(Buffer.from(encodeModel(m)), Buffer.from(bytes));
});
