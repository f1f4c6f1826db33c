/**
 * PyTorch `torch.save` state dicts → tensors, in both on-disk formats, without running pickle:
 *  - zip (torch ≥ 1.6): `<archive>/data.pkl` plus one entry `<archive>/data/<key>` per storage;
 *  - legacy (pickle protocol 2 stream): magic number, protocol version and sys_info pickles, the
 *    state-dict pickle, the list of storage keys, then each storage as an 8-byte little-endian
 *    element count followed by its raw bytes, in the order of that list.
 * Tensors are `_rebuild_tensor_v2(storage, offset, size, stride, ...)` calls in the pickle; the
 * storages come in as persistent ids `('storage', torch.FloatStorage, key, location, numel[, view])`.
 *
 * Every number a file declares is checked before it drives an allocation: each tensor's extent
 * (offset + (size − 1)·stride) must lie inside its storage and it may not have more elements than
 * the storage (a zero-stride view of shape [100000, 100000] over one float would otherwise allocate
 * 40 GB); with the architecture's shapes (`expected`) a tensor of another shape is refused and the
 * storages may not declare more bytes than the architecture can need, all before any zip entry is
 * inflated. Only then are storages read and tensors copied out.
 */
import { type DType, type HostTensor, numel, tensor, typedView } from '../onnx/tensor.js';
import { describe, type GlobalHandler, PyDict, PyGlobal, unpickle } from './pickle.js';
import { isZip, readZip, zipEntryData } from './zip.js';

interface StorageKind {
  size: number;
  dtype: DType;
  /** bfloat16 has no HostTensor form; it widens to float32 as in our safetensors reader. */
  bf16?: boolean;
}

const STORAGES: Record<string, StorageKind> = {
  'torch.FloatStorage': { size: 4, dtype: 'float32' },
  'torch.HalfStorage': { size: 2, dtype: 'float16' },
  'torch.DoubleStorage': { size: 8, dtype: 'float64' },
  'torch.BFloat16Storage': { size: 2, dtype: 'float32', bf16: true },
  'torch.LongStorage': { size: 8, dtype: 'int64' },
  'torch.IntStorage': { size: 4, dtype: 'int32' },
  'torch.CharStorage': { size: 1, dtype: 'int8' },
  'torch.ByteStorage': { size: 1, dtype: 'uint8' },
  'torch.BoolStorage': { size: 1, dtype: 'bool' },
};

/** The pickled form of torch's legacy magic number 0x1950a86a20f9469cfc6c: PROTO 2, LONG1 of 10 bytes. */
const LEGACY_HEAD = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
const LEGACY_PROTOCOL = 1001;
/** data.pkl of a state dict is kilobytes (a few hundred bytes per tensor); refuse to inflate a larger one. */
const MAX_PICKLE_BYTES = 64 * 1024 * 1024;

export function isLegacyPth(bytes: Uint8Array): boolean {
  return bytes.length >= LEGACY_HEAD.length && LEGACY_HEAD.every((b, i) => bytes[i] === b);
}

class StorageRef {
  constructor(
    readonly key: string,
    readonly kind: StorageKind,
    readonly numel: number,
    /** Element offset of a legacy storage view into its root storage. */
    readonly viewOffset = 0,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every(isInt);

function globalsFor(): Map<string, GlobalHandler> {
  const g = new Map<string, GlobalHandler>();
  g.set('collections.OrderedDict', (args) => {
    const d = new PyDict();
    const pairs = args[0];
    if (Array.isArray(pairs)) for (const p of pairs) if (Array.isArray(p) && p.length === 2) d.items.set(p[0], p[1]);
    return d;
  });
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]); torch < 1.0 wrote
  // _rebuild_tensor with the same first four arguments.
  const rebuild = (args: unknown[]) => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof StorageRef) || !isInt(offset) || !isIntList(size) || !isIntList(stride) || size.length !== stride.length) {
      throw new Error('refusing to load: _rebuild_tensor_v2 with arguments that are not (storage, offset, size, stride)');
    }
    return new TensorRef(storage, offset, size, stride);
  };
  g.set('torch._utils._rebuild_tensor_v2', rebuild);
  g.set('torch._utils._rebuild_tensor', rebuild);
  // (data, requires_grad, backward_hooks): an nn.Parameter is its tensor for our purposes.
  g.set('torch._utils._rebuild_parameter', (args) => {
    if (!(args[0] instanceof TensorRef)) throw new Error('refusing to load: _rebuild_parameter of something that is not a tensor');
    return args[0];
  });
  // Storage classes are only ever named inside persistent ids, never called.
  for (const name of Object.keys(STORAGES)) g.set(name, undefined);
  return g;
}

