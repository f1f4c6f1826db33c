/**
 * Safe extraction of the archives datasets come in: tar, plain or compressed with xz (MVTec AD's
 * `.tar.xz`, decoded by the WebAssembly `xz-decompress`, so no native build or system tool is
 * needed) or gzip. The tar reader is ours, so every entry is checked before anything is written:
 * - names are relative paths inside the target folder: an absolute name, a `..` component, a
 *   backslash or a NUL byte is refused;
 * - a symbolic link must point down from where it sits (relative, no `..`), so no chain of links
 *   can lead out; a hard link must name a file extracted before it (it is copied);
 * - devices, FIFOs, sparse and multi-volume entries are refused;
 * - the unpacked size and the number of entries are bounded (`maxBytes`, `maxEntries`), checked
 *   from each header before its data is written.
 * Permissions in the archive are ignored (files 0644, folders 0755). A refusal names the archive
 * and the entry. The caller extracts into a fresh temporary folder and renames what it wants into
 * place only when extraction is complete (src/datasets/pull/pull.ts).
 */
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, stat, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { type Reporter, silentReporter } from '../core/progress.js';

/** An archive that is damaged, not an archive, or holds something we refuse to unpack. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export interface ExtractOptions {
  /** Most bytes of file data to unpack (the sum of the entries' sizes). */
  maxBytes: number;
  /** Most entries (files, folders, links). Default 2,000,000. */
  maxEntries?: number;
  /** Progress over the archive's (compressed) bytes. */
  reporter?: Reporter;
  label?: string;
}

export interface ExtractResult {
  files: number;
  folders: number;
  links: number;
  /** Bytes of file data written. */
  bytes: number;
  /** The top-level names the archive created, sorted. */
  top: string[];
}

export type ArchiveFormat = 'tar' | 'tar.xz' | 'tar.gz';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/** The format from the first bytes: xz and gzip by their magic numbers, else a tar header's `ustar` or checksum. */
export function sniffArchive(head: Uint8Array): ArchiveFormat | undefined {
  if (XZ_MAGIC.every((b, i) => head[i] === b)) return 'tar.xz';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (head.length >= 512 && (ascii(head, 257, 5) === 'ustar' || headerChecksumOk(head.subarray(0, 512)))) return 'tar';
  return undefined;
}

function ascii(b: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len && i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** A NUL-terminated field as UTF-8. */
function field(b: Uint8Array, start: number, len: number): string {
  const f = b.subarray(start, start + len);
  const end = f.indexOf(0);
  return Buffer.from(f.subarray(0, end < 0 ? len : end)).toString('utf8');
}

/** An octal number field, or GNU's base-256 (high bit of the first byte set). */
function numeric(b: Uint8Array, start: number, len: number): number {
  if (b[start] & 0x80) {
    let v = b[start] & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = ascii(b, start, len).replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return Number.NaN;
  return Number.parseInt(s, 8);
}

function headerChecksumOk(h: Uint8Array): boolean {
  const want = numeric(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 32 : h[i];
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return want === unsigned || want === signed;
}

/** pax extended header records: `<len> <key>=<value>\n`. */
function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const buf = Buffer.from(data);
  let i = 0;
  while (i < buf.length) {
    const space = buf.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number(buf.toString('ascii', i, space));
    if (!Number.isInteger(len) || len <= 0 || i + len > buf.length) break;
    const rec = buf.toString('utf8', space + 1, i + len - 1); // without the trailing newline
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/**
 * The path components of an entry name, or a reason it is refused. `.` components and trailing
 * slashes are dropped; an empty result is the archive's own root (skipped by the caller).
 */
export function entryPath(name: string): string[] | string {
  if (name.includes('\0')) return 'has a NUL byte in its name';
  if (name.includes('\\')) return 'has a backslash in its name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return "has a '..' component";
  return parts;
}

/** Reads exact byte counts from a stream of chunks. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private have = 0;
  private ended = false;
  /** Bytes handed out so far (the offset in the decompressed stream). */
  offset = 0;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<void> {
    while (this.have < n && !this.ended) {
      const r = await this.source.next();
      if (r.done) this.ended = true;
      else if (r.value.length > 0) {
        this.chunks.push(r.value);
        this.have += r.value.length;
      }
    }
  }

  /** Up to `max` bytes that are already buffered or arrive next; empty at the end. */
  private async some(max: number): Promise<Uint8Array> {
    await this.fill(1);
    if (this.have === 0) return new Uint8Array(0);
    const first = this.chunks[0];
    const n = Math.min(max, first.length);
    const out = first.subarray(0, n);
    if (n === first.length) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.have -= n;
    this.offset += n;
    return out;
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    await this.fill(n);
    const out = new Uint8Array(Math.min(n, this.have));
    let at = 0;
    while (at < out.length) {
      const piece = await this.some(out.length - at);
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** `n` bytes in pieces as they come; throws `onShort()` when the stream ends first. */
  async *pieces(n: number, onShort: () => Error): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const piece = await this.some(Math.min(left, 1 << 20));
      if (piece.length === 0) throw onShort();
      left -= piece.length;
      yield piece;
    }
  }

  /** Reads to the end of the stream (so a decompressor checks its trailing CRC), at most `max` bytes. */
  async drain(max: number): Promise<void> {
    let left = max;
    while (left > 0) {
      const piece = await this.some(left);
      if (piece.length === 0) return;
      left -= piece.length;
    }
  }

  async skip(n: number, onShort: () => Error): Promise<void> {
    for await (const _ of this.pieces(n, onShort)) {
      // discarded
    }
  }
}

interface Decompressed {
  chunks: AsyncIterator<Uint8Array>;
  /** Stops reading (the archive may end before the file does) and releases the file. */
  close(): void;
}

/** The archive's bytes, decompressed, as chunks; progress ticks on the compressed bytes read. */
async function decompressed(archive: string, format: ArchiveFormat, tick: (n: number) => void): Promise<Decompressed> {
  const raw = createReadStream(archive, { highWaterMark: 1 << 20 });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      tick(chunk.length);
      cb(null, chunk);
    },
  });
  raw.on('error', (e) => counter.destroy(e));
  raw.pipe(counter);
  const close =
    (...more: { destroy(): void }[]) =>
    () => {
      for (const s of [raw, counter, ...more]) s.destroy();
    };
  if (format === 'tar') return { chunks: counter[Symbol.asyncIterator](), close: close() };
  if (format === 'tar.gz') {
    const gunzip = createGunzip();
    counter.on('error', (e) => gunzip.destroy(e));
    return { chunks: counter.pipe(gunzip)[Symbol.asyncIterator](), close: close(gunzip) };
  }
  const { XzReadableStream } = (await import('xz-decompress')).default;
  const web = new XzReadableStream(Readable.toWeb(counter) as ReadableStream<Uint8Array>);
  const reader = web.getReader();
  const chunks: AsyncIterator<Uint8Array> = {
    next: async () => {
      const r = await reader.read();
      return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
    },
  };
  return {
    chunks,
    close: () => {
      reader.cancel().catch(() => undefined);
      close()();
    },
  };
}

