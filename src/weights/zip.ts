/**
 * Just enough of ZIP to read torch.save archives (and other simple zips): the central directory
 * (with ZIP64 sizes and offsets), stored and deflated entries, CRC-32 checked so a corrupted
 * download fails here with the entry's name instead of as garbage weights. Inflating is bounded:
 * an entry never inflates past its declared size, and callers state the most they accept before
 * anything is inflated, so a small archive that expands to gigabytes (a zip bomb) fails at once.
 */
import { constants } from 'node:buffer';
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

/** Reads the central directory; entries in directory order. */
export function readZip(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const bad = (what: string): never => {
    throw new Error(`${source}: not a readable zip archive (${what}); the file may be truncated or corrupted`);
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) bad('no end-of-central-directory record');
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (eocd >= 20 && dv.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
    const at = Number(dv.getBigUint64(eocd - 20 + 8, true));
    if (at + 56 > bytes.length || dv.getUint32(at, true) !== ZIP64_EOCD) bad('bad ZIP64 end-of-central-directory record');
    count = Number(dv.getBigUint64(at + 32, true));
    cdSize = Number(dv.getBigUint64(at + 40, true));
    cdOffset = Number(dv.getBigUint64(at + 48, true));
  }
  if (cdOffset + cdSize > bytes.length) bad(`central directory at ${cdOffset}+${cdSize} lies beyond the file's ${bytes.length} bytes`);
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== CENTRAL) bad(`central directory entry ${i} is damaged`);
    const flags = dv.getUint16(p + 8, true);
    const method = dv.getUint16(p + 10, true);
    const crc = dv.getUint32(p + 16, true);
    let compressedSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localOffset = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > bytes.length) bad(`central directory entry ${i} runs past the end`);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    if (flags & 1) throw new Error(`${source}: zip entry '${name}' is encrypted`);
    // ZIP64 extra field: the 64-bit values of whichever 32-bit fields are saturated, in this order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        const next = () => {
          if (q + 8 > x + 4 + len) bad(`ZIP64 field of '${name}' is too short`);
          q += 8;
          return Number(dv.getBigUint64(q - 8, true));
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      x += 4 + len;
    }
    entries.set(name, { name, method, crc32: crc, compressedSize, size, localOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

export interface EntryLimits {
  /** Refuse an entry that declares more uncompressed bytes than this. */
  maxSize?: number;
  /** Refuse an entry whose declared uncompressed size is not exactly this (what the pickle says a storage holds). */
  size?: number;
  /** Names the entry in errors ("storage '3'"); default: the entry's name. */
  what?: string;
}

/**
 * The entry's uncompressed bytes (a view into `bytes` for stored entries), CRC-checked. The declared
 * size is checked against `limits` before inflating, and inflating stops at the declared size.
 */
export function zipEntryData(bytes: Uint8Array, entry: ZipEntry, source: string, limits: EntryLimits = {}): Uint8Array {
  const what = limits.what ?? `zip entry '${entry.name}'`;
  if (limits.size !== undefined && entry.size !== limits.size) {
    throw new Error(`${source}: ${what} declares ${entry.size} bytes, expected ${limits.size}; the file is corrupted`);
  }
  const max = Math.min(limits.maxSize ?? Infinity, constants.MAX_LENGTH);
  if (entry.size > max) {
    throw new Error(`${source}: ${what} declares ${entry.size} bytes, more than the ${max} accepted; refusing to inflate it`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = entry.localOffset;
  if (at + 30 > bytes.length || dv.getUint32(at, true) !== LOCAL) {
    throw new Error(`${source}: zip entry '${entry.name}' has no local header at byte ${at}; the file may be truncated or corrupted`);
  }
  const start = at + 30 + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
  if (start + entry.compressedSize > bytes.length) {
    throw new Error(
      `${source}: zip entry '${entry.name}' needs bytes ${start}..${start + entry.compressedSize} but the file has ${bytes.length}; it is truncated`,
    );
  }
  const raw = bytes.subarray(start, start + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) {
    try {
      // Node refuses a maxOutputLength of 0; an entry declared empty may inflate to at most 1 byte, caught below.
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new Error(`${source}: zip entry '${entry.name}' inflates to more than its declared ${entry.size} bytes; the file is corrupted`);
      }
      throw new Error(`${source}: zip entry '${entry.name}' does not inflate: ${(e as Error).message}`);
    }
  } else throw new Error(`${source}: zip entry '${entry.name}' uses compression method ${entry.method} (only stored and deflate are supported)`);
  if (data.length !== entry.size) throw new Error(`${source}: zip entry '${entry.name}' has ${data.length} bytes, its header says ${entry.size}`);
  if (crc32(data) >>> 0 !== entry.crc32 >>> 0) throw new Error(`${source}: zip entry '${entry.name}' fails its CRC-32 check; the file is corrupted`);
  return data;
}