/** Parses a persistent id and remembers the storage kind per key (the legacy format needs it to size the storages). */
function storageLoader(_source: string, kinds: Map<string, StorageKind>) {
  return (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== 'storage') throw new Error(`refusing to load: persistent id ${describe(pid)} is not a tensor storage`);
    const [, type, key, , count, view] = pid as unknown[];
    const kind = type instanceof PyGlobal ? STORAGES[type.name] : undefined;
    if (!kind) throw new Error(`storage of type ${describe(type)} is not supported`);
    if (typeof key !== 'string' || !isInt(count)) throw new Error('malformed storage persistent id');
    const known = kinds.get(key);
    if (known && known !== kind) throw new Error(`storage '${key}' is used with two dtypes`);
    kinds.set(key, kind);
    if (view !== undefined && view !== null) {
      const [, offset] = view as unknown[];
      if (!Array.isArray(view) || !isInt(offset)) throw new Error('malformed storage view metadata');
      return new StorageRef(key, kind, count, offset);
    }
    return new StorageRef(key, kind, count);
  };
}

/** The dict of tensors inside what was pickled: the state dict itself or a checkpoint's `state_dict`/`model` entry. */
function stateDictOf(root: unknown, source: string): PyDict {
  if (!(root instanceof PyDict)) throw new Error(`${source}: not a state dict (the pickle holds a ${describe(root)}, not a dict of tensors)`);
  const allTensors = (d: PyDict) => [...d.items.values()].every((v) => v instanceof TensorRef);
  if (!allTensors(root)) {
    for (const k of ['state_dict', 'model']) {
      const inner = root.items.get(k);
      if (inner instanceof PyDict && allTensors(inner)) return inner;
    }
  }
  return root;
}

function bf16ToF32(src: Uint8Array): Float32Array {
  const n = src.length / 2;
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = (src[2 * i] | (src[2 * i + 1] << 8)) << 16;
  return new Float32Array(bits.buffer);
}

const fmt = (dims: readonly number[]) => `[${dims.join(', ')}]`;

/** Throws unless the view reads only elements 0..storageNumel−1 and has no more elements than the storage. */
function checkView(name: string, ref: TensorRef, storageNumel: number, source: string): void {
  const n = numel(ref.size);
  if (n === 0) return;
  if (n > storageNumel) {
    throw new Error(
      `${source}: tensor '${name}' has shape ${fmt(ref.size)} (${n} elements) but its storage '${ref.storage.key}' holds ${storageNumel}; ` +
        'refusing a view larger than its storage (corrupted file or zero strides)',
    );
  }
  const start = ref.storage.viewOffset + ref.offset;
  const last = start + ref.size.reduce((acc, s, i) => acc + (s - 1) * ref.stride[i], 0);
  if (last >= storageNumel) {
    throw new Error(`${source}: tensor '${name}' reads element ${last} of a storage with ${storageNumel}; the file is corrupted`);
  }
}

