/**
 * The web app's Train page in headless Chromium against a REAL `simplenet serve` with training on
 * (a child process over a data root holding the tiny dataset and backbone, `--train-config` the
 * tiny config): a 1-epoch job submitted from the form shows its progress and its model joins the
 * picker; Cancel shows a long job cancelled; a server killed mid-job (SIGKILL) and restarted on the
 * same folders shows the job interrupted after a reload, and Resume finishes it; a folder outside
 * the data root is refused with the server's reason and no job is created; axe finds nothing serious.
 */
import assert from 'node:assert/strict';
import { rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Job } from '../../jobs/jobSpec.js';
import { makeTinyDataset } from '../../testing/fixtures.js';
import { type TinyWorkspace, tinyWorkspace } from '../../testing/cli.js';
import { axeSerious, CHROMIUM, NO_CHROMIUM, type Served, serve } from '../../testing/web.js';
import { testTempDir } from '../../testing/tempDir.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port free now, so a restarted server listens where the page was loaded from. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const jobsOf = async (url: string) => ((await (await fetch(`${url}/v1/jobs`)).json()) as { jobs: Job[] }).jobs;
const jobNamed = async (url: string, name: string) => (await jobsOf(url)).find((j) => j.spec.name === name);

async function waitJob(url: string, name: string, ok: (j: Job) => boolean, ms = 30_000): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const j = await jobNamed(url, name);
    if (j && ok(j)) return j;
    if (Date.now() > end)
      throw new Error(`job ${name} did not get there in time: ${JSON.stringify(j && { state: j.state, progress: j.progress, error: j.error })}`);
    await sleep(50);
  }
}

/** The model names in the page's model picker (the Inspect page's select). */
const pickerModels = (page: Page) => page.$$eval('#page-inspect select[id^="model-"] option', (os) => os.map((o) => (o as HTMLOptionElement).value));

const jobViewMatches = (page: Page, re: RegExp, timeout = 30_000) =>
  page.waitForFunction((src) => new RegExp(src).test(document.getElementById('job-state')?.textContent ?? ''), re.source, { timeout });

