/**
 * `npm run bench` (a benchmark, not a test): our side of every row of issue 16's comparison and,
 * where `/usr/bin/python3` has torch, the official SimpleNet code timed by
 * ../shared/tools/official_bench in the same run, one measurement after the other. Writes
 * bench/results.json and bench/results.md (the table with ratios). Run it with nothing else running.
 *
 *   node dist/scripts/bench.js [--quick] [--no-official] [--out bench]
 *
 * Rows: end-to-end inference (decode → score + 288² map) with random-weight WideResNet-50-2 and
 * the packaged MobileNetV2, fp32 and int8, batch 1/4/8, one run at a time (every core) and two
 * side by side (`--workers 2`, the CLI's default); the backbone alone fp32 vs int8 and its
 * features' relative error; one training step on cached features; one training epoch of bottle
 * and its peak RSS. Every row of ours runs in a fresh child process (peaks never mix).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const has = (f: string) => argv.includes(f);
const arg = (f: string, fallback: string) => (argv.includes(f) ? argv[argv.indexOf(f) + 1] : fallback);
const quick = has('--quick');
const out = arg('--out', 'bench');
const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '../..');
const SHARED = resolve(ROOT, '..', 'shared');
const BOTTLE = join(SHARED, 'data/mvtec_ad/bottle');
const HARNESS = join(SHARED, 'tools/official_bench/bench_official.py');
const PYTHON = '/usr/bin/python3';
mkdirSync(out, { recursive: true });

interface Step {
  name: string;
  command: string;
  seconds: number;
  lines: Record<string, unknown>[];
  /** Why the step failed, when it did. */
  failed?: string;
}
const steps: Step[] = [];

/**
 * Runs one script in a fresh process; its JSON lines on stdout are the result. A failing step is
 * recorded (its error in `failed`) and the run goes on, and results.json is rewritten after every
 * step, so one broken piece never loses the others' measurements.
 */
