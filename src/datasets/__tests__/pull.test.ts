/**
 * `datasets pull` against a server on 127.0.0.1 serving small crafted archives: one MVTec AD
 * category end to end (download, checksum, unpack, loadDataset), a second pull without any
 * request, a download cut halfway that the next pull resumes, an interrupted unpacking that the
 * next pull finishes from the kept archive, a checksum mismatch and a hostile archive that leave
 * nothing behind, and VisA's layout with and without the split CSV in the archive.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseTemporary, temporaryPath } from '../../io/temporaries.js';
import { makeTar, mvtecCategoryEntries, type TarEntry, visaEntries, visaSplitCsv, xzStored } from '../../testing/archives.js';
import { loadDataset } from '../load.js';
import { type KnownDataset, MVTEC_AD, VISA } from '../pull/catalogue.js';
import { DOWNLOADS_DIR, datasetRoot, listDatasets, pullDataset, RECORD_FILE, readRecord } from '../pull/pull.js';
import { testTempDir } from '../../testing/tempDir.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const tmp = testTempDir('datasets-pull-');
after(() => rmSync(tmp, { recursive: true, force: true }));
let homes = 0;
const newHome = () => join(tmp, `home${homes++}`);
const NO_ENV = {};
const FAST = { env: NO_ENV, retryDelayMs: 0, timeoutMs: 2000 };

const BOTTLE = xzStored(makeTar(mvtecCategoryEntries('bottle')));
const EVIL = xzStored(makeTar([...mvtecCategoryEntries('bottle'), { name: '../evil', data: 'owned' }]));
const VISA_CATS = ['candle', 'pcb1'];
const CSV = visaSplitCsv(VISA_CATS);
const VISA_WITH_CSV = makeTar([...visaEntries(VISA_CATS), { name: 'split_csv/1cls.csv', data: CSV }, { name: 'LICENSE-DATASET', data: 'CC BY-NC-SA 4.0' }]);
const VISA_WITHOUT_CSV = makeTar(visaEntries(VISA_CATS));
/** Inside one top-level folder, as some repackaged copies are. */
const VISA_NESTED = makeTar(visaEntries(VISA_CATS).map((e): TarEntry => ({ ...e, name: `VisA/${e.name}` })));

const BODIES: Record<string, Uint8Array> = {
  'bottle.tar.xz': BOTTLE,
  'evil.tar.xz': EVIL,
  'visa.tar': VISA_WITH_CSV,
  'visa-nocsv.tar': VISA_WITHOUT_CSV,
  'visa-nested.tar': VISA_NESTED,
  '1cls.csv': new TextEncoder().encode(CSV),
  'html.tar.xz': new TextEncoder().encode('<html>this link has expired</html>'.padEnd(2000)),
};

interface Seen {
  path: string;
  range?: string;
}

