/**
 * ONNX ModelProto encoding (field numbers from onnx/onnx.proto, IR version 8). Only what our graph
 * builder emits is covered; decoding of foreign models lives in `decode.ts`.
 */
import { ProtoWriter } from './protobuf.js';
import { type DType, type HostTensor, tensorBytes } from './tensor.js';

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

export interface NodeProto {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  domain?: string;
  attributes: Record<string, AttrValue>;
}

export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape?: Dim[];
}

export interface Initializer {
  name: string;
  tensor: HostTensor;
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelProto {
  graph: GraphProto;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
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
