/**
 * The web app in headless Chromium (Debian's `chromium`, driven by playwright-core) against a real
 * `simplenet serve`: Inspect shows the API's scores, overlays that differ, a threshold that
 * relabels, one CSV row per image; scoring in the browser equals the server's; the static
 * `export --web` folder does the same with no simplenet server; axe-core finds nothing serious;
 * every control is reachable from the keyboard; bad input gets a message and the page stays usable.
 * Screenshots of each page go to $SIMPLENET_SCREENSHOTS (docs/images when refreshing the README's).
 * $SIMPLENET_WEB_MODEL serves that model folder instead of the tiny one trained here.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { exactFitProblem, type ImageFit, MAX_EXACT_DOWNSCALE } from '../../images/fit.js';
import { runCli, tinyWorkspace, trainTiny } from '../../testing/cli.js';
import { REPO_ROOT } from '../../testing/golden.js';
import { axeSerious, CHROMIUM, NO_CHROMIUM, type Served, serve, staticServer } from '../../testing/web.js';
import { testTempDir } from '../../testing/tempDir.js';

const BOTTLE = join(REPO_ROOT, '../shared/data/mvtec_ad/bottle/test');
const SHOTS = process.env.SIMPLENET_SCREENSHOTS;

const relClose = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b), 1e-12);

interface ApiImage {
  score: number;
  score_normalized: number;
  label: number;
}

async function apiScore(url: string, file: string): Promise<ApiImage> {
  const r = await fetch(`${url}/v1/models/m/predict`, { method: 'POST', body: readFileSync(file), headers: { 'content-type': 'image/png' } });
  assert.equal(r.status, 200);
  return ((await r.json()) as { images: ApiImage[] }).images[0];
}

/** Uploads files on the Inspect page and waits until all `total` new rows are scored (or failed). */
async function upload(page: Page, files: string[], total: number): Promise<void> {
  // Counted from the rows already there: the status line may still show an earlier batch's "scored 2 of 2".
  const before = await page.$$eval('#results-body tr', (trs) => trs.length);
  await page.setInputFiles('#pick-files', files);
  await page.waitForFunction(
    ([n, want]) =>
      document.querySelectorAll('#results-body tr').length === want &&
      !document.querySelector('#results-body .muted') &&
      new RegExp(`scored \\d+ of ${n}`).test(document.getElementById('inspect-status')?.textContent ?? ''),
    [total, before + total] as const,
    { timeout: 120_000 },
  );
}

/** Every result row's name, score and view label, from the page. */
const rows = (page: Page) =>
  page.$$eval('#results-body tr', (trs) =>
    trs.map((tr) => ({
      id: (tr as HTMLElement).dataset.id!,
      name: tr.children[0].textContent!,
      label: tr.querySelector('.label')!.textContent!,
      by: tr.children[4].textContent!,
    })),
  );

/** The selected result's exact score, after choosing its row; and the overlay canvas's pixels. */
async function choose(page: Page, id: string): Promise<{ score: number; pixels: number[] }> {
  await page.click(`#results-body tr[data-id="${id}"]`);
  await page.waitForFunction((i) => document.getElementById('overlay')?.dataset.resultId === i, id);
  const score = Number(await page.textContent('#facts-score'));
  const pixels = await page.$eval('#overlay', (c) => {
    const canvas = c as HTMLCanvasElement;
    return [...canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data];
  });
  return { score, pixels };
}

async function downloadText(page: Page, button: string): Promise<string> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFileSync((await d.path())!, 'utf8');
}

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `web-${name}.png`), fullPage: true });
}

