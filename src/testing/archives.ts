/**
 * Test support: archives crafted byte by byte, so the extractor and `datasets pull` can be tested
 * on anything, hostile entries included, without network or system tools. `makeTar` writes ustar
 * headers (pax or GNU long names on request); `xzStored` wraps bytes in a valid .xz stream made of
 * LZMA2 "uncompressed" chunks (the format's own stored mode, CRC32 checked), which every xz
 * decoder reads.
 */
import { crc32 } from 'node:zlib';
import { concatTyped } from '../core/concat.js';

export interface TarEntry {
  name: string;
  /** '0' file (default), '5' folder, '2' symlink, '1' hard link, '3' character device, … */
  type?: string;
  data?: Uint8Array | string;
  linkName?: string;
  /** How to store a name longer than 100 bytes. Default 'pax'. */
  longName?: 'pax' | 'gnu';
}

const enc = new TextEncoder();

function header(name: string, type: string, size: number, linkName = ''): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number, len: number) => h.set(enc.encode(s).subarray(0, len), at);
  put(name, 0, 100);
  put(type === '5' ? '0000755\0' : '0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(`${size.toString(8).padStart(11, '0')}\0`, 124, 12);
  put(`${(1_700_000_000).toString(8).padStart(11, '0')}\0`, 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put(linkName, 157, 100);
  put('ustar\x0000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 512) * 512);
  out.set(data);
  return out;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
  return `${len}${body}`;
}

/** A tar archive of `entries`, ended by the two zero blocks. */
export function makeTar(entries: TarEntry[], opts: { end?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const type = e.type ?? '0';
    const data = typeof e.data === 'string' ? enc.encode(e.data) : (e.data ?? new Uint8Array(0));
    let name = e.name;
    if (enc.encode(name).length > 100) {
      if (e.longName === 'gnu') {
        const long = enc.encode(`${name}\0`);
        parts.push(header('././@LongLink', 'L', long.length), padded(long));
      } else {
        const pax = enc.encode(paxRecord('path', name));
        parts.push(header(`PaxHeaders/${name.slice(-80)}`, 'x', pax.length), padded(pax));
      }
      name = name.slice(0, 100);
    }
    parts.push(header(name, type, type === '0' ? data.length : 0, e.linkName), padded(type === '0' ? data : new Uint8Array(0)));
  }
  if (opts.end !== false) parts.push(new Uint8Array(1024));
  return concatTyped(Uint8Array, parts);
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const crc = (bytes: number[] | Uint8Array) => crc32(Uint8Array.from(bytes));

/** `data` as a valid .xz stream (one block of LZMA2 uncompressed chunks, CRC32 check). */
export function xzStored(data: Uint8Array): Uint8Array {
  const flags = [0x00, 0x01]; // check type CRC32
  const out: number[] = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ...flags, ...u32le(crc(flags))];
  // Block header: size byte, block flags (one filter, no sizes), LZMA2 filter with a 1-byte property, padding, CRC32.
  const bh = [0x02, 0x00, 0x21, 0x01, 0x00, 0x00, 0x00, 0x00];
  bh.push(...u32le(crc(bh)));
  out.push(...bh);
  const blockStart = out.length - bh.length;
  for (let at = 0, first = true; at < data.length; at += 65536, first = false) {
    const chunk = data.subarray(at, Math.min(data.length, at + 65536));
    out.push(first ? 0x01 : 0x02, ((chunk.length - 1) >> 8) & 0xff, (chunk.length - 1) & 0xff);
    for (const b of chunk) out.push(b);
  }
  out.push(0x00); // end of LZMA2 data
  const unpadded = out.length - blockStart;
  while ((out.length - blockStart) % 4 !== 0) out.push(0);
  out.push(...u32le(crc(data)));
  const index = [0x00, ...varint(1), ...varint(unpadded + 4), ...varint(data.length)];
  while (index.length % 4 !== 0) index.push(0);
  index.push(...u32le(crc(index)));
  out.push(...index);
  const footer = [...u32le(index.length / 4 - 1), ...flags];
  out.push(...u32le(crc(footer)), ...footer, 0x59, 0x5a);
  return Uint8Array.from(out);
}

/** A small MVTec AD category: train/good, test/good and one defect with masks (files of a few bytes). */
export function mvtecCategoryEntries(category: string, opts: { images?: number } = {}): TarEntry[] {
  const n = opts.images ?? 3;
  const png = (i: number) => `\x89PNG fake ${category} ${i}`;
  const names = Array.from({ length: n }, (_, i) => String(i).padStart(3, '0'));
  return [
    { name: `${category}/`, type: '5' },
    { name: `${category}/license.txt`, data: 'CC BY-NC-SA 4.0' },
    ...names.map((s, i) => ({ name: `${category}/train/good/${s}.png`, data: png(i) })),
    ...names.map((s, i) => ({ name: `${category}/test/good/${s}.png`, data: png(100 + i) })),
    ...names.map((s, i) => ({ name: `${category}/test/broken/${s}.png`, data: png(200 + i) })),
    ...names.map((s, i) => ({ name: `${category}/ground_truth/broken/${s}_mask.png`, data: png(300 + i) })),
  ];
}

/** VisA's one-class split for `categories`, with `n` normal (train and test) and `n` anomalous images each. */
export function visaSplitCsv(categories: string[], n = 2): string {
  const rows = ['object,split,label,image,mask'];
  for (const c of categories) {
    for (let i = 0; i < n; i++) rows.push(`${c},train,normal,${c}/Data/Images/Normal/${String(i).padStart(4, '0')}.JPG,`);
    for (let i = n; i < 2 * n; i++) rows.push(`${c},test,normal,${c}/Data/Images/Normal/${String(i).padStart(4, '0')}.JPG,`);
    for (let i = 0; i < n; i++) {
      const s = String(i).padStart(3, '0');
      rows.push(`${c},test,anomaly,${c}/Data/Images/Anomaly/${s}.JPG,${c}/Data/Masks/Anomaly/${s}.png`);
    }
  }
  return `${rows.join('\n')}\n`;
}

/** VisA's raw layout (`<category>/Data/Images/{Normal,Anomaly}`, `Data/Masks/Anomaly`) for `categories`. */
export function visaEntries(categories: string[], n = 2): TarEntry[] {
  const out: TarEntry[] = [];
  for (const c of categories) {
    for (let i = 0; i < 2 * n; i++) out.push({ name: `${c}/Data/Images/Normal/${String(i).padStart(4, '0')}.JPG`, data: `jpg ${c} ${i}` });
    for (let i = 0; i < n; i++) {
      const s = String(i).padStart(3, '0');
      out.push({ name: `${c}/Data/Images/Anomaly/${s}.JPG`, data: `jpg ${c} a${i}` }, { name: `${c}/Data/Masks/Anomaly/${s}.png`, data: `png ${c} m${i}` });
    }
    out.push({ name: `${c}/image_anno.csv`, data: 'image,label,mask\n' });
  }
  return out;
}