describe('web app: Train against the real job routes', { skip: CHROMIUM ? false : NO_CHROMIUM }, () => {
  const dir = testTempDir('simplenet-webtrain-');
  const root = join(dir, 'root');
  const modelsDir = join(dir, 'models');
  const outside = join(dir, 'outside');
  let w: TinyWorkspace;
  let args: string[];
  let server: Served;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    w = await tinyWorkspace(root);
    await makeTinyDataset(outside, 'widget', { nTrain: 2 });
    symlinkSync(outside, join(root, 'link-out'));
    const port = await freePort();
    args = ['--port', String(port), '--data-root', root, '--models-dir', modelsDir, '--train-config', w.config];
    server = await serve(args);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await openTrain();
  });
  after(async () => {
    await browser?.close();
    if (server) {
      server.child.kill('SIGKILL');
      await sleep(50);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function openTrain(): Promise<void> {
    await page.goto(`${server.url}/#train`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#train-start');
  }

  /** Fills the form for the tiny dataset ('data', category widget) and backbone, and submits it. */
  async function submit(name: string, epochs: number): Promise<void> {
    const value = await page.$$eval('#train-dataset option', (os) => (os as HTMLOptionElement[]).find((o) => o.textContent!.startsWith('data (mvtec'))!.value);
    await page.selectOption('#train-dataset', value);
    await page.selectOption('#train-category', 'widget');
    await page.fill('#train-name', name);
    await page.fill('#train-backbone', 'backbone/tiny.json');
    await page.fill('#train-epochs', String(epochs));
    await page.click('#train-start');
    await page.waitForFunction(
      (n) => new RegExp(`Job \\S+ \\(${n}\\) (queued|running)|Not started`).test(document.getElementById('train-status')?.textContent ?? ''),
      name,
    );
    const status = (await page.textContent('#train-status'))!;
    assert.doesNotMatch(status, /Not started/, status);
  }

  test('a 1-epoch job from the form: progress shows, the model joins the picker; axe finds nothing serious', async () => {
    assert.deepEqual(await pickerModels(page), [], 'no model yet');
    // Every text the progress line shows, as the page shows it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const t = document.getElementById('job-progress')?.textContent;
        if (t && seen.at(-1) !== t) seen.push(t);
      }).observe(document.getElementById('job-view')!, { childList: true, subtree: true, characterData: true });
    });
    await submit('w1', 1);
    await jobViewMatches(page, /^w1 — succeeded \(model w1\)/);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    assert.ok(
      seen.some((t) => /step \d+ of \d+/.test(t)),
      seen.join(' | '),
    );
    assert.match(seen.at(-1)!, /1 of 1 epochs done.*loss \d/, seen.join(' | '));
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#page-inspect select[id^="model-"] option')).some((o) => o.textContent === 'w1'));
    assert.deepEqual(await pickerModels(page), ['w1']);
    // The loss chart has the epoch's point.
    assert.match((await page.getAttribute('#job-view svg.chart', 'aria-label'))!, /^Loss\. per epoch: 1 points/);
    const found = (await axeSerious(page)).map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    assert.deepEqual(found, []);
  });

  test('Cancel on a long job: the page shows it cancelled, and no model is made', async () => {
    await submit('w2', 1000);
    await page.waitForFunction(
      () => /^[1-9]\d* of 1000 epochs done/.test((document.getElementById('job-progress')?.textContent ?? '').replace(/^[^:]*: /, '')),
      null,
      {
        timeout: 30_000,
      },
    );
    await page.click('#job-cancel');
    await jobViewMatches(page, /^w2 — cancelled/);
    assert.equal(await page.$('#job-cancel'), null, 'no Cancel on a cancelled job');
    assert.equal((await jobNamed(server.url, 'w2'))!.state, 'cancelled');
    assert.deepEqual(await pickerModels(page), ['w1']);
  });

  test('a folder outside the data root is refused with the reason shown; no job is created', async () => {
    const before = (await jobsOf(server.url)).length;
    const items = await page.$$eval('#jobs li', (lis) => lis.length);
    await page.selectOption('#train-dataset', 'other');
    await page.waitForSelector('#train-path', { state: 'visible' });
    await page.fill('#train-name', 'x1');
    for (const [path, reason] of [
      [join(outside, 'widget', 'train', 'good'), /Not started: dataset\.path '.*outside.*': give a path relative to the data root/],
      ['../outside/widget/train/good', /Not started: .*without '\.\.'/],
      ['link-out/widget/train/good', /Not started: .*leads outside the data root/],
    ] as const) {
      await page.fill('#train-path', path);
      await page.selectOption('#train-format', 'folder');
      await page.click('#train-start');
      await page.waitForFunction(() => /Not started/.test(document.getElementById('train-status')?.textContent ?? ''));
      assert.match((await page.textContent('#train-status'))!, reason);
      assert.equal(await page.getAttribute('#train-status', 'class'), 'status error');
      await page.fill('#train-path', '');
      await page.evaluate(() => {
        document.getElementById('train-status')!.textContent = '';
      });
    }
    assert.equal((await jobsOf(server.url)).length, before, 'no job created');
    assert.equal(await page.$$eval('#jobs li', (lis) => lis.length), items);
    await page.selectOption('#train-dataset', { index: 0 });
  });

  test('SIGKILL mid-job, restart on the same folders, reload: interrupted; Resume finishes it and the model joins the picker', async () => {
    await submit('r1', 120);
    await waitJob(server.url, 'r1', (j) => j.state === 'running' && j.progress.epoch >= 3);
    server.child.kill('SIGKILL');
    await new Promise((r) => (server.child.exitCode !== null || server.child.signalCode !== null ? r(null) : server.child.once('exit', r)));
    server = await serve(args);
    assert.equal(server.url, page.url().replace(/\/#train$/, ''), 'the same address');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#train-start');
    await page.click('#jobs button:has-text("r1")');
    await jobViewMatches(page, /^r1 — interrupted/);
    await page.click('#job-resume');
    await jobViewMatches(page, /^r1 — succeeded \(model r1\), resumed 1×/, 60_000);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#page-inspect select[id^="model-"] option')).some((o) => o.textContent === 'r1'));
    assert.deepEqual((await pickerModels(page)).sort(), ['r1', 'w1']);
    const done = (await jobNamed(server.url, 'r1'))!;
    assert.equal(done.resumes, 1);
    assert.deepEqual(
      done.history.map((r) => r.epoch),
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    assert.match((await page.getAttribute('#job-view svg.chart', 'aria-label'))!, /^Loss\. per epoch: 120 points/);
    assert.deepEqual(errors, []);
  });
});
