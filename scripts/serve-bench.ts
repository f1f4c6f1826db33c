/**
 * `npm run bench:serve` (a benchmark, not a test): drives `simplenet serve` with autocannon on
 * 127.0.0.1 for 60 s at concurrency 1, 4 and 16 with the images of a folder, and times
 * `simplenet predict` on the same images in the same run, so the service's overhead is a ratio.
 * Writes bench/serve-results.json and prints a Markdown table. Run it with nothing else running.
 *
 *   node dist/scripts/serve-bench.js --model runs/bottle [--images ../shared/data/mvtec_ad/bottle/test] [--seconds 60] [--max-batch n] [--workers n] [--threads n] [--out bench/serve-results.json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import autocannon from 'autocannon';
import { expandInputs } from '../src/predict/inputs.js';

const arg = (name: string, fallback?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const model = arg('model');
if (!model) throw new Error('give --model <model-dir> (e.g. a bottle model trained with the README command)');
const images = arg('images', '../shared/data/mvtec_ad/bottle/test')!;
const seconds = Number(arg('seconds', '60'));
const maxBatch = arg('max-batch', '1')!;
const workers = arg('workers');
const threads = arg('threads');
const out = arg('out', 'bench/serve-results.json')!;
const CLI = join(import.meta.dirname, '../src/cli/main.js');
const paths = expandInputs([images]).map((i) => i.path);
const bodies = paths.map((p) => readFileSync(p));

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function startServer(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--model',
      `m=${model}`,
      '--port',
      '0',
      '--quiet',
      '--max-batch',
      maxBatch,
      '--queue',
      '256',
      ...(workers ? ['--workers', workers] : []),
      ...(threads ? ['--threads', threads] : []),
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      err += d;
      const m = /serving .* at (http:\/\/[\d.:]+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((r) => {
        child.on('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

interface Row {
  concurrency: number;
  imagesPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non2xx: number;
  rssAt10sMiB: number;
  rssAtEndMiB: number;
}

async function load(url: string, pid: number, concurrency: number): Promise<Row> {
  let rss10 = 0;
  const t10 = setTimeout(() => (rss10 = rss(pid)), 10_000);
  const r = await autocannon({
    url: `${url}/v1/models/m/predict`,
    connections: concurrency,
    duration: seconds,
    requests: bodies.map((body) => ({ method: 'POST', headers: { 'content-type': 'image/png' }, body })),
  });
  clearTimeout(t10);
  return {
    concurrency,
    imagesPerSecond: r.requests.average,
    p50: r.latency.p50,
    p95: r.latency.p97_5 ?? r.latency.p99,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    rssAt10sMiB: Math.round(rss10),
    rssAtEndMiB: Math.round(rss(pid)),
  };
}

const t0 = performance.now();
const p = spawnSync(process.execPath, [CLI, 'predict', '--model', model, images, '--quiet'], { encoding: 'utf8' });
if (p.status !== 0) throw new Error(`predict failed: ${p.stderr}`);
const predictSeconds = (performance.now() - t0) / 1000;
const predictRate = paths.length / predictSeconds;

const server = await startServer();
const rows: Row[] = [];
try {
  for (const c of [1, 4, 16]) rows.push(await load(server.url, server.pid, c));
} finally {
  await server.stop();
}
const base = rows[0].imagesPerSecond;
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
  model,
  images: `${paths.length} images from ${images}`,
  seconds,
  maxBatch: Number(maxBatch),
  workers: workers === undefined ? 'default' : Number(workers),
  threads: threads === undefined ? 'default' : Number(threads),
  predict: { images: paths.length, seconds: predictSeconds, imagesPerSecond: predictRate, note: 'one process, startup and model load included' },
  rows,
  ratios: { c16OverC1: rows[2].imagesPerSecond / base, c1OverPredict: base / predictRate },
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
const f = (x: number, d = 1) => x.toFixed(d);
console.log(`| concurrency | images/s | p50 ms | p97.5 ms | p99 ms | errors | non-2xx | RSS 10 s MiB | RSS end MiB |`);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.concurrency} | ${f(r.imagesPerSecond)} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.rssAt10sMiB} | ${r.rssAtEndMiB} |`,
  );
console.log(
  `\npredict on the same ${paths.length} images: ${f(predictRate)} images/s (${f(predictSeconds)} s with startup); c16/c1 = ${f(result.ratios.c16OverC1, 2)}×; service c1 / predict = ${f(result.ratios.c1OverPredict, 2)}×`,
);