function run(name: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}, program = process.execPath): Step {
  const command = `${program === process.execPath ? 'node' : program} ${file} ${args.join(' ')}`;
  process.stderr.write(`\n== ${name}: ${command}\n`);
  const t0 = Date.now();
  const r = spawnSync(program, [file, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 28,
  });
  const lines = (r.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const step: Step = { name, command, seconds: (Date.now() - t0) / 1000, lines };
  if (r.status !== 0) {
    step.failed = `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    process.stderr.write(`!! ${name} failed: ${step.failed}\n`);
  }
  steps.push(step);
  writeFileSync(join(out, 'results.json'), `${JSON.stringify({ partial: true, steps }, null, 1)}\n`);
  return step;
}

const script = (s: string) => join(HERE, s);

// --table: rebuild results.md from an earlier run's results.json, measuring nothing.
if (has('--table')) {
  const d = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { meta: typeof meta; steps: Step[]; official?: Record<string, unknown> };
  const by = (prefix: string) => d.steps.filter((s) => s.name.startsWith(prefix));
  const md = table({
    inference: by('predict'),
    backboneOnly: by('backbone')[0],
    trainStep: by('training step')[0],
    epoch: by('one epoch')[0],
    official: d.official,
    meta: d.meta,
  });
  writeFileSync(join(out, 'results.md'), md);
  process.stdout.write(md);
  process.exit(0);
}
const nImages = quick ? '8' : '24';

// Inference, end to end (decode included), folded head as the CLI runs it.
const predict = (backbone: string, precision: string) =>
  run(`predict ${backbone} ${precision}`, script('predict-bench.js'), [
    '--random',
    backbone,
    '--precision',
    precision,
    '--calibrate',
    join(BOTTLE, 'train/good'),
    '--folded-only',
    '--n',
    nImages,
    '--batch',
    quick ? '1' : '1,4,8',
    '--workers',
    '0,2',
    join(BOTTLE, 'test'),
  ]);
const inference = ['wrn50', 'mobilenet_v2'].flatMap((b) => ['fp32', 'int8'].map((p) => predict(b, p)));
const backboneOnly = run('backbone fp32 vs int8', script('quant-bench.js'), ['--backbone', 'both', '--runs', quick ? '3' : '10']);
const trainStep = run('training step (8 images, cached features)', script('train-step-bench.js'), ['10368', quick ? '2' : '6']);
const epoch = run('one epoch of bottle, peak RSS', script('train-scale-bench.js'), [
  '--n',
  '209',
  '--size',
  '288',
  '--backbone',
  'wrn50',
  '--epochs',
  '1',
  '--out',
  join(out, 'epoch-wrn50.json'),
]);

let official: Record<string, unknown> | undefined;
const torchThere = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, scipy, sklearn, PIL'], { stdio: 'ignore' }).status === 0;
if (!has('--no-official') && torchThere && existsSync(HARNESS)) {
  const json = resolve(out, 'official.json');
  run(
    'official SimpleNet (harness)',
    HARNESS,
    ['--label', 'npm run bench', '--json', json, ...(quick ? ['--iters', '1', '--warmup', '1'] : [])],
    { OMP_NUM_THREADS: '2', OPENBLAS_NUM_THREADS: '2' },
    PYTHON,
  );
  if (existsSync(json) && !steps.at(-1)?.failed) official = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
} else {
  process.stderr.write('\n(official harness skipped: --no-official, or /usr/bin/python3 without torch/scipy/sklearn/PIL, or the harness is missing)\n');
}

const meta = {
  date: new Date().toISOString(),
  machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  node: process.version,
  quick,
  loadavgEnd: loadavg(),
};
writeFileSync(join(out, 'results.json'), `${JSON.stringify({ meta, steps, official }, null, 1)}\n`);
writeFileSync(join(out, 'results.md'), table({ inference, backboneOnly, trainStep, epoch, official, meta }));
process.stderr.write(`\nwrote ${join(out, 'results.json')} and ${join(out, 'results.md')}\n`);
process.stdout.write(readFileSync(join(out, 'results.md'), 'utf8'));

/** The Markdown table of the issue's rows, ours against the official code, as ratios. */
function table(r: { inference: Step[]; backboneOnly: Step; trainStep: Step; epoch: Step; official?: Record<string, unknown>; meta: typeof meta }): string {
  const o = (variant: string, stage: string) => {
    const results = r.official?.results as Record<string, Record<string, { per_item_median_s: number }>> | undefined;
    return results?.[variant]?.[stage]?.per_item_median_s;
  };
  // The harness times preprocessing once, outside the variants.
  const pre = (r.official?.results as Record<string, { per_item_median_s?: number }> | undefined)?.preprocess?.per_item_median_s;
  const officialIps = (variant: string) => {
    const infer = o(variant, 'infer');
    return infer !== undefined && pre !== undefined ? 1 / (infer + pre) : undefined;
  };
  const fmt = (v: number | undefined, d = 2) => (v === undefined ? '—' : v.toFixed(d));
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`);
  const rows: string[] = [
    `Measured ${r.meta.date} on ${r.meta.machine}, Node ${r.meta.node}${r.meta.quick ? ' (--quick: NOT a benchmark)' : ''}. Commands: bench/results.json.`,
    '',
    '| work | official | official lean | ours | ours ÷ official |',
    '|---|---|---|---|---|',
  ];
  for (const s of r.inference) {
    for (const line of s.lines) {
      const ips = line.imagesPerSecond as number;
      const wrn = /wrn50|wide/.test(String(line.backbone));
      const runs = line.workers ? `${line.workers} runs side by side (--workers ${line.workers})` : 'one run at a time (--workers 0)';
      rows.push(
        `| inference ${line.backbone} ${line.precision}, batch ${line.batch}, ${runs}, images/s | ${wrn ? fmt(officialIps('official')) : '—'} | ${wrn ? fmt(officialIps('lean')) : '—'} | ${fmt(ips)} | ${wrn ? ratio(ips, officialIps('official')) : '—'} |`,
      );
    }
  }
  const step = r.trainStep.lines.at(-1) as { stepSeconds?: number } | undefined;
  const officialStep = (r.official?.results as Record<string, { per_item_median_s: number }> | undefined)?.train?.per_item_median_s;
  rows.push(
    `| training step, 8 images, cached features, s | ${fmt(officialStep)} | — | ${fmt(step?.stepSeconds)} | ${ratio(step?.stepSeconds, officialStep)} |`,
  );
  const ep = r.epoch.lines.at(-1) as { featureSeconds?: number; epochSeconds?: number; peakRssMiB?: number } | undefined;
  const full = o('official', 'train_full');
  const officialEpoch = full !== undefined ? full * Math.ceil(209 / 8) : undefined;
  rows.push(
    `| one epoch of bottle, s (official: 27 × train_full, backbone every step) | ${fmt(officialEpoch, 0)} | — | ${fmt(ep?.epochSeconds, 0)} + features once ${fmt(ep?.featureSeconds, 0)} | ${ratio((ep?.epochSeconds ?? 0) + (ep?.featureSeconds ?? 0), officialEpoch)} |`,
  );
  const officialRss = (r.official?.meta as { maxrss_mib?: number } | undefined)?.maxrss_mib;
  rows.push(`| peak memory, training, MiB | ${fmt(officialRss, 0)} (harness peak) | — | ${fmt(ep?.peakRssMiB, 0)} | ${ratio(ep?.peakRssMiB, officialRss)} |`);
  rows.push(
    '',
    '| backbone alone, batch 1, 288² | weights | values kept float (rule) | predicted tap error | fp32 ms (pruned, specialised; whole file) | int8 ms | speed-up | feature relative error (mean over held-out images) |',
    '|---|---|---|---|---|---|---|---|',
  );
  // Speed-ups are against the float graph pruned to the taps and specialised to the crop, which is
  // what the scoring graph runs.
  const fp32 = r.backboneOnly.lines.filter((l) => l.precision === 'fp32');
  const fp32Ms = new Map(fp32.filter((l) => l.graph !== 'whole file').map((l) => [l.backbone, l.medianMs as number]));
  const wholeMs = new Map(fp32.filter((l) => l.graph === 'whole file').map((l) => [l.backbone, l.medianMs as number]));
  for (const line of r.backboneOnly.lines) {
    if (line.precision !== 'int8') continue;
    const base = fp32Ms.get(line.backbone);
    const err = Object.entries(line.relErrorMean as Record<string, number>)
      .map(([k, v]) => `${k} ${v.toFixed(3)}`)
      .join(', ');
    rows.push(
      `| ${line.backbone} | ${line.gridWeights ? `${line.gridWeights} of ${line.weights} exact on their grid` : `${line.weightBits}-bit per channel`} | ${line.floatTensors} of ${line.tensors} (${line.rule}) | ${fmt(line.predictedError as number, 3)} | ${fmt(base, 1)}; ${fmt(wholeMs.get(line.backbone), 1)} | ${fmt(line.medianMs as number, 1)} | ${ratio(base, line.medianMs as number)} | ${err} |`,
    );
  }
  return `${rows.join('\n')}\n`;
}
