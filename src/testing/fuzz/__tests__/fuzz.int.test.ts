/**
 * Issue 11's fuzz corpus in CI: 500+ seeded bad inputs through the library entry points the CLI
 * uses (in a worker process) and through the CLI itself. Every case must end in success or in one
 * clean error line naming a file of the case; no stack trace, no exit code outside main.ts's list,
 * no file left behind, and every process under MEMORY_BOUND of peak resident memory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../../golden.js';
import { CLI, tinyWorkspace, trainTiny } from '../../cli.js';
import type { CaseResult, FuzzCase } from '../cases.js';
import { CorpusWriter } from '../corpus.js';
import { testTempDir } from '../../tempDir.js';

const WORKER = join(REPO_ROOT, 'dist/src/testing/fuzz/worker.js');
/** Peak resident memory allowed to any process of the run (the worker runs all library cases). */
const MEMORY_BOUND = 1024 * 2 ** 20;
const DOCUMENTED_EXITS = [0, 1, 2];
const RAW_ERRORS = ['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'AssertionError'];

function listing(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), e.isFile() ? statSync(p).size : -1);
    }
  };
  walk(dir);
  return out;
}

/** The paths a CLI case may create: what it was asked to write. */
function allowedOutputs(c: FuzzCase): string[] {
  if (c.entry.kind !== 'cli') return [];
  const a = c.entry.args;
  const out = a.indexOf('--out') >= 0 ? [a[a.indexOf('--out') + 1]] : [];
  return [...out, ...(c.entry.env?.SIMPLENET_HOME ? [c.entry.env.SIMPLENET_HOME] : [])];
}

const root = testTempDir('simplenet-fuzz-');
const corpusRoot = join(root, 'corpus');
let cases: FuzzCase[] = [];

before(async () => {
  const w = await tinyWorkspace(root);
  const { data, manifest } = w;
  const model = join(root, 'model');
  trainTiny(w, model, '--epochs', '1');
  // The same corpus on every run: the mutations land on the same bytes only if the base model's
  // timestamps and timings are fixed (everything else about it is seeded).
  const manifestPath = join(model, 'simplenet.json');
  const m = JSON.parse(readFileSync(manifestPath, 'utf8'));
  Object.assign(m, { createdAt: '2026-01-01T00:00:00.000Z' });
  Object.assign(m.training, { seconds: 1, featureSeconds: 1 });
  writeFileSync(manifestPath, `${JSON.stringify(m, null, 2)}\n`);
  const log = readFileSync(join(model, 'training_log.csv'), 'utf8').split('\n');
  writeFileSync(
    join(model, 'training_log.csv'),
    log
      .map((l, i) =>
        i > 0 && l
          ? l
              .split(',')
              .map((v, k) => (k === 4 ? '0.100' : v))
              .join(',')
          : l,
      )
      .join('\n'),
  );
  const writer = new CorpusWriter(corpusRoot, { model, data, manifest, image: join(data, 'widget/test/good/000.png') }, 20261130);
  await writer.images(170);
  writer.datasets(70);
  writer.modelDirs(80);
  writer.weights(100);
  await writer.checkpoints(30);
  writer.manifests(40);
  writer.configs(40);
  writer.cli();
  cases = writer.cases;
});
after(() => rmSync(root, { recursive: true, force: true }));