describe('datasets pull from a local server', () => {
  const seen: Seen[] = [];
  const cut = new Set<string>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    seen.push({ path, range: req.headers.range });
    const body = BODIES[path.split('/').pop() ?? ''];
    if (!body || path.startsWith('/missing/')) {
      res.writeHead(404).end('not here');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const headers = { 'content-type': 'application/octet-stream', 'content-length': String(body.length - start) };
    if (m) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    else res.writeHead(200, headers);
    if (path.startsWith('/cut/') && !cut.has(path)) {
      cut.add(path);
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    res.end(body.subarray(start));
  });
  let base = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  /** MVTec AD with bottle's archive served here. */
  const mvtec = (file: string, sha256: string | undefined, prefix = 'ok'): KnownDataset => ({
    ...MVTEC_AD,
    archives: [{ part: 'bottle', file: 'bottle.tar.xz', urls: [`${base}/${prefix}/${file}`], sha256, maxBytes: 1 << 20, provides: ['bottle'] }],
  });

  test('one MVTec AD category end to end; a second pull makes no request', async () => {
    const home = newHome();
    const r = await pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry: mvtec('bottle.tar.xz', sha(BOTTLE)) });
    const root = datasetRoot('mvtec_ad', home);
    assert.equal(r.root, root);
    assert.equal(r.downloaded, true);
    assert.equal(r.verified, true);
    assert.equal(r.sha256, sha(BOTTLE));
    assert.deepEqual(r.added, ['bottle']);
    assert.equal(r.next, `simplenet train --data ${root} --category bottle --backbone mobilenet_v2 --epochs 8 --out runs/bottle`);
    assert.deepEqual(readdirSync(root).sort(), [RECORD_FILE, 'bottle'].sort(), 'no temporaries, no download left');
    const dataset = await loadDataset({ format: 'mvtec', root, category: 'bottle' });
    assert.equal(dataset.train.length, 3);
    assert.equal(dataset.test.length, 6);
    assert.equal(dataset.test.filter((s) => s.label === 1 && s.maskPath).length, 3);
    assert.equal(readRecord(root)?.pulls.bottle.sha256, sha(BOTTLE));

    const mark = seen.length;
    const again = await pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry: mvtec('bottle.tar.xz', sha(BOTTLE)) });
    assert.equal(again.downloaded, false);
    assert.deepEqual(again.added, []);
    assert.equal(again.sha256, sha(BOTTLE));
    assert.equal(seen.length, mark, 'no request for a complete dataset');

    const [listed] = listDatasets(home, [MVTEC_AD]);
    assert.deepEqual(listed.categories, ['bottle']);
    assert.deepEqual(listed.partial, []);
  });

  test('a download cut halfway resumes on the next pull', async () => {
    const home = newHome();
    const root = datasetRoot('mvtec_ad', home);
    const entry = mvtec('bottle.tar.xz', sha(BOTTLE), 'cut');
    await assert.rejects(pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry, retries: 0 }), (e: Error) => {
      assert.match(
        e.message,
        /^cannot download the MVTec AD archive bottle\.tar\.xz \(http:\/\/127\.0\.0\.1:\d+\/cut\/bottle\.tar\.xz: connection to 127\.0\.0\.1:\d+ (dropped|ended) after \d+/,
      );
      assert.match(e.message, /--archive <file>/);
      assert.match(e.message, /resumes on the next pull/);
      return true;
    });
    assert.deepEqual(readdirSync(join(root, DOWNLOADS_DIR)), ['bottle.tar.xz.part']);
    const mark = seen.length;
    const r = await pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry, retries: 0 });
    assert.equal(seen.length, mark + 1);
    assert.match(seen[mark].range ?? '', /^bytes=\d+-$/);
    assert.deepEqual(r.added, ['bottle']);
    assert.ok(!existsSync(join(root, DOWNLOADS_DIR)));
    await loadDataset({ format: 'mvtec', root, category: 'bottle' });
  });

  test('an unpacking interrupted by a dead process is finished from the kept archive, without a request', async () => {
    const home = newHome();
    const root = datasetRoot('mvtec_ad', home);
    mkdirSync(join(root, DOWNLOADS_DIR), { recursive: true });
    writeFileSync(join(root, DOWNLOADS_DIR, 'bottle.tar.xz'), BOTTLE);
    // What a process killed while unpacking leaves: its temporary folder (pid 2^22+1 is not alive).
    const host = parseTemporary(temporaryPath(join(root, 'x'), 'tmp').split('/').pop() ?? '')?.host;
    const stale = join(root, `.bottle.tar.xz.sn-${host}-4194305-0badf00d.tmp`);
    mkdirSync(join(stale, 'bottle', 'train'), { recursive: true });
    const mark = seen.length;
    const r = await pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry: mvtec('bottle.tar.xz', sha(BOTTLE)) });
    assert.equal(seen.length, mark);
    assert.equal(r.downloaded, false);
    assert.deepEqual(r.added, ['bottle']);
    assert.deepEqual(readdirSync(root).sort(), [RECORD_FILE, 'bottle'].sort());
  });

  test('a checksum mismatch names the URL and the file and leaves nothing behind', async () => {
    const home = newHome();
    const root = datasetRoot('mvtec_ad', home);
    const entry = mvtec('bottle.tar.xz', '0'.repeat(64));
    await assert.rejects(pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry }), (e: Error) => {
      const part = join(root, DOWNLOADS_DIR, 'bottle.tar.xz.part');
      assert.equal(
        e.message,
        `${base}/ok/bottle.tar.xz: the downloaded archive ${part} has sha256 ${sha(BOTTLE)}, expected sha256 ${'0'.repeat(64)}; it was discarded and nothing was added to ${root}`,
      );
      return true;
    });
    assert.ok(!existsSync(root), 'the dataset folder it created is gone');
    // --sha256 overrides the catalogue, and a prefix is enough.
    const r = await pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry, sha256: sha(BOTTLE).slice(0, 12) });
    assert.deepEqual(r.added, ['bottle']);
  });

  test("a tar with '../evil' is refused: nothing written outside or inside, the download discarded", async () => {
    const home = newHome();
    const root = join(tmp, `evil-out-${homes}`, 'mvtec');
    await assert.rejects(pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, out: root, entry: mvtec('evil.tar.xz', sha(EVIL)) }), (e: Error) => {
      assert.match(e.message, /^http:\/\/127\.0\.0\.1:\d+\/ok\/evil\.tar\.xz: \S+bottle\.tar\.xz: entry '\.\.\/evil' has a '\.\.' component; refused/);
      assert.ok(e.message.endsWith(`nothing was added to ${root} and the download was discarded`), e.message);
      return true;
    });
    assert.ok(!existsSync(root));
    assert.ok(!existsSync(join(root, '..', 'evil')) && !existsSync(join(tmp, 'evil')));
  });

  test('a page instead of an archive (no published checksum) is refused and discarded; a wrong category is named', async () => {
    const home = newHome();
    await assert.rejects(pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, entry: mvtec('html.tar.xz', undefined) }), (e: Error) => {
      assert.match(
        e.message,
        /html\.tar\.xz: \S+bottle\.tar\.xz: not a tar, tar\.xz or tar\.gz archive; nothing was added to \S+ and the download was discarded$/,
      );
      return true;
    });
    assert.ok(!existsSync(datasetRoot('mvtec_ad', home)));
    await assert.rejects(pullDataset('mvtec_ad', { category: 'bottles', home }), /mvtec_ad: unknown category 'bottles': expected one of bottle, cable, /);
    await assert.rejects(pullDataset('mvtec', { home }), /unknown dataset 'mvtec': expected one of mvtec_ad, visa/);
  });

  test('an archive without a published checksum is recorded with the sha256 that arrived', async () => {
    const home = newHome();
    const warnings: string[] = [];
    const reporter = { bar: () => ({ tick() {}, done() {} }), line() {}, warn: (t: string) => warnings.push(t) };
    const r = await pullDataset('mvtec_ad', { ...FAST, category: 'bottle', home, reporter, entry: mvtec('bottle.tar.xz', undefined) });
    assert.equal(r.verified, false);
    assert.equal(r.sha256, sha(BOTTLE));
    assert.match(warnings.join('\n'), new RegExp(`no checksum is published for bottle\\.tar\\.xz; its sha256 is ${sha(BOTTLE)}`));
    assert.equal(readRecord(r.root)?.pulls.bottle.verified, false);
  });

  const visa = (file: string, csvUrl = `${base}/ok/1cls.csv`): KnownDataset => ({
    ...VISA,
    categories: VISA_CATS,
    archives: [{ ...VISA.archives[0], file: 'VisA_20220922.tar', urls: [`${base}/ok/${file}`], sha256: undefined, provides: [...VISA_CATS, 'split_csv'] }],
    files: [{ path: 'split_csv/1cls.csv', urls: [csvUrl], sha256: sha(new TextEncoder().encode(CSV)) }],
  });

  test('VisA: the archive with its split CSV gives a root loadVisa reads, without fetching the CSV', async () => {
    const home = newHome();
    const mark = seen.length;
    const r = await pullDataset('visa', { ...FAST, home, entry: visa('visa.tar') });
    assert.deepEqual(
      seen.slice(mark).map((s) => s.path),
      ['/ok/visa.tar'],
    );
    assert.deepEqual(r.added, ['LICENSE-DATASET', 'candle', 'pcb1', 'split_csv']);
    assert.equal(r.next, `simplenet train --format visa --data ${r.root} --category candle --backbone mobilenet_v2 --epochs 8 --out runs/candle`);
    for (const c of VISA_CATS) {
      const d = await loadDataset({ format: 'visa', root: r.root, category: c });
      assert.equal(d.train.length, 2);
      assert.equal(d.test.length, 4);
      assert.ok(d.test.every((s) => s.path.startsWith(`${r.root}/${c}/Data/Images/`)));
    }
  });

  test('VisA: an archive without the split CSV (or inside one folder) gets the pinned CSV downloaded', async () => {
    for (const file of ['visa-nocsv.tar', 'visa-nested.tar']) {
      const home = newHome();
      const mark = seen.length;
      const r = await pullDataset('visa', { ...FAST, home, entry: visa(file), category: 'pcb1' });
      assert.deepEqual(
        seen.slice(mark).map((s) => s.path),
        [`/ok/${file}`, '/ok/1cls.csv'],
      );
      assert.deepEqual(r.added, ['candle', 'pcb1', 'split_csv']);
      assert.equal(readFileSync(join(r.root, 'split_csv', '1cls.csv'), 'utf8'), CSV);
      await loadDataset({ format: 'visa', root: r.root, category: 'pcb1' });
    }
    // A CSV that does not match its pinned sha256 is refused like any download.
    const home = newHome();
    const wrong = visa('visa-nocsv.tar');
    wrong.files = [{ ...wrong.files![0], sha256: 'f'.repeat(64) }];
    await assert.rejects(
      pullDataset('visa', { ...FAST, home, entry: wrong }),
      /\/ok\/1cls\.csv: the downloaded split_csv\/1cls\.csv has sha256 [0-9a-f]{64}, expected sha256 f{64}/,
    );
    assert.ok(!existsSync(datasetRoot('visa', home)) || readdirSync(datasetRoot('visa', home)).every((e) => e === DOWNLOADS_DIR));
  });

  test('--archive: a file downloaded by hand is checked and unpacked, and left where it is', async () => {
    const home = newHome();
    const file = join(tmp, 'by-hand-bottle.tar.xz');
    writeFileSync(file, BOTTLE);
    const mark = seen.length;
    const r = await pullDataset('mvtec_ad', { category: 'bottle', home, archive: file, entry: mvtec('bottle.tar.xz', sha(BOTTLE)) });
    assert.equal(seen.length, mark);
    assert.deepEqual(r.added, ['bottle']);
    assert.ok(existsSync(file));
    writeFileSync(file, EVIL);
    await assert.rejects(
      pullDataset('mvtec_ad', { category: 'bottle', home: newHome(), archive: file, entry: mvtec('bottle.tar.xz', sha(BOTTLE)) }),
      /by-hand-bottle\.tar\.xz: has sha256 [0-9a-f]{64}, expected sha256 [0-9a-f]{64}; it is not the MVTec AD archive bottle\.tar\.xz/,
    );
  });
});
