/**
 * Scoring time per image in headless Chromium (onnxruntime-web wasm, single- and multi-threaded)
 * beside the service's time for the same image, for the web app's note. Browser time: decode to
 * RGB + graph run, as the Inspect page measures it; server time: one POST answered (upload, decode,
 * graph, JSON), measured by the client. Medians over --runs after one warm-up.
 *
 *   node dist/scripts/web-bench.js --model <model-dir> --image <png> [--runs 5] [--threads 1,4]
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, serve } from '../src/testing/web.js';

const { values } = parseArgs({
  options: { model: { type: 'string' }, image: { type: 'string' }, runs: { type: 'string', default: '5' }, threads: { type: 'string', default: '1,4' } },
});
if (!values.model || !values.image) throw new Error('web-bench: give --model <model-dir> and --image <png>');
if (!CHROMIUM) throw new Error('web-bench: no Chromium (apt-get install chromium, or set CHROMIUM_PATH)');
const runs = Number(values.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await serve(['--model', `m=${values.model}`]);
const dir = mkdtempSync(join(tmpdir(), 'web-bench-'));
try {
  const body = readFileSync(values.image);
  const post = () => fetch(`${server.url}/v1/models/m/predict`, { method: 'POST', body, headers: { 'content-type': 'image/png' } }).then((r) => r.json());
  await post();
  const serverMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await post();
    serverMs.push(performance.now() - t0);
  }
  // Copies under distinct names: each is one result row, scored one after another.
  const copies = Array.from({ length: runs + 1 }, (_, i) => {
    const p = join(dir, `img-${i}.png`);
    copyFileSync(values.image!, p);
    return p;
  });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const out: Record<string, number> = { server_ms: median(serverMs) };
  for (const t of values.threads.split(',').map(Number)) {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?threads=${t}#inspect`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.check('#mode-browser');
    await page.setInputFiles('#pick-files', copies);
    await page.waitForFunction((n) => new RegExp(`scored ${n} of ${n}`).test(document.getElementById('inspect-status')?.textContent ?? ''), copies.length, {
      timeout: 600_000,
    });
    const [d] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
    const json = JSON.parse(readFileSync((await d.path())!, 'utf8')) as { images: { name: string; ms: number }[] };
    // The first image also paid for compiling the session's kernels: left out.
    out[`browser_${t}_thread${t > 1 ? 's' : ''}_ms`] = median(json.images.filter((x) => x.name !== 'img-0.png').map((x) => x.ms));
    out.isolated = Number(await page.evaluate(() => crossOriginIsolated));
    await page.close();
  }
  await browser.close();
  console.log(JSON.stringify({ image: values.image, runs, ...Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v * 10) / 10])) }));
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