/** Copies a (possibly strided, offset) view of a storage into a contiguous tensor. */
function materialise(name: string, ref: TensorRef, storage: Uint8Array, source: string): HostTensor {
  const { kind } = ref.storage;
  const es = kind.size;
  const n = numel(ref.size);
  checkView(name, ref, storage.length / es, source);
  const start = ref.storage.viewOffset + ref.offset;
  const out = new Uint8Array(n * es);
  const contiguous = ref.size.every((s, i) => s === 1 || ref.stride[i] === ref.size.slice(i + 1).reduce((a, b) => a * b, 1));
  if (contiguous) out.set(storage.subarray(start * es, (start + n) * es));
  else {
    const rank = ref.size.length;
    const idx = new Array<number>(rank).fill(0);
    let src = start;
    for (let o = 0; o < n; o++) {
      out.set(storage.subarray(src * es, (src + 1) * es), o * es);
      // Odometer increment, innermost dimension fastest (row-major output).
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        src += ref.stride[d];
        if (idx[d] < ref.size[d]) break;
        src -= ref.stride[d] * ref.size[d];
        idx[d] = 0;
      }
    }
  }
  if (kind.bf16) return tensor('float32', ref.size, bf16ToF32(out));
  const data = typedView(kind.dtype, out.buffer);
  return tensor(kind.dtype, ref.size, data);
}

export interface DecodeOptions {
  /**
   * The architecture's tensors by name: one of another shape is refused before any storage is read,
   * and the storages together may not declare more than these shapes (plus EXTRA_ELEMENTS) need.
   */
  expected?: ReadonlyMap<string, readonly number[]>;
}

/**
 * What a checkpoint may hold beyond the architecture's own tensors, in elements: a classifier such
 * as torchvision's fc (2048 × 1000), counters, with room to spare. Counted as float64.
 */
export const EXTRA_ELEMENTS = 1 << 24;

/** The state dict's tensors, every declared number checked, nothing read or allocated yet. */
function plan(root: unknown, source: string, opts: DecodeOptions): [string, TensorRef][] {
  const dict = stateDictOf(root, source);
  const out: [string, TensorRef][] = [];
  for (const [k, v] of dict.items) {
    if (typeof k !== 'string') throw new Error(`${source}: not a state dict (a key is a ${describe(k)}, not a string)`);
    if (!(v instanceof TensorRef)) throw new Error(`${source}: not a state dict (entry '${k}' is a ${describe(v)}, not a tensor)`);
    out.push([k, v]);
  }
  // In the architecture's order, so the first mismatch reported is the first in the network.
  for (const [k, want] of opts.expected ?? []) {
    const v = dict.items.get(k);
    if (v instanceof TensorRef && (want.length !== v.size.length || want.some((d, i) => d !== v.size[i]))) {
      throw new Error(`${source}: tensor '${k}' has shape ${fmt(v.size)}, expected ${fmt(want)}`);
    }
  }
  for (const [k, v] of out) checkView(k, v, v.storage.numel, source);
  if (opts.expected) {
    let budget = EXTRA_ELEMENTS;
    for (const shape of opts.expected.values()) budget += numel(shape);
    budget *= 8;
    const seen = new Set<string>();
    let total = 0;
    for (const [k, v] of out) {
      if (seen.has(v.storage.key)) continue;
      seen.add(v.storage.key);
      total += v.storage.numel * v.storage.kind.size;
      if (total > budget) {
        throw new Error(
          `${source}: the storages up to that of tensor '${k}' declare ${total} bytes, more than the ${budget} this architecture can need; refusing to read them`,
        );
      }
    }
  }
  return out;
}

function collect(root: unknown, storageBytes: (ref: StorageRef) => Uint8Array, source: string, opts: DecodeOptions): Map<string, HostTensor> {
  const tensors = new Map<string, HostTensor>();
  for (const [k, v] of plan(root, source, opts)) tensors.set(k, materialise(k, v, storageBytes(v.storage), source));
  return tensors;
}

