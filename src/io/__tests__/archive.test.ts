/**
 * The safe extractor: tar, tar.xz (a real xz file made by xz-utils, and our stored-mode xz) and
 * tar.gz unpack to the same tree; every hostile or damaged archive is refused naming the archive
 * and the entry, and nothing is ever written outside the target folder.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '../../testing/golden.js';
import { makeTar, mvtecCategoryEntries, type TarEntry, xzStored } from '../../testing/archives.js';
import { ArchiveError, entryPath, extractArchive, sniffArchive } from '../archive.js';
import { testTempDir } from '../../testing/tempDir.js';

const root = testTempDir('archive-test-');
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A fresh folder holding `archive` and an empty `out/` to extract into, inside a parent we can check for escapes. */
function place(bytes: Uint8Array, name = 'a.tar'): { dir: string; file: string; out: string } {
  const dir = join(root, `case${n++}`);
  mkdirSync(dir);
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return { dir, file, out: join(dir, 'out') };
}

/** Every path under `dir`, relative, sorted (links not followed). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(relative(dir, p) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

const BIG = 1 << 30;
const TINY: TarEntry[] = [...mvtecCategoryEntries('bottle', { images: 2 }), { name: 'bottle/readme.txt', data: `${'x'.repeat(5000)}end` }];

describe('formats', () => {
  const expected = (() => {
    const { file, out } = place(makeTar(TINY));
    return extractArchive(file, out, { maxBytes: BIG }).then((r) => ({ r, files: tree(out), readme: readFileSync(join(out, 'bottle/readme.txt'), 'utf8') }));
  })();

  test('plain tar', async () => {
    const { r, files, readme } = await expected;
    assert.deepEqual(r.top, ['bottle']);
    assert.equal(r.files, 10);
    assert.equal(r.folders, 1);
    assert.ok(files.includes('bottle/ground_truth/broken/001_mask.png'));
    assert.ok(readme.endsWith('end') && readme.length === 5003);
  });

  test('a real .tar.xz (xz-utils, LZMA2, CRC64) unpacks to the same tree', async () => {
    const { file, out } = place(readFileSync(join(REPO_ROOT, 'golden', 'archives', 'bottle_tiny.tar.xz')), 'bottle.tar.xz');
    const r = await extractArchive(file, out, { maxBytes: BIG });
    const want = await expected;
    assert.deepEqual(r, want.r);
    assert.deepEqual(tree(out), want.files);
    assert.equal(readFileSync(join(out, 'bottle/readme.txt'), 'utf8'), want.readme);
  });

  test('stored-mode .tar.xz and .tar.gz unpack to the same tree', async () => {
    const want = await expected;
    for (const [bytes, name] of [
      [xzStored(makeTar(TINY)), 'a.tar.xz'],
      [gzipSync(makeTar(TINY)), 'a.tar.gz'],
    ] as const) {
      const { file, out } = place(bytes, name);
      assert.deepEqual(await extractArchive(file, out, { maxBytes: BIG }), want.r);
      assert.deepEqual(tree(out), want.files);
    }
  });

  test('long names (pax and GNU), a ./ root entry, downward links and hard links', async () => {
    const long = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/file.txt`;
    const gnu = `gnu/${'g'.repeat(120)}.txt`;
    const { file, out } = place(
      makeTar([
        { name: './', type: '5' },
        { name: long, data: 'pax' },
        { name: gnu, data: 'gnu', longName: 'gnu' },
        { name: 'a/b/target.txt', data: 'target' },
        { name: 'a/link', type: '2', linkName: 'b/target.txt' },
        { name: 'a/hard.txt', type: '1', linkName: 'a/b/target.txt' },
      ]),
    );
    const r = await extractArchive(file, out, { maxBytes: BIG });
    assert.deepEqual(r.top, ['a', 'deep', 'gnu']);
    assert.equal(readFileSync(join(out, long), 'utf8'), 'pax');
    assert.equal(readFileSync(join(out, gnu), 'utf8'), 'gnu');
    assert.equal(readlinkSync(join(out, 'a/link')), 'b/target.txt');
    assert.equal(readFileSync(join(out, 'a/link'), 'utf8'), 'target');
    assert.ok(lstatSync(join(out, 'a/hard.txt')).isFile(), 'a hard link becomes a copy');
    assert.equal(readFileSync(join(out, 'a/hard.txt'), 'utf8'), 'target');
    assert.equal(r.links, 2);
  });

  test('sniffing and entry paths', () => {
    assert.equal(sniffArchive(xzStored(new Uint8Array(0))), 'tar.xz');
    assert.equal(sniffArchive(gzipSync(Buffer.from('x'))), 'tar.gz');
    assert.equal(sniffArchive(makeTar([{ name: 'x', data: 'y' }])), 'tar');
    assert.equal(sniffArchive(new TextEncoder().encode('<html>Not found</html>'.padEnd(600))), undefined);
    assert.deepEqual(entryPath('./a//b/./c/'), ['a', 'b', 'c']);
    assert.equal(entryPath('a/../../b'), "has a '..' component");
    assert.equal(entryPath('/etc/passwd'), 'is an absolute path');
    assert.equal(entryPath('C:/x'), 'is an absolute path');
    assert.equal(entryPath('a\\..\\b'), 'has a backslash in its name');
  });
});

describe('refusals: nothing outside the folder, the archive and entry named', () => {
  const refused = async (entries: TarEntry[] | Uint8Array, message: RegExp, opts: { maxBytes?: number; maxEntries?: number } = {}) => {
    const { dir, file, out } = place(entries instanceof Uint8Array ? entries : makeTar(entries));
    await assert.rejects(extractArchive(file, out, { maxBytes: opts.maxBytes ?? BIG, maxEntries: opts.maxEntries }), (e: Error) => {
      assert.ok(e instanceof ArchiveError, `${e.name}: ${e.message}`);
      assert.ok(e.message.startsWith(`${file}: `), e.message);
      assert.match(e.message, message);
      return true;
    });
    // Only the archive and the target folder exist in the case folder: nothing escaped.
    assert.deepEqual(
      readdirSync(dir).filter((x) => x !== 'out'),
      ['a.tar'],
    );
    assert.ok(!existsSync(join(root, 'evil')) && !existsSync(join(dir, 'evil')), 'nothing written outside');
    return out;
  };

  test("'..' components and absolute names", async () => {
    await refused(
      [
        { name: 'ok.txt', data: 'fine' },
        { name: '../evil', data: 'x' },
      ],
      /entry '\.\.\/evil' has a '\.\.' component; refused/,
    );
    await refused([{ name: 'bottle/../../evil', data: 'x' }], /entry 'bottle\/\.\.\/\.\.\/evil' has a '\.\.' component/);
    await refused([{ name: '/tmp/evil', data: 'x' }], /entry '\/tmp\/evil' is an absolute path/);
    await refused([{ name: `../${'x'.repeat(120)}`, data: 'x' }], /has a '\.\.' component/); // a pax path
  });

  test('links leading out are refused; so are devices and FIFOs', async () => {
    await refused(
      [{ name: 'evil', type: '2', linkName: '../../evil' }],
      /entry 'evil' is a symbolic link to '\.\.\/\.\.\/evil', which has a '\.\.' component; refused/,
    );
    await refused([{ name: 'evil', type: '2', linkName: '/etc/passwd' }], /symbolic link to '\/etc\/passwd', which is an absolute path/);
    await refused(
      [
        { name: 'sub/', type: '5' },
        { name: 'up', type: '2', linkName: 'sub' },
        { name: 'x', type: '2', linkName: 'up/..' },
      ],
      /entry 'x' is a symbolic link to 'up\/\.\.'/,
    );
    await refused([{ name: 'self', type: '2', linkName: '.' }], /entry 'self' is a symbolic link to '\.', which names no file; refused/);
    await refused([{ name: 'h', type: '1', linkName: '/etc/passwd' }], /entry 'h' is a hard link to '\/etc\/passwd', which is not a file extracted before it/);
    await refused([{ name: 'h', type: '1', linkName: 'later.txt' }], /hard link to 'later\.txt'/);
    await refused([{ name: 'dev', type: '3' }], /entry 'dev' is a character device; refused/);
    await refused([{ name: 'fifo', type: '6' }], /entry 'fifo' is a FIFO; refused/);
  });

  test('size and entry-count bounds are checked from the headers', async () => {
    const out = await refused(
      [
        { name: 'a.bin', data: new Uint8Array(600) },
        { name: 'b.bin', data: new Uint8Array(600) },
      ],
      /would unpack to more than 1000 bytes \(at entry 'b\.bin'\); refused/,
      { maxBytes: 1000 },
    );
    assert.ok(!existsSync(join(out, 'b.bin')), 'the entry over the bound was not written');
    await refused(
      Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: 'x' })),
      /holds more than 4 entries; refused/,
      { maxEntries: 4 },
    );
  });

  test('truncated, damaged and non-archives', async () => {
    const tar = makeTar(TINY);
    await refused(tar.subarray(0, 2048 + 100), /ends (in the middle of entry|inside a header)/);
    const damaged = makeTar([{ name: 'a.txt', data: 'x' }]);
    damaged[5] ^= 0x01;
    await refused(damaged, /damaged tar header at byte 0 \(checksum mismatch\)|not a tar/);
    const xz = xzStored(tar);
    await refused(xz.subarray(0, xz.length - 300), /cannot decompress \(tar\.xz\): the archive ends early/);
    const flipped = Uint8Array.from(xz);
    flipped[xz.length >> 1] ^= 0xff;
    await refused(flipped, /cannot decompress \(tar\.xz\): the compressed data is damaged|damaged tar header/);
    await refused(gzipSync(tar).subarray(0, 200), /cannot decompress \(tar\.gz\): unexpected end of file/);
    await refused(new TextEncoder().encode('<html>Not found</html>'.padEnd(600)), /not a tar, tar\.xz or tar\.gz archive/);
  });
});