/**
 * Unpacks `archive` into the folder `dest` (created if missing; meant to be a fresh temporary).
 * @throws ArchiveError naming the archive (and the entry) when it is damaged, truncated, not a
 * supported archive, or holds an entry refused by the rules above; FileError-like Node errors
 * from the file system pass through.
 * @example await extractArchive('bottle.tar.xz', tmp, { maxBytes: 4 * 2 ** 30 });
 */
export async function extractArchive(archive: string, dest: string, opts: ExtractOptions): Promise<ExtractResult> {
  const fh = await open(archive, 'r');
  let head: Uint8Array;
  try {
    const buf = new Uint8Array(512);
    head = buf.subarray(0, (await fh.read(buf, 0, 512, 0)).bytesRead);
  } finally {
    await fh.close();
  }
  const format = sniffArchive(head);
  if (!format) throw new ArchiveError(`${archive}: not a tar, tar.xz or tar.gz archive`);
  const size = (await stat(archive)).size;
  const bar = (opts.reporter ?? silentReporter).bar(opts.label ?? `unpacking ${archive}`, size, { bytes: true });
  const maxEntries = opts.maxEntries ?? 2_000_000;
  await mkdir(dest, { recursive: true });

  const source = await decompressed(archive, format, (n) => bar.tick(n));
  const reader = new ByteReader(source.chunks);
  const result: ExtractResult = { files: 0, folders: 0, links: 0, bytes: 0, top: [] };
  const top = new Set<string>();
  const files = new Set<string>();
  let entries = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  const fail = (what: string) => new ArchiveError(`${archive}: ${what}`);
  const truncated = (name: string) => () => fail(`ends in the middle of entry '${name}' (the archive is truncated or damaged)`);
  const pad = (n: number) => (512 - (n % 512)) % 512;

  try {
    for (;;) {
      const at = reader.offset;
      const h = await reader.read(512);
      if (h.length === 0) break; // some writers omit the end-of-archive blocks
      if (h.length < 512) throw fail(`ends inside a header at byte ${at} (the archive is truncated or damaged)`);
      if (h.every((b) => b === 0)) {
        // End of archive. What follows is padding; reading it lets xz and gzip check their CRC over everything.
        await reader.drain(1 << 24);
        break;
      }
      if (!headerChecksumOk(h)) throw fail(`damaged tar header at byte ${at} (checksum mismatch)`);
      const type = String.fromCharCode(h[156] || 0x30);
      const magic = ascii(h, 257, 8);
      const ustar = magic === 'ustar\x0000'; // POSIX; GNU's 'ustar  \0' uses the prefix field for other things
      const rawName = field(h, 0, 100);
      const headerName = ustar && h[345] !== 0 ? `${field(h, 345, 155)}/${rawName}` : rawName;
      const name = pax.get('path') ?? longName ?? headerName;
      const linkName = pax.get('linkpath') ?? longLink ?? field(h, 157, 100);
      const paxSize = pax.get('size');
      const size = paxSize !== undefined ? Number(paxSize) : numeric(h, 124, 12);
      if (!Number.isSafeInteger(size) || size < 0) throw fail(`entry '${name}' has an invalid size`);

      // Headers that describe the next entry.
      if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
        if (size > 1 << 20) throw fail(`a ${type === 'L' || type === 'K' ? 'long-name' : 'pax'} header of ${size} bytes is too large`);
        const data = await reader.read(size);
        if (data.length < size) throw truncated(name)();
        await reader.skip(pad(size), truncated(name));
        if (type === 'x') pax = paxRecords(data);
        else if (type === 'L') longName = field(data, 0, data.length);
        else if (type === 'K') longLink = field(data, 0, data.length);
        // 'g' (global pax) only carries defaults we do not use.
        continue;
      }
      pax = new Map();
      longName = undefined;
      longLink = undefined;

      if (++entries > maxEntries) throw fail(`holds more than ${maxEntries} entries; refused`);
      const parts = entryPath(name);
      if (typeof parts === 'string') throw fail(`entry '${name}' ${parts}; refused (nothing outside the target folder is written)`);
      const dataSize = type === '0' || type === '7' || type === '\0' ? size : 0;
      if (parts.length === 0) {
        await reader.skip(dataSize + pad(dataSize), truncated(name));
        continue;
      }
      const target = join(dest, ...parts);
      await mkdir(dirname(target), { recursive: true });
      top.add(parts[0]);

      if (type === '0' || type === '7' || type === '\0') {
        if (result.bytes + size > opts.maxBytes) throw fail(`would unpack to more than ${opts.maxBytes} bytes (at entry '${name}'); refused`);
        await removeLink(target);
        const out = await open(target, 'w', 0o644);
        try {
          for await (const piece of reader.pieces(size, truncated(name))) await out.write(piece);
        } finally {
          await out.close();
        }
        await reader.skip(pad(size), truncated(name));
        result.bytes += size;
        result.files++;
        files.add(parts.join('/'));
      } else if (type === '5') {
        await mkdir(target, { recursive: true, mode: 0o755 });
        result.folders++;
        await reader.skip(size + pad(size), truncated(name)); // a directory has no data; skip any
      } else if (type === '2') {
        const link = entryPath(linkName);
        if (typeof link === 'string' || link.length === 0 || linkName.startsWith('/')) {
          throw fail(`entry '${name}' is a symbolic link to '${linkName}', which ${typeof link === 'string' ? link : 'names no file'}; refused`);
        }
        await removeLink(target);
        await symlink(link.join('/'), target);
        result.links++;
      } else if (type === '1') {
        const link = entryPath(linkName);
        if (typeof link === 'string' || !files.has(link.join('/'))) {
          throw fail(`entry '${name}' is a hard link to '${linkName}', which is not a file extracted before it; refused`);
        }
        await removeLink(target);
        await copyFile(join(dest, ...link), target);
        result.links++;
      } else {
        const kinds: Record<string, string> = {
          '3': 'a character device',
          '4': 'a block device',
          '6': 'a FIFO',
          S: 'a sparse file',
          M: 'part of a multi-volume archive',
          V: 'a volume label',
        };
        throw fail(`entry '${name}' is ${kinds[type] ?? `of unknown type '${type}'`}; refused`);
      }
    }
  } catch (e) {
    if (e instanceof ArchiveError || (e as NodeJS.ErrnoException)?.syscall) throw e;
    // The decompressor's own errors (damaged xz or gzip data).
    throw fail(`cannot decompress (${format}): ${decompressCause(e)}`);
  } finally {
    source.close();
  }
  bar.done();
  result.top = [...top].sort();
  return result;
}

/** xz-embedded's return codes (xz.h) in words; other messages as they are. */
const XZ_CODES: Record<string, string> = {
  '2': 'unsupported integrity check',
  '3': 'out of memory',
  '4': 'needs a larger dictionary than allowed',
  '5': 'not xz data',
  '6': 'unsupported xz options',
  '7': 'the compressed data is damaged',
  '8': 'the archive ends early (truncated download?)',
};

function decompressCause(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const code = /error code (\d+)/.exec(msg)?.[1];
  return code && XZ_CODES[code] ? `${XZ_CODES[code]} (xz error ${code})` : msg;
}

/** Removes a symbolic link at `path` so that writing there never follows it. */
async function removeLink(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSymbolicLink()) await unlink(path);
  } catch {
    // nothing there
  }
}