function decodeZipPth(bytes: Uint8Array, source: string, opts: DecodeOptions): Map<string, HostTensor> {
  const entries = readZip(bytes, source);
  // torch names the top folder after the file (older versions) or 'archive'; find it by data.pkl.
  const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length !== 1) {
    throw new Error(`${source}: not a PyTorch checkpoint (a zip without exactly one <archive>/data.pkl; found ${pkls.length})`);
  }
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(zipEntryData(bytes, order, source, { maxSize: 64 })).trim();
    if (text !== 'little') throw new Error(`${source}: tensors are stored ${text}-endian; only little-endian checkpoints are supported`);
  }
  const kinds = new Map<string, StorageKind>();
  const { value } = unpickle(zipEntryData(bytes, entries.get(pkls[0])!, source, { maxSize: MAX_PICKLE_BYTES }), 0, {
    source,
    globals: globalsFor(),
    persistentLoad: storageLoader(source, kinds),
  });
  const cache = new Map<string, Uint8Array>();
  return collect(
    value,
    (ref) => {
      let data = cache.get(ref.key);
      if (!data) {
        const entry = entries.get(`${prefix}data/${ref.key}`);
        if (!entry) throw new Error(`${source}: storage '${ref.key}' is missing from the archive; the file is truncated or corrupted`);
        // The entry must declare what the pickle says the storage holds, checked before inflating.
        data = zipEntryData(bytes, entry, source, { size: ref.numel * ref.kind.size, what: `storage '${ref.key}' (zip entry '${entry.name}')` });
        cache.set(ref.key, data);
      }
      if (data.length !== ref.numel * ref.kind.size) {
        throw new Error(`${source}: storage '${ref.key}' has ${data.length} bytes, expected ${ref.numel} × ${ref.kind.size}`);
      }
      return data;
    },
    source,
    opts,
  );
}

function decodeLegacyPth(bytes: Uint8Array, source: string, opts: DecodeOptions): Map<string, HostTensor> {
  const globals = globalsFor();
  const plain = (at: number) => unpickle(bytes, at, { source, globals });
  let at = plain(0).end; // magic number, checked by isLegacyPth
  const proto = plain(at);
  if (proto.value !== LEGACY_PROTOCOL)
    throw new Error(`${source}: legacy PyTorch file with protocol version ${String(proto.value)}, expected ${LEGACY_PROTOCOL}`);
  const sys = plain(proto.end);
  if (sys.value instanceof PyDict && sys.value.items.get('little_endian') === false) {
    throw new Error(`${source}: written on a big-endian machine; only little-endian checkpoints are supported`);
  }
  const kinds = new Map<string, StorageKind>();
  const main = unpickle(bytes, sys.end, { source, globals, persistentLoad: storageLoader(source, kinds) });
  const keyList = plain(main.end);
  if (!Array.isArray(keyList.value) || !keyList.value.every((k) => typeof k === 'string')) {
    throw new Error(`${source}: legacy PyTorch file without a storage key list`);
  }
  at = keyList.end;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storages = new Map<string, Uint8Array>();
  for (const key of keyList.value as string[]) {
    const kind = kinds.get(key);
    if (!kind) throw new Error(`${source}: storage '${key}' is listed but no tensor uses it`);
    if (at + 8 > bytes.length) throw new Error(`${source}: storage '${key}' is missing; the file is truncated at byte ${bytes.length}`);
    const count = Number(dv.getBigInt64(at, true));
    const len = count * kind.size;
    if (count < 0 || at + 8 + len > bytes.length) {
      throw new Error(`${source}: storage '${key}' needs ${len} bytes at byte ${at + 8} but the file has ${bytes.length}; it is truncated`);
    }
    storages.set(key, bytes.subarray(at + 8, at + 8 + len));
    at += 8 + len;
  }
  return collect(
    main.value,
    (ref) => {
      const data = storages.get(ref.key);
      if (!data) throw new Error(`${source}: storage '${ref.key}' is not in the file's storage list`);
      return data;
    },
    source,
    opts,
  );
}

/** Decodes a torch.save'd state dict (zip or legacy); errors name `source` and what is wrong. */
export function decodePth(bytes: Uint8Array, source: string, opts: DecodeOptions = {}): Map<string, HostTensor> {
  if (isZip(bytes)) return decodeZipPth(bytes, source, opts);
  if (isLegacyPth(bytes)) return decodeLegacyPth(bytes, source, opts);
  throw new Error(`${source}: not a PyTorch checkpoint (neither a zip archive nor the legacy pickle format)`);
}
