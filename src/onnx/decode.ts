/**
 * ONNX ModelProto decoding (field numbers from onnx/onnx.proto) into the same structures the
 * encoder writes, so that a foreign graph (a user's backbone) can be inspected, pruned and inlined
 * into one of ours. Attribute kinds we never edit (subgraphs, sparse tensors, type protos) are kept
 * as their exact bytes; tensors are decoded from raw_data or the typed fields; external data is an
 * error because a model directory and an export must be one self-contained file.
 */
import { concatTyped } from '../core/concat.js';
import type { AttrValue, Dim, GraphProto, Initializer, ModelProto, NodeProto, ValueInfo } from './model.js';
import { ONNX_DTYPE } from './model.js';
import { type ProtoField, readFields, readPackedVarints } from './protobuf.js';
import { type DType, fromBytes, type HostTensor, numel, tensor } from './tensor.js';

/**
 * The bytes are not an ONNX model this project can read (truncated, not protobuf, external data,
 * sparse initializers, model-local functions, an element type we do not handle). The message
 * starts with the source's name.
 * @example
 * try { decodeModel(bytes, 'my.onnx'); } catch (e) { if (e instanceof OnnxDecodeError) console.error(e.message); }
 */
export class OnnxDecodeError extends Error {
  override name = 'OnnxDecodeError';
}

/**
 * A decoded model: the encoder's ModelProto plus what only foreign models carry. From `decodeModel`.
 * @example
 * const m: DecodedModel = decodeModel(await readFile('backbone.onnx'), 'backbone.onnx');
 * console.log(m.irVersion, m.opsetImports[''], m.graph.outputs.map((o) => o.name));
 */
export interface DecodedModel extends ModelProto {
  /** The file's ONNX IR version (0 when absent). */
  irVersion: number;
  /** Every opset import, '' being the default ONNX domain. */
  opsetImports: Record<string, number>;
  /** value_info entries (shape hints) of the main graph. */
  valueInfo: ValueInfo[];
}

