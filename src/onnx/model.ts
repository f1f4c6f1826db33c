/**
 * ONNX ModelProto encoding (field numbers from onnx/onnx.proto, IR version 8). Only what our graph
 * builder emits is covered; decoding of foreign models lives in `decode.ts`.
 */
import { ProtoWriter } from './protobuf.js';
import { type DType, type HostTensor, tensorBytes } from './tensor.js';

/**
 * ONNX TensorProto element-type codes of the dtypes we use (onnx/onnx.proto's DataType), e.g. for
 * a Cast node's `to` attribute.
 * @example const node = g.op('Cast', [x], { to: ONNX_DTYPE.float16 });
 */
export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

/**
 * A node attribute with its ONNX kind spelled out, as stored in a `NodeProto`. `GraphBuilder.op`
 * infers most kinds from an `Attr`; give an `AttrValue` for float lists or to force a kind.
 * @example
 * const scales: AttrValue = { kind: 'floats', value: [1, 1, 2, 2] };
 */
export type AttrValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: HostTensor }
  | { kind: 'graph'; value: GraphProto }
  /** A decoded foreign AttributeProto kept as its exact bytes (name included): subgraphs, sparse tensors, type protos. */
  | { kind: 'raw'; value: Uint8Array; subgraph?: boolean };

/**
 * One operator node of a graph: its type, the value names it reads and writes, and attributes.
 * @example
 * const node: NodeProto = { opType: 'Relu', inputs: ['x'], outputs: ['y'], name: 'Relu_0', attributes: {} };
 */
export interface NodeProto {
  /** The operator, e.g. 'MatMul'. */
  opType: string;
  /** Value names read, in the operator's order; '' is an omitted optional input. */
  inputs: string[];
  /** Value names written. */
  outputs: string[];
  /** The node's name (unique within the graph). */
  name: string;
  /** Operator-set domain; absent or '' is the default ONNX domain. */
  domain?: string;
  attributes: Record<string, AttrValue>;
}

/**
 * One dimension of a declared shape: a fixed size, a symbolic name (any size at run time, the same
 * name meaning the same size), or `null` (unknown).
 * @example const shape: Dim[] = ['N', 3, 288, 288];
 */
export type Dim = number | string | null;

/**
 * A graph input or output: its name, element type and (optional) shape.
 * @example const input: ValueInfo = { name: 'image', dtype: 'uint8', shape: ['N', 'H', 'W', 3] };
 */
export interface ValueInfo {
  name: string;
  dtype: DType;
  /** Absent: the shape is not declared. */
  shape?: Dim[];
}

/**
 * A named constant tensor of a graph (weights, constants).
 * @example const init: Initializer = { name: 'mean', tensor: f32([1, 3, 1, 1], [0.485, 0.456, 0.406]) };
 */
export interface Initializer {
  name: string;
  tensor: HostTensor;
}

/**
 * A graph as plain data: nodes in execution order, initializers, inputs and outputs. What
 * `GraphBuilder.graph()` gives and `decodeModel` reads back.
 * @example const opTypes = new Set(decodeModel(bytes).graph.nodes.map((n) => n.opType));
 */
export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

/**
 * A whole model for `encodeModel`: one graph, its default-domain opset and metadata.
 * @example
 * const model: ModelProto = { graph: g.graph(), opsetVersion: OPSET, producerName: 'simplenet', producerVersion: VERSION, metadata: {} };
 */
export interface ModelProto {
  graph: GraphProto;
  /** Opset of the default ONNX domain. */
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  /** ONNX metadata_props (string key → string value). */
  metadata: Record<string, string>;
  /** Extra operator-set domains, e.g. com.microsoft. */
  extraOpsets?: Record<string, number>;
}

function writeTensor(w: ProtoWriter, name: string, t: HostTensor): void {
  if (t.dims.length > 0) w.packedInts(1, t.dims);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, name);
  w.bytes(9, tensorBytes(t));
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tt) => {
      tt.int(1, ONNX_DTYPE[v.dtype]);
      if (v.shape) {
        tt.message(2, (shape) => {
          for (const d of v.shape ?? []) {
            shape.message(1, (dim) => {
              if (typeof d === 'number') dim.int(1, d);
              else if (typeof d === 'string') dim.string(2, d);
            });
          }
        });
      }
    }),
  );
}

function writeAttribute(w: ProtoWriter, name: string, a: AttrValue): void {
  if (a.kind === 'raw') return void w.raw(a.value);
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value).int(20, 1);
      break;
    case 'int':
      w.int(3, a.value).int(20, 2);
      break;
    case 'string':
      w.string(4, a.value).int(20, 3);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, '', a.value)).int(20, 4);
      break;
    case 'graph':
      w.message(6, (g) => writeGraph(g, a.value)).int(20, 5);
      break;
    case 'floats':
      w.packedFloats(7, a.value).int(20, 6);
      break;
    case 'ints':
      w.packedInts(8, a.value).int(20, 7);
      break;
    case 'strings':
      for (const v of a.value) w.string(9, v);
      w.int(20, 8);
      break;
  }
}

function writeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.nodes) {
    w.message(1, (nw) => {
      for (const i of n.inputs) nw.string(1, i);
      for (const o of n.outputs) nw.string(2, o);
      nw.string(3, n.name);
      nw.string(4, n.opType);
      for (const [k, v] of Object.entries(n.attributes)) nw.message(5, (aw) => writeAttribute(aw, k, v));
      if (n.domain) nw.string(7, n.domain);
    });
  }
  w.string(2, g.name);
  for (const init of g.initializers) w.message(5, (tw) => writeTensor(tw, init.name, init.tensor));
  for (const i of g.inputs) w.message(11, (vw) => writeValueInfo(vw, i));
  for (const o of g.outputs) w.message(12, (vw) => writeValueInfo(vw, o));
}

/**
 * Serialises a model to ONNX protobuf bytes (IR version 8), ready for onnxruntime or a file.
 * @example
 * const model = decodeModel(await readFile('backbone.onnx'), 'backbone.onnx');
 * model.metadata.note = 'pruned';
 * await writeFile('backbone-noted.onnx', encodeModel(model));
 */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, 8);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  w.message(7, (g) => writeGraph(g, m.graph));
  w.message(8, (o) => o.string(1, '').int(2, m.opsetVersion));
  for (const [domain, version] of Object.entries(m.extraOpsets ?? {})) {
    w.message(8, (o) => o.string(1, domain).int(2, version));
  }
  for (const [key, value] of Object.entries(m.metadata)) {
    w.message(14, (e) => e.string(1, key).string(2, value));
  }
  return w.finish();
}
