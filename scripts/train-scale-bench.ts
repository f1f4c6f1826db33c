/**
 * How training cost grows (issue 16), a benchmark and not a test: for each number of training
 * images n and input size (crop; resize = crop / 0.875 as the paper's 329 → 288), trains 1 epoch
 * of the default ('validated') preset on MVTec AD bottle in a fresh child process, so that one
 * configuration's peak RSS never includes another's, and records feature-extraction seconds,
 * epoch seconds, peak RSS and RSS per phase. Usage (after `npm run build`):
 *   node dist/scripts/train-scale-bench.js [--n 50,100,200,400] [--size 288,384,512]
 *     [--backbone wrn50|mobilenet_v2] [--epochs 1] [--config '{"train":{...}}']
 *     [--out bench/train-scale.json] [--svg bench/train-scale.svg]
 * wrn50 is WideResNet-50-2 with seeded random weights (the cost of the real one, not its
 * features); mobilenet_v2 is `backbones/mobilenet_v2.json`. Bottle has 209 good training images:
 * past that, the horizontally flipped copies are added (written to a temp folder, removed after),
 * and the output says how many. The held-out share (10 %) comes out of n, as in `simplenet train`.
 * Figures depend on the machine and its load: run it on a quiet one.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { PartialConfig } from '../src/api/train.js';
import { resolveBackbone } from '../src/backbones/backbone.js';
import type { Backbone } from '../src/backbones/types.js';
import type { ProgressBar, Reporter } from '../src/core/progress.js';
import type { Sample } from '../src/datasets/dataset.js';
import { loadMvtec } from '../src/datasets/mvtec.js';
import { mergeConfig, resolveConfig } from '../src/model/config.js';
import { MVTEC_ROOT } from '../src/testing/bottleSubset.js';
import { trainToDir } from '../src/training/trainToDir.js';
import { randomWrn50Backbone } from './randomWrn50.js';
import { type Series, svgLinePlots } from './svgPlot.js';

interface Job {
  n: number;
  size: number;
  backbone: 'wrn50' | 'mobilenet_v2';
  epochs: number;
  config: PartialConfig;
}

interface Phase {
  phase: string;
  seconds: number;
  /** RSS when the phase ended. */
  rssMiB: number;
  /** Peak RSS of the process so far, at the phase's end. */
  peakMiB: number;
}

interface Result extends Job {
  images: { original: number; flipped: number; trained: number; heldOut: number };
  featureSeconds: number;
  epochSeconds: number;
  /** The epoch's training steps only (without the validation at its end). */
  stepSeconds: number;
  peakRssMiB: number;
  phases: Phase[];
}

const MiB = 2 ** 20;
const peakMiB = () => (process.resourceUsage().maxRSS * 1024) / MiB;
const rssMiB = () => process.memoryUsage().rss / MiB;

/** Times and measures each progress bar of the run: the phases are the bars the library starts. */
function phaseReporter(phases: Phase[]): Reporter {
  return {
    bar(label: string): ProgressBar {
      const started = performance.now();
      return {
        tick() {},
        done() {
          const p = { phase: label, seconds: (performance.now() - started) / 1000, rssMiB: rssMiB(), peakMiB: peakMiB() };
          phases.push(p);
          process.stderr.write(`  ${p.phase}: ${p.seconds.toFixed(1)} s, RSS ${p.rssMiB.toFixed(0)} MiB, peak ${p.peakMiB.toFixed(0)} MiB\n`);
        },
      };
    },
    line() {},
    warn() {},
  };
}

async function trainingImages(n: number, scratch: string): Promise<{ samples: Sample[]; flipped: number }> {
  const dataset = await loadMvtec(MVTEC_ROOT, 'bottle');
  const samples = dataset.train.slice(0, n);
  const flipped = Math.max(0, n - dataset.train.length);
  if (flipped > dataset.train.length) throw new RangeError(`at most ${2 * dataset.train.length} images (originals + flipped copies)`);
  for (const s of dataset.train.slice(0, flipped)) {
    const path = join(scratch, `flipped_${s.path.split('/').at(-1)}`);
    await sharp(s.path).flop().png().toFile(path);
    samples.push({ ...s, path });
  }
  return { samples, flipped };
}