describe('web app', { skip: CHROMIUM ? false : NO_CHROMIUM }, () => {
  const dir = testTempDir('simplenet-web-');
  // Copies under telling names: the page shows a file's name, and both are called 000.png.
  const DEFECT = join(dir, 'broken_large_000.png');
  const GOOD = join(dir, 'good_000.png');
  copyFileSync(join(BOTTLE, 'broken_large/000.png'), DEFECT);
  copyFileSync(join(BOTTLE, 'good/000.png'), GOOD);
  let model = process.env.SIMPLENET_WEB_MODEL ?? '';
  let server: Served;
  let browser: Browser;
  let api: { defect: ApiImage; good: ApiImage };
  const errors: string[] = [];

  before(async () => {
    if (!model) {
      model = join(dir, 'm');
      trainTiny(await tinyWorkspace(dir), model);
    }
    server = await serve(['--model', `m=${model}`]);
    api = { defect: await apiScore(server.url, DEFECT), good: await apiScore(server.url, GOOD) };
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  }

  test('the server sends the page with COOP/COEP, content types and caching', async () => {
    const r = await fetch(`${server.url}/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    const js = /src="(assets\/app-[^"]+\.js)"/.exec(await r.text())![1];
    const a = await fetch(`${server.url}/${js}`);
    assert.equal(a.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(a.headers.get('cache-control')!, /immutable/);
    const wasm = await fetch(`${server.url}/assets/ort-1.30.0/ort-wasm-simd-threaded.wasm`, { method: 'HEAD' });
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal((await fetch(`${server.url}/assets/..%2F..%2Fpackage.json`)).status, 404);
    const log = (await (await fetch(`${server.url}/v1/models/m/training-log`)).json()) as { epochs: { epoch: number }[] };
    assert.ok(log.epochs.length > 0);
  });

  test('Inspect: the API scores, overlays that differ, the threshold relabels, one CSV row per image', async () => {
    const page = await open(`${server.url}/#inspect`);
    await upload(page, [DEFECT, GOOD], 2);
    const [r1, r2] = await rows(page).then((rs) => [rs.find((r) => r.id === '1')!, rs.find((r) => r.id === '2')!]);
    const d = await choose(page, r1.id);
    const g = await choose(page, r2.id);
    assert.ok(Math.abs(d.score - api.defect.score) <= 1e-6, `${d.score} vs ${api.defect.score}`);
    assert.ok(Math.abs(g.score - api.good.score) <= 1e-6, `${g.score} vs ${api.good.score}`);
    const spread = (p: number[]) => new Set(p.filter((_, i) => i % 4 === 0)).size;
    assert.ok(spread(d.pixels) > 4 && spread(g.pixels) > 4, 'the overlay is not blank');
    assert.notDeepEqual(d.pixels, g.pixels, 'the two overlays differ');
    assert.ok((await rows(page)).every((r) => r.by === 'server'));
    await shot(page, 'inspect');

    // The view threshold: End puts it above every score (all good), Home below (all anomalous).
    const labels = (want: string) =>
      page.waitForFunction((w) => Array.from(document.querySelectorAll('#results-body .label')).every((l) => l.textContent === w), want, { timeout: 5000 });
    await page.focus('#threshold');
    await page.keyboard.press('End');
    await labels('good');
    await page.keyboard.press('Home');
    await labels('anomalous');
    assert.match((await page.textContent('#flagged'))!, /^2 of 2/);

    const csv = (await downloadText(page, '#download-csv')).trim().split('\n');
    assert.equal(csv.length, 1 + 2, csv.join('\n'));
    const json = JSON.parse(await downloadText(page, '#download-json')) as { images: { score: number }[] };
    assert.equal(json.images.length, 2);
    await page.close();
  });

  test('in-browser scoring equals the server to 1e-4 (relative); the page says which mode scored', async () => {
    const page = await open(`${server.url}/#inspect`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'COOP/COEP make the page cross-origin isolated');
    await page.check('#mode-browser');
    await upload(page, [DEFECT, GOOD], 2);
    const rs = await rows(page);
    assert.ok(
      rs.every((r) => r.by === 'this browser'),
      JSON.stringify(rs),
    );
    const d = await choose(page, rs.find((r) => r.id === '1')!.id);
    const g = await choose(page, rs.find((r) => r.id === '2')!.id);
    assert.ok(relClose(d.score, api.defect.score, 1e-4), `${d.score} vs ${api.defect.score}`);
    assert.ok(relClose(g.score, api.good.score, 1e-4), `${g.score} vs ${api.good.score}`);
    assert.match((await page.textContent('#facts-mode'))!, /this browser/);
    await page.close();
  });

  test('export --web: a plain static server, scoring in the browser, equals the server', async () => {
    const site = join(dir, 'site');
    const r = runCli(['export', '--model', model, '--web', site, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const again = runCli(['export', '--model', model, '--web', join(REPO_ROOT, 'src'), '--quiet']);
    assert.notEqual(again.code, 0, 'refuses a folder it did not write');
    assert.equal(runCli(['export', '--model', model, '--web', site, '--quiet']).code, 0, 'replaces its own export');
    const note = join(site, 'assets', 'my-notes.txt');
    writeFileSync(note, 'a user file');
    assert.notEqual(runCli(['export', '--model', model, '--web', site, '--quiet']).code, 0, 'an export holding a file of the user is not replaced');
    assert.equal(readFileSync(note, 'utf8'), 'a user file');
    rmSync(note);
    const { url, server: http } = await staticServer(site);
    try {
      const page = await open(`${url}/`);
      assert.equal(await page.isDisabled('#mode-server'), true);
      await upload(page, [DEFECT, GOOD], 2);
      const rs = await rows(page);
      const d = await choose(page, rs.find((x) => x.id === '1')!.id);
      const g = await choose(page, rs.find((x) => x.id === '2')!.id);
      assert.ok(relClose(d.score, api.defect.score, 1e-4), `${d.score} vs ${api.defect.score}`);
      assert.ok(relClose(g.score, api.good.score, 1e-4), `${g.score} vs ${api.good.score}`);
      assert.equal(await page.$('#tabs a[data-page="train"]'), null, 'no Train page without a server');
      await shot(page, 'static');
      await page.close();
    } finally {
      http.close();
    }
  });

  test('bad input: a text file, a non-image named .png, an 8000×8000 image, a strip beyond exact resampling: messages, and the page still scores', async () => {
    const text = join(dir, 'notes.txt');
    const fake = join(dir, 'fake.png');
    const huge = join(dir, 'huge.png');
    const strip = join(dir, 'strip.png');
    await import('node:fs/promises').then((fs) => Promise.all([fs.writeFile(text, 'hello'), fs.writeFile(fake, 'not a png at all, just text')]));
    await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#777' } })
      .png({ compressionLevel: 1 })
      .toFile(huge);
    // A strip whose fit shrinks it just past the limit, from the model's own geometry (the service's answer).
    const info = (await (await fetch(`${server.url}/v1/models/m`)).json()) as { map_size: number; resize: number; fit: ImageFit; tiles: [number, number] };
    const geometry = { resize: info.resize, crop: info.map_size, fit: info.fit, tiles: info.tiles };
    const stripWidth = info.map_size * info.tiles[1] * (MAX_EXACT_DOWNSCALE + 2);
    const stripProblem = exactFitProblem(stripWidth, 8, geometry, 'strip.png');
    await sharp({ create: { width: stripWidth, height: 8, channels: 3, background: '#777' } })
      .png()
      .toFile(strip);
    const page = await open(`${server.url}/#inspect`);
    await page.check('#mode-browser');
    const bad = stripProblem ? [text, fake, huge, strip] : [text, fake, huge];
    await upload(page, bad, bad.length - 1);
    assert.match((await page.textContent('#inspect-notice'))!, /Skipped 1 file that is not an image \(notes\.txt\)/);
    const errs = await page.$$eval('#results-body .error', (els) => els.map((e) => e.textContent ?? ''));
    assert.equal(errs.length, bad.length - 1, errs.join(' | '));
    assert.ok(errs.some((e) => /fake\.png: not an image/.test(e)));
    assert.ok(errs.some((e) => /8000×8000 is 64 megapixels/.test(e)));
    // The crop fit shrinks both axes alike, so only the other fits can be given such a strip.
    if (info.fit !== 'crop') assert.ok(stripProblem && errs.some((e) => e.includes(stripProblem)), `${stripProblem} in ${errs.join(' | ')}`);
    await page.check('#mode-server');
    await upload(page, [huge, GOOD], 2);
    const after = await page.$$eval('#results-body tr', (trs) => trs.map((t) => t.textContent ?? ''));
    assert.ok(
      after.some((t) => /huge\.png.*megapixels|huge\.png.*too large|huge\.png.*exceeds/i.test(t)),
      after.join(' | '),
    );
    assert.ok(
      (await rows(page)).some((r) => r.label === 'good' || r.label === 'anomalous'),
      'the page still scores',
    );
    await page.close();
  });

  test('a folder of 1005 images: the first 1000 are taken and the page says so; it stays responsive; Stop stops', async () => {
    const many = join(dir, 'many');
    mkdirSync(many);
    const small = await sharp(readFileSync(GOOD)).resize(48, 48).png().toBuffer();
    const paths = Array.from({ length: 1005 }, (_, i) => join(many, `${String(i).padStart(4, '0')}.png`));
    for (const p of paths) writeFileSync(p, small);
    const page = await open(`${server.url}/#inspect`);
    await page.setInputFiles('#pick-files', paths);
    await page.waitForFunction(() => /1005 images given: scoring the first 1000/.test(document.getElementById('inspect-notice')?.textContent ?? ''));
    await page.waitForFunction(() => /scored [1-9]\d* of 1000/.test(document.getElementById('inspect-status')?.textContent ?? ''), null, { timeout: 60_000 });
    // Responsive while scoring: a round trip into the page's main thread is quick.
    const t0 = Date.now();
    await page.evaluate(() => document.title);
    assert.ok(Date.now() - t0 < 2000, `the page took ${Date.now() - t0} ms to answer while scoring`);
    await page.click('#stop');
    await page.waitForFunction(() => (document.getElementById('stop') as HTMLButtonElement).disabled, null, { timeout: 60_000 });
    const rowCount = await page.$$eval('#results-body tr', (trs) => trs.length);
    assert.equal(rowCount, 1000);
    const stopped = await page.$$eval('#results-body .error', (els) => els.filter((e) => e.textContent === 'stopped before scoring').length);
    assert.ok(stopped > 0, 'Stop left the rest unscored');
    assert.ok((await page.$$eval('#gallery li', (lis) => lis.length)) <= 48, 'the gallery shows a page of thumbnails, not all');
    await page.close();
  });

  test('Model card and Train (training off: 409 jobs_disabled) render; axe finds no serious violation on any page', async () => {
    const page = await open(`${server.url}/#inspect`);
    await upload(page, [DEFECT, GOOD], 2);
    await choose(page, '1');
    const found: string[] = [];
    for (const p of ['inspect', 'model', 'train']) {
      await page.goto(`${server.url}/#${p}`);
      await page.waitForSelector(`#page-${p}:not([hidden])`);
      if (p === 'model') await page.waitForSelector('#model-card svg.chart');
      if (p === 'train') {
        await page.waitForSelector('#train-off');
        assert.match((await page.textContent('#train-off'))!, /Training is not enabled on this server/);
      }
      for (const v of await axeSerious(page)) found.push(`${p}: ${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      if (p !== 'inspect') await shot(page, p === 'model' ? 'model-card' : 'train-off');
    }
    assert.deepEqual(found, []);
    await page.close();
  });

  test('keyboard: Tab reaches every control of Inspect; Enter on a row selects it', async () => {
    const page = await open(`${server.url}/#inspect`);
    await upload(page, [DEFECT, GOOD], 2);
    const reached = new Set<string>();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      reached.add(
        await page.evaluate(() => document.activeElement?.id || (document.activeElement as HTMLElement)?.dataset?.id || document.activeElement?.tagName || ''),
      );
    }
    for (const id of [
      'model-1',
      'mode-server',
      'pick-files',
      'pick-folder',
      'clear',
      'threshold',
      'reset-threshold',
      'opacity',
      'download-csv',
      'download-json',
      'sort-score',
    ]) {
      if (id === 'model-1') continue; // one model: the picker is disabled
      assert.ok(reached.has(id), `${id} not reached by Tab: ${[...reached].join(', ')}`);
    }
    await page.focus('#results-body tr[data-id="2"]');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('overlay')?.dataset.resultId === '2');
    await page.close();
  });

  test('Train against the jobs contract (mocked routes): a rejected form shows the reason; progress events show; resume is offered', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    const base = {
      spec: {
        kind: 'train',
        name: 'bottle-new',
        dataset: { format: 'mvtec', path: 'mvtec_ad', category: 'bottle' },
        backbone: 'mobilenet_v2',
        epochs: 4,
        preset: 'validated',
        seed: 0,
      },
      createdAt: new Date(0).toISOString(),
      progress: { epoch: 2, epochs: 4, step: 3, steps: 10, loss: 0.42, eta_s: 95 },
      history: [
        { epoch: 1, loss: 0.9, p_true: 0.4, p_fake: 0.3, val_image_auroc: 0.8, val_patch_auroc: 0.7 },
        { epoch: 2, loss: 0.5, p_true: 0.7, p_fake: 0.6, val_image_auroc: 0.9, val_patch_auroc: 0.8 },
      ],
    };
    const running = { ...base, id: 'j2', state: 'running' };
    const interrupted = { ...base, id: 'j1', spec: { ...base.spec, name: 'cable-old' }, state: 'interrupted' };
    const sse = (...events: [string, unknown][]) => ({
      headers: { 'content-type': 'text/event-stream' },
      body: `${events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('')}retry: 60000\n\n`,
    });
    await page.route('**/v1/datasets', (r) =>
      r.fulfill({ json: { root: '/data', entries: [{ path: 'mvtec_ad', format: 'mvtec', categories: ['bottle', 'cable'], goodImages: 209 }] } }),
    );
    await page.route('**/v1/jobs', (r) =>
      r.request().method() === 'POST'
        ? r.fulfill({ status: 400, json: { error: { code: 'bad_job', message: 'dataset: mvtec_ad/bottle has no good images' } } })
        : r.fulfill({ json: { jobs: [running, interrupted] } }),
    );
    await page.route('**/v1/jobs/j2/events', (r) => r.fulfill(sse(['job', running], ['progress', { ...base.progress, step: 7, loss: 0.4 }])));
    // After resume the mocked server reports the job queued, on the event stream too.
    let resumed = false;
    await page.route('**/v1/jobs/j1/events', (r) => r.fulfill(sse(['job', { ...interrupted, state: resumed ? 'queued' : 'interrupted' }])));
    await page.route('**/v1/jobs/j1/resume', (r) => {
      resumed = true;
      return r.fulfill({ json: { job: { ...interrupted, state: 'queued' } } });
    });
    await page.goto(`${server.url}/#train`);
    await page.waitForSelector('#train-start');
    await page.click('#train-start');
    await page.waitForFunction(() =>
      /Not started: dataset: mvtec_ad\/bottle has no good images/.test(document.getElementById('train-status')?.textContent ?? ''),
    );
    await page.waitForFunction(() => /step 7 of 10, loss 0\.4/.test(document.getElementById('job-progress')?.textContent ?? ''));
    await shot(page, 'train');
    await page.click('#jobs button:has-text("cable-old")');
    await page.waitForSelector('#job-resume');
    await page.click('#job-resume');
    await page.waitForFunction(() => /cable-old — queued/.test(document.getElementById('job-view')?.textContent ?? ''));
    const found = (await axeSerious(page)).map((v) => `${v.id}: ${v.help}`);
    assert.deepEqual(found, []);
    await page.close();
    assert.deepEqual(errors, []);
  });
});
