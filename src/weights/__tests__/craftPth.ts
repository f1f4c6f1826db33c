/**
 * Hand-built torch.save files for tests of hostile declarations: the pickle opcodes torch writes
 * for a state dict (as in reference/golden_weights.py's files, which src/weights/pth.ts reads) and
 * a minimal zip writer, so a test can declare any storage size, shape and stride it likes.
 */
import { crc32, deflateRawSync, constants as z } from 'node:zlib';

export interface CraftTensor {
  name: string;
  storage: string;
  /** Elements the persistent id declares for the storage. */
  numel: number;
  size: number[];
  stride: number[];
  offset?: number;
}

const enc = new TextEncoder();

class PickleWriter {
  private readonly parts: number[] = [];
  op(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  str(s: string): this {
    const b = enc.encode(s);
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return this.op(0x58, ...n, ...b); // BINUNICODE
  }
  int(v: number): this {
    if (v < 0x7fffffff) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v);
      return this.op(0x4a, ...b); // BININT
    }
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(v));
    return this.op(0x8a, 8, ...b); // LONG1
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...enc.encode(`${module}\n${name}\n`));
  }
  ints(vs: number[]): this {
    this.op(0x28);
    for (const v of vs) this.int(v);
    return this.op(0x74); // TUPLE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** The state-dict pickle (data.pkl, or the legacy format's main pickle). */
export function stateDictPickle(tensors: readonly CraftTensor[]): Uint8Array {
  const w = new PickleWriter().op(0x80, 2, 0x7d, 0x28); // PROTO 2, EMPTY_DICT, MARK
  for (const t of tensors) {
    w.str(t.name).global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    w.op(0x28).str('storage').global('torch', 'FloatStorage').str(t.storage).str('cpu').int(t.numel).op(0x74, 0x51); // pid, BINPERSID
    w.int(t.offset ?? 0)
      .ints(t.size)
      .ints(t.stride)
      .op(0x89, 0x4e, 0x74, 0x52); // False, None, TUPLE, REDUCE
  }
  return w.op(0x75, 0x2e).bytes(); // SETITEMS, STOP
}

export interface ZipFile {
  name: string;
  /** Raw deflate data, or the bytes to store. */
  data: Uint8Array;
  deflated?: boolean;
  /** Declared uncompressed size (default: the stored length or the true inflated length). */
  size?: number;
  crc?: number;
}

/** A zip archive of the given entries, as torch.save writes one (no ZIP64, no comment). */
export function zip(files: readonly ZipFile[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const size = f.size ?? f.data.length;
    const crc = f.crc ?? crc32(f.data);
    const method = f.deflated ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, Buffer.from(f.data));
    centrals.push(central, name);
    offset += 30 + name.length + f.data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** A zip .pth: archive/data.pkl (stored) plus the given storage entries. */
export function zipPth(tensors: readonly CraftTensor[], storages: readonly ZipFile[]): Uint8Array {
  return zip([{ name: 'archive/data.pkl', data: stateDictPickle(tensors) }, ...storages]);
}

/**
 * Raw deflate data that inflates to `mib` MiB of zeros, built from one 1 MiB block repeated: about
 * 1 KiB per MiB, so the test never holds the inflated bytes itself.
 */
export function zeroBomb(mib: number): Uint8Array {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: z.Z_FULL_FLUSH });
  const end = deflateRawSync(Buffer.alloc(0));
  const out = Buffer.alloc(block.length * mib + end.length);
  for (let i = 0; i < mib; i++) block.copy(out, i * block.length);
  end.copy(out, block.length * mib);
  return out;
}

/** The legacy (pickle stream) format: magic, protocol 1001, sys_info, the state dict, keys, storages. */
export function legacyPth(tensors: readonly CraftTensor[], storages: readonly { key: string; count: number; data: Uint8Array }[]): Uint8Array {
  const magic = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
  const proto = new PickleWriter().op(0x80, 2).int(1001).op(0x2e).bytes();
  const sys = new PickleWriter().op(0x80, 2, 0x7d, 0x2e).bytes();
  const keys = new PickleWriter().op(0x80, 2, 0x28);
  for (const s of storages) keys.str(s.key);
  const parts: Uint8Array[] = [magic, proto, sys, stateDictPickle(tensors), keys.op(0x6c, 0x2e).bytes()];
  for (const s of storages) {
    const n = Buffer.alloc(8);
    n.writeBigInt64LE(BigInt(s.count));
    parts.push(n, s.data);
  }
  return Buffer.concat(parts);
}