test('the fuzz corpus: 500+ bad inputs, each a clean error or a success, no leftovers, bounded memory', () => {
  const lib = cases.filter((c) => c.entry.kind !== 'cli');
  const cli = cases.filter((c) => c.entry.kind === 'cli');
  assert.ok(lib.length >= 500, `${lib.length} library cases`);
  const before = listing(corpusRoot);
  const problems: string[] = [];
  const report = (c: FuzzCase | undefined, what: string) => problems.push(`${c?.id ?? '?'} (${c?.how ?? ''}): ${what}`);
  const byId = new Map(cases.map((c) => [c.id, c]));

  // Library entry points, in one worker process with a temp folder of its own.
  const workerTmp = mkdtempSync(join(root, 'tmp-'));
  const casesFile = join(root, 'cases.json');
  writeFileSync(casesFile, JSON.stringify(lib));
  const w = spawnSync(process.execPath, [WORKER, casesFile], { encoding: 'utf8', env: { ...process.env, TMPDIR: workerTmp }, maxBuffer: 1 << 28 });
  const lines = w.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const results = lines.filter((l): l is CaseResult => 'ok' in l);
  const started = lines.filter((l) => 'start' in l).map((l) => l.start as string);
  if (w.status !== 0)
    report(
      byId.get(started.at(-1)!),
      `the worker died (status ${w.status}, signal ${w.signal}): ${lines.find((l) => 'fatal' in l)?.message ?? w.stderr.slice(-2000)}`,
    );
  assert.equal(results.length, lib.length, `every case reported (${problems.join('\n')})`);
  for (const r of results) {
    const c = byId.get(r.id)!;
    if (r.maxRss > MEMORY_BOUND) report(c, `peak memory ${(r.maxRss / 2 ** 20).toFixed(0)} MiB`);
    if (r.ok) continue;
    const e = r.error!;
    if (RAW_ERRORS.includes(e.name)) report(c, `raw ${e.name}: ${e.message}\n${e.stack}`);
    else if (e.message.includes('\n')) report(c, `error of several lines: ${e.message}`);
    else if (!e.message.includes(c.dir)) report(c, `error names no file of the case: ${e.message}`);
  }
  assert.deepEqual(readdirSync(workerTmp), [], 'nothing left in the temp folder');

  // The command line: documented exit codes, one 'simplenet: ' line per problem, no stack traces.
  const rssReporter = join(root, 'rss.mjs');
  writeFileSync(
    rssReporter,
    "import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => writeFileSync(process.env.FUZZ_RSS, String(process.resourceUsage().maxRSS * 1024)));\n",
  );
  for (const c of cli) {
    if (c.entry.kind !== 'cli') continue;
    const rss = join(root, `rss-${c.id}`);
    const r = spawnSync(process.execPath, ['--import', rssReporter, CLI, ...c.entry.args], {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', FUZZ_RSS: rss, TMPDIR: workerTmp, ...c.entry.env },
      maxBuffer: 1 << 26,
    });
    if (!DOCUMENTED_EXITS.includes(r.status ?? -1)) report(c, `exit ${r.status} (signal ${r.signal}): ${r.stderr.slice(-1500)}`);
    const bad = r.stderr.split('\n').filter((l) => l && !l.startsWith('simplenet: ') && !l.startsWith('warning: '));
    if (bad.length) report(c, `stderr lines that are not one-line messages: ${bad.slice(0, 5).join(' | ')}`);
    const peak = Number(readFileSync(rss, 'utf8'));
    if (peak > MEMORY_BOUND) report(c, `peak memory ${(peak / 2 ** 20).toFixed(0)} MiB`);
  }
  assert.deepEqual(readdirSync(workerTmp), [], 'nothing left in the temp folder by the CLI');

  const now = listing(corpusRoot);
  const allowed = cli.flatMap(allowedOutputs).map((p) => relative(corpusRoot, p));
  for (const [p, size] of now) {
    if (before.get(p) === size) continue;
    if (allowed.some((a) => p === a || p.startsWith(`${a}/`))) continue;
    report(
      cases.find((c) => p.startsWith(relative(corpusRoot, c.dir))),
      `${before.has(p) ? 'changed' : 'left behind'}: ${p}`,
    );
  }
  for (const p of before.keys())
    if (!now.has(p))
      report(
        cases.find((c) => p.startsWith(relative(corpusRoot, c.dir))),
        `input removed: ${p}`,
      );
  assert.deepEqual(problems, [], `${problems.length} of ${cases.length} cases misbehaved`);
});
