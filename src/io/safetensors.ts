/**
 * safetensors (huggingface/safetensors): u64 LE header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {k: v}}`, then the raw
 * little-endian data, offsets relative to the end of the header. This is how torchvision state
 * dicts reach us: `safetensors.torch.save_file(model.state_dict(), path)`.
 */
import { bytesPerElement, type DType, fromBytes, type HostTensor, numel, tensor, tensorBytes } from '../onnx/tensor.js';
import { oneLine } from '../core/progress.js';

/** File dtype → (itemsize in the file, how it lands in a HostTensor). BF16 has no HostTensor form, so it widens to float32. */
const FILE_DTYPES: Record<string, { size: number; dtype: DType }> = {
  F64: { size: 8, dtype: 'float64' },
  F32: { size: 4, dtype: 'float32' },
  F16: { size: 2, dtype: 'float16' },
  BF16: { size: 2, dtype: 'float32' },
  I64: { size: 8, dtype: 'int64' },
  I32: { size: 4, dtype: 'int32' },
  I8: { size: 1, dtype: 'int8' },
  U8: { size: 1, dtype: 'uint8' },
  BOOL: { size: 1, dtype: 'bool' },
};

const ENCODE_DTYPE: Record<DType, string> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  int64: 'I64',
  int32: 'I32',
  int8: 'I8',
  uint8: 'U8',
  bool: 'BOOL',
};

/** The reference implementation refuses larger headers; so do we, before parsing garbage. */
const MAX_HEADER = 100_000_000;

export interface Safetensors {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

interface Entry {
  name: string;
  fileDtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

function parseEntry(source: string, name: string, raw: unknown, dataLen: number): Entry {
  const bad = (what: string) => new Error(`${source}: tensor '${name}' ${what}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('has a header entry that is not an object');
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad('has no dtype');
  const info = FILE_DTYPES[dtype];
  if (!info) throw bad(`has unsupported dtype ${dtype} (supported: ${Object.keys(FILE_DTYPES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isCount)) throw bad('has a shape that is not a list of non-negative integers');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw bad('has data_offsets that are not [begin, end] with 0 <= begin <= end');
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLen) throw bad(`claims bytes ${begin}..${end} but the file has ${dataLen} data bytes`);
  const want = numel(shape) * info.size;
  if (end - begin !== want) {
    throw bad(`has ${end - begin} bytes (${begin}..${end}) but ${dtype} [${shape.join(', ')}] needs ${want}`);
  }
  return { name, fileDtype: dtype, shape, begin, end };
}

function bf16ToF32(dims: number[], bytes: Uint8Array): HostTensor<'float32'> {
  const n = bytes.length / 2;
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16;
  return tensor('float32', dims, new Float32Array(bits.buffer));
}

/**
 * Parses and validates a whole file; every problem is one error naming `source` and the first
 * offending tensor. Every tensor's bytes must lie inside the file, so nothing allocated exceeds the
 * file's size; with `expected` (name → shape, the architecture's) a tensor of another shape is
 * refused before any tensor is copied out.
 */
export function decodeSafetensors(bytes: Uint8Array, source: string, expected?: ReadonlyMap<string, readonly number[]>): Safetensors {
  if (bytes.length < 8) throw new Error(`${source}: not a safetensors file (${bytes.length} bytes, shorter than the 8-byte header length)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = dv.getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    throw new Error(`${source}: not a safetensors file (header claims ${headerLen} bytes but the file has ${bytes.length - 8} after the length)`);
  }
  const start = 8 + Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, start)));
  } catch (e) {
    throw new Error(`${source}: not a safetensors file (header is not valid JSON: ${oneLine((e as Error).message)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${source}: not a safetensors file (header is not a JSON object)`);
  }
  const dataLen = bytes.length - start;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${source}: __metadata__ is not an object`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new Error(`${source}: __metadata__ entry '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(source, name, raw, dataLen));
  }
  // In the architecture's order, so the first mismatch reported is the first in the network.
  const byName = new Map(entries.map((e) => [e.name, e]));
  for (const [name, want] of expected ?? []) {
    const e = byName.get(name);
    if (e && (want.length !== e.shape.length || want.some((d, i) => d !== e.shape[i]))) {
      throw new Error(`${source}: tensor '${name}' has shape [${e.shape.join(', ')}], expected [${want.join(', ')}]`);
    }
  }
  // Overlap check in offset order; zero-length tensors cannot overlap anything.
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1], sorted[i]];
    if (b.begin < a.end) {
      throw new Error(`${source}: tensor '${b.name}' bytes ${b.begin}..${b.end} overlap tensor '${a.name}' bytes ${a.begin}..${a.end}`);
    }
  }
  const tensors = new Map<string, HostTensor>();
  for (const e of entries) {
    const raw = bytes.subarray(start + e.begin, start + e.end);
    const info = FILE_DTYPES[e.fileDtype];
    tensors.set(e.name, e.fileDtype === 'BF16' ? bf16ToF32(e.shape, raw) : fromBytes(info.dtype, e.shape, raw));
  }
  return { tensors, metadata };
}

/** Writes tensors sorted by name (so equal inputs give equal bytes), header padded with spaces to 8 bytes. */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`encodeSafetensors: metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const bodies: Uint8Array[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new TypeError(`encodeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
    const t = tensors[name];
    if (t.data.length !== numel(t.dims)) {
      throw new RangeError(`encodeSafetensors: tensor '${name}' has ${t.data.length} elements but dims [${t.dims.join(', ')}]`);
    }
    const body = tensorBytes(t);
    const size = body.length;
    if (size !== numel(t.dims) * bytesPerElement(t.dtype)) throw new RangeError(`encodeSafetensors: tensor '${name}' has a bad byte length`);
    header[name] = { dtype: ENCODE_DTYPE[t.dtype], shape: [...t.dims], data_offsets: [offset, offset + size] };
    bodies.push(body);
    offset += size;
  }
  let json = JSON.stringify(header);
  const jsonLen = new TextEncoder().encode(json).length;
  json += ' '.repeat((8 - (jsonLen % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const b of bodies) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