const DTYPE_OF: Record<number, DType> = Object.fromEntries(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

/** ONNX TensorProto.DataType names for messages about types we do not handle. */
const ONNX_TYPE_NAMES: Record<number, string> = {
  4: 'uint16',
  5: 'int16',
  8: 'string',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

function dtypeOf(code: number, what: string): DType {
  const d = DTYPE_OF[code];
  if (!d) throw new OnnxDecodeError(`${what}: ONNX data type ${ONNX_TYPE_NAMES[code] ?? code} is not supported`);
  return d;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const int = (f: ProtoField) => Number(BigInt.asIntN(64, f.value as bigint));

/** Repeated integer fields arrive packed (wire 2) or one per field (wire 0). */
function ints(fields: ProtoField[], field: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === 0) out.push(f.value);
    else if (f.wire === 2) out.push(...readPackedVarints(f.value));
  }
  return out;
}

/** Repeated fixed-width fields (float: 4 bytes, double: 8), packed or not, as raw little-endian bytes. */
function fixedBytes(fields: ProtoField[], field: number): Uint8Array[] {
  return fields.filter((f) => f.field === field && f.wire !== 0).map((f) => f.value as Uint8Array);
}

function one(fields: ProtoField[], field: number): ProtoField | undefined {
  let last: ProtoField | undefined;
  for (const f of fields) if (f.field === field) last = f;
  return last;
}

function str(fields: ProtoField[], field: number): string {
  const f = one(fields, field);
  return f && f.wire === 2 ? text(f.value) : '';
}

export function decodeTensor(buf: Uint8Array, what = 'tensor'): { name: string; tensor: HostTensor } {
  const fields = readFields(buf);
  const name = str(fields, 8);
  const label = name ? `${what} '${name}'` : what;
  const dims = ints(fields, 1).map(Number);
  const typeField = one(fields, 2);
  const dtype = dtypeOf(typeField ? int(typeField) : 0, label);
  if (one(fields, 14) && int(one(fields, 14)!) === 1) {
    throw new OnnxDecodeError(`${label}: stored as external data; save the model as one file (onnx.save(..., save_as_external_data=False))`);
  }
  if (one(fields, 3)) throw new OnnxDecodeError(`${label}: segmented tensors are not supported`);
  const n = numel(dims);
  const raw = one(fields, 9);
  if (raw && raw.wire === 2) return { name, tensor: fromBytes(dtype, dims, raw.value) };
  const mismatch = (got: number) => new OnnxDecodeError(`${label}: has ${got} values for dims [${dims.join(', ')}] (${n} expected)`);
  switch (dtype) {
    case 'float32': {
      const bytes = concatTyped(Uint8Array, fixedBytes(fields, 4));
      if (bytes.length !== 4 * n) throw mismatch(bytes.length / 4);
      return { name, tensor: fromBytes(dtype, dims, bytes) };
    }
    case 'float64': {
      const bytes = concatTyped(Uint8Array, fixedBytes(fields, 10));
      if (bytes.length !== 8 * n) throw mismatch(bytes.length / 8);
      return { name, tensor: fromBytes(dtype, dims, bytes) };
    }
    case 'int64': {
      const v = ints(fields, 7);
      if (v.length !== n) throw mismatch(v.length);
      return {
        name,
        tensor: tensor(
          'int64',
          dims,
          BigInt64Array.from(v, (x) => BigInt.asIntN(64, x)),
        ),
      };
    }
    default: {
      // int32_data carries int32, int8, uint8, bool and float16 (as its bit pattern).
      const v = ints(fields, 5).map((x) => Number(BigInt.asIntN(32, x)));
      if (v.length !== n) throw mismatch(v.length);
      const data = {
        int32: () => Int32Array.from(v),
        int8: () => Int8Array.from(v),
        uint8: () => Uint8Array.from(v),
        bool: () => Uint8Array.from(v),
        float16: () => Uint16Array.from(v),
      }[dtype as 'int32' | 'int8' | 'uint8' | 'bool' | 'float16']();
      return { name, tensor: tensor(dtype, dims, data as never) };
    }
  }
}

function decodeAttribute(buf: Uint8Array, node: string): { name: string; value: AttrValue } {
  const fields = readFields(buf);
  const name = str(fields, 1);
  const typeField = one(fields, 20);
  const type = typeField ? int(typeField) : 0;
  const label = `node '${node}' attribute '${name}'`;
  switch (type) {
    case 1: {
      const f = one(fields, 2);
      const v = f && f.wire === 5 ? new DataView(f.value.buffer, f.value.byteOffset, 4).getFloat32(0, true) : 0;
      return { name, value: { kind: 'float', value: v } };
    }
    case 2: {
      const f = one(fields, 3);
      return { name, value: { kind: 'int', value: f ? int(f) : 0 } };
    }
    case 3:
      return { name, value: { kind: 'string', value: str(fields, 4) } };
    case 4: {
      const f = one(fields, 5);
      if (f?.wire !== 2) throw new OnnxDecodeError(`${label}: TENSOR attribute without a tensor`);
      return { name, value: { kind: 'tensor', value: decodeTensor(f.value, label).tensor } };
    }
    case 6: {
      const bytes = concatTyped(Uint8Array, fixedBytes(fields, 7));
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const value = Array.from({ length: bytes.length / 4 }, (_, i) => dv.getFloat32(4 * i, true));
      return { name, value: { kind: 'floats', value } };
    }
    case 7:
      return { name, value: { kind: 'ints', value: ints(fields, 8).map((x) => Number(BigInt.asIntN(64, x))) } };
    case 8: {
      const value = fields.filter((f) => f.field === 9 && f.wire === 2).map((f) => text(f.value as Uint8Array));
      return { name, value: { kind: 'strings', value } };
    }
    case 0:
      throw new OnnxDecodeError(`${label}: attribute without a type`);
    default:
      // GRAPH(5), TENSORS(9), GRAPHS(10), SPARSE_TENSOR(11/12), TYPE_PROTO(13/14): kept verbatim.
      return { name, value: { kind: 'raw', value: buf, subgraph: type === 5 || type === 10 } };
  }
}

function decodeNode(buf: Uint8Array, index: number): NodeProto {
  const fields = readFields(buf);
  const strings = (field: number) => fields.filter((f) => f.field === field && f.wire === 2).map((f) => text(f.value as Uint8Array));
  const name = str(fields, 3) || `node_${index}`;
  const attributes: Record<string, AttrValue> = {};
  for (const f of fields) {
    if (f.field !== 5 || f.wire !== 2) continue;
    const a = decodeAttribute(f.value, name);
    attributes[a.name] = a.value;
  }
  const domain = str(fields, 7);
  return { opType: str(fields, 4), inputs: strings(1), outputs: strings(2), name, domain: domain || undefined, attributes };
}

function decodeValueInfo(buf: Uint8Array): ValueInfo {
  const fields = readFields(buf);
  const name = str(fields, 1);
  const type = one(fields, 2);
  // TypeProto.tensor_type (1): elem_type (1), shape (2) of dims (1) with dim_value (1) | dim_param (2).
  const tensorType = type && type.wire === 2 ? one(readFields(type.value), 1) : undefined;
  if (tensorType?.wire !== 2) throw new OnnxDecodeError(`value '${name}': only tensor types are supported`);
  const tt = readFields(tensorType.value);
  const elem = one(tt, 1);
  const dtype = dtypeOf(elem ? int(elem) : 0, `value '${name}'`);
  const shapeField = one(tt, 2);
  if (shapeField?.wire !== 2) return { name, dtype };
  const shape: Dim[] = readFields(shapeField.value)
    .filter((f) => f.field === 1 && f.wire === 2)
    .map((f) => {
      const d = readFields(f.value as Uint8Array);
      const v = one(d, 1);
      if (v) return int(v);
      const p = str(d, 2);
      return p || null;
    });
  return { name, dtype, shape };
}

export function decodeGraph(buf: Uint8Array): GraphProto & { valueInfo: ValueInfo[] } {
  const fields = readFields(buf);
  const nodes: NodeProto[] = [];
  const initializers: Initializer[] = [];
  const inputs: ValueInfo[] = [];
  const outputs: ValueInfo[] = [];
  const valueInfo: ValueInfo[] = [];
  for (const f of fields) {
    if (f.wire !== 2) continue;
    if (f.field === 1) nodes.push(decodeNode(f.value, nodes.length));
    else if (f.field === 5) initializers.push(decodeTensor(f.value, 'initializer'));
    else if (f.field === 11) inputs.push(decodeValueInfo(f.value));
    else if (f.field === 12) outputs.push(decodeValueInfo(f.value));
    else if (f.field === 13) valueInfo.push(decodeValueInfo(f.value));
    else if (f.field === 15) throw new OnnxDecodeError('graph has sparse initializers, which are not supported');
  }
  // Before IR version 4 initializers were also listed as inputs; they are not real inputs.
  const init = new Set(initializers.map((i) => i.name));
  return { name: str(fields, 2), nodes, initializers, inputs: inputs.filter((i) => !init.has(i.name)), outputs, valueInfo };
}

/**
 * Decodes a serialised ModelProto into plain data, to inspect, prune or inline a foreign graph (a
 * user's backbone); `source` names the file in errors.
 * @throws OnnxDecodeError naming `source` when the bytes are not a model this project can read.
 * @example const { graph } = decodeModel(await readFile('backbone.onnx'), 'backbone.onnx');
 */
export function decodeModel(bytes: Uint8Array, source = 'ONNX model'): DecodedModel {
  try {
    const fields = readFields(bytes);
    const graphField = one(fields, 7);
    if (graphField?.wire !== 2) throw new OnnxDecodeError('no graph (is this an ONNX model?)');
    if (fields.some((f) => f.field === 25)) throw new OnnxDecodeError('model-local functions are not supported');
    const opsetImports: Record<string, number> = {};
    for (const f of fields) {
      if (f.field !== 8 || f.wire !== 2) continue;
      const o = readFields(f.value);
      const v = one(o, 2);
      opsetImports[str(o, 1)] = v ? int(v) : 0;
    }
    const metadata: Record<string, string> = {};
    for (const f of fields) {
      if (f.field !== 14 || f.wire !== 2) continue;
      const e = readFields(f.value);
      metadata[str(e, 1)] = str(e, 2);
    }
    const ir = one(fields, 1);
    const { valueInfo, ...graph } = decodeGraph(graphField.value);
    const { '': opsetVersion = 1, 'ai.onnx': aiOnnx, ...extraOpsets } = opsetImports;
    return {
      irVersion: ir ? int(ir) : 0,
      graph,
      valueInfo,
      opsetImports,
      opsetVersion: aiOnnx ?? opsetVersion,
      extraOpsets,
      producerName: str(fields, 2),
      producerVersion: str(fields, 3),
      metadata,
    };
  } catch (e) {
    if (e instanceof OnnxDecodeError) throw new OnnxDecodeError(`${source}: ${e.message}`);
    throw new OnnxDecodeError(`${source}: not a valid ONNX model (${(e as Error).message})`);
  }
}