async function child(job: Job): Promise<Result> {
  const scratch = mkdtempSync(join(tmpdir(), 'simplenet-scale-'));
  try {
    const { samples, flipped } = await trainingImages(job.n, scratch);
    const dataset = { ...(await loadMvtec(MVTEC_ROOT, 'bottle')), train: samples };
    const resize = Math.round(job.size / 0.875);
    const config = await resolveConfig(
      undefined,
      mergeConfig(job.config, { image: { resize, crop: job.size }, train: { epochs: job.epochs } }) as Parameters<typeof resolveConfig>[1],
    );
    const backbone: Backbone =
      job.backbone === 'wrn50'
        ? randomWrn50Backbone()
        : await resolveBackbone({ backbone: join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'backbones', 'mobilenet_v2.json') });
    const phases: Phase[] = [];
    const { result } = await trainToDir({ dataset, backbone, config, out: join(scratch, 'model'), reporter: phaseReporter(phases) });
    const heldOut = samples.length - result.training.dataset.nTrain;
    const step = phases.find((p) => p.phase.startsWith('epoch 1/'));
    return {
      ...job,
      images: { original: samples.length - flipped, flipped, trained: result.training.dataset.nTrain, heldOut },
      featureSeconds: result.training.featureSeconds,
      epochSeconds: result.training.log[0].seconds,
      stepSeconds: step?.seconds ?? Number.NaN,
      peakRssMiB: peakMiB(),
      phases,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function option(args: string[], flag: string, fallback: string): string {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : fallback;
}

function plot(results: Result[], path: string): void {
  const sizes = [...new Set(results.map((r) => r.size))].sort((a, b) => a - b);
  const series = (y: (r: Result) => number): Series[] =>
    sizes.map((size) => ({
      label: `${size} px`,
      points: results.filter((r) => r.size === size).map((r) => [r.n, y(r)] as [number, number]),
    }));
  const backbone = results[0]?.backbone ?? '';
  writeFileSync(
    path,
    svgLinePlots(
      [
        { title: `feature extraction (${backbone})`, xLabel: 'training images', yLabel: 'seconds', series: series((r) => r.featureSeconds) },
        { title: 'one epoch', xLabel: 'training images', yLabel: 'seconds', series: series((r) => r.epochSeconds) },
        { title: 'peak RSS', xLabel: 'training images', yLabel: 'MiB', series: series((r) => r.peakRssMiB) },
      ],
      { title: `simplenet training cost vs training images (${backbone})` },
    ),
  );
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  process.stdout.write(`${JSON.stringify(await child(JSON.parse(args[1]) as Job))}\n`);
} else {
  const ns = option(args, '--n', '50,100,200,400').split(',').map(Number);
  const sizes = option(args, '--size', '288,384,512').split(',').map(Number);
  const backbone = option(args, '--backbone', 'wrn50') as Job['backbone'];
  if (backbone !== 'wrn50' && backbone !== 'mobilenet_v2') throw new RangeError(`--backbone: wrn50 or mobilenet_v2, got ${backbone}`);
  const epochs = Number(option(args, '--epochs', '1'));
  const config = JSON.parse(option(args, '--config', '{}')) as PartialConfig;
  const out = option(args, '--out', 'bench/train-scale.json');
  const svg = option(args, '--svg', out.replace(/\.json$/, '.svg'));
  const results: Result[] = [];
  for (const size of sizes) {
    for (const n of ns) {
      const job: Job = { n, size, backbone, epochs, config };
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(job)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 * MiB,
      });
      if (r.status !== 0) throw new Error(`n=${n} size=${size}: the child failed (status ${r.status}, signal ${r.signal})`);
      const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Result;
      results.push(result);
      const note = result.images.flipped ? ` (${result.images.flipped} of them flipped copies)` : '';
      console.log(JSON.stringify(result));
      console.error(
        `n=${n}${note} size=${size} ${backbone}: features ${result.featureSeconds.toFixed(1)} s, epoch ${result.epochSeconds.toFixed(1)} s ` +
          `(steps ${result.stepSeconds.toFixed(1)} s), peak RSS ${result.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  }
  mkdirSync(dirname(out), { recursive: true });
  const note =
    'n counts all images given, the 10 % held out for thresholds and validation included; past 209 (bottle) the flipped copies of the first images are added';
  writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), cpus: availableParallelism(), note, results }, null, 2)}\n`);
  plot(results, svg);
  console.error(`wrote ${out} and ${svg}`);
}
