/**
 * One category × seed of a benchmark: train its model, test it, and give its results row. Shared
 * by the local loop (runBenchmark.ts) and the queue's benchmark-run job, so a run fanned out to
 * workers computes exactly what a local run computes.
 */
import { join } from 'node:path';
import type { Backbone } from '../backbones/backbone.js';
import { type Reporter, silentReporter } from '../core/progress.js';
import type { AnomalyDataset } from '../datasets/dataset.js';
import { evaluate, type Metrics } from '../evaluation/evaluate.js';
import { BENCHMARK_METRICS } from '../evaluation/metricSpecs.js';
import { prepareOutput, writeFileAtomic } from '../io/atomic.js';
import { parseConfig, type SimpleNetConfig } from '../model/config.js';
import { type EpochLog, loadModel, logCsv } from '../model/modelDir.js';
import { Scorer } from '../scoring/scorer.js';
import { heldOutCount, plannedEpochs } from '../training/epochs.js';
import { type MonitorEntry, trainToDir } from '../training/trainToDir.js';
import { selectionResults, timeToQuality } from './selection.js';
import { type BenchmarkRow, benchmarkTitle, rowsCsv, summaryMarkdown } from './summary.js';

/** Where a benchmark keeps the model of one run. */
export function benchmarkModelDir(out: string, category: string, seed: number, method: 'simplenet' | 'knn' = 'simplenet'): string {
  return join(out, 'models', category, method === 'knn' ? `seed${seed}-knn` : `seed${seed}`);
}

/** Where a benchmark keeps the curves CSV of one run (with evalEvery). */
export function benchmarkCurvesPath(out: string, category: string, seed: number): string {
  return join(out, 'curves', `${category}_seed${seed}.csv`);
}

/** Writes results.csv and results.md for the rows so far (atomically: a reader never sees half a table). */
export async function writeBenchmarkResults(out: string, rows: readonly BenchmarkRow[], config: SimpleNetConfig): Promise<void> {
  await writeFileAtomic(join(out, 'results.csv'), rowsCsv([...rows]), 'text');
  await writeFileAtomic(join(out, 'results.md'), summaryMarkdown([...rows], benchmarkTitle(config)), 'text');
}

function curvesCsv(log: EpochLog[], monitor: MonitorEntry[]): string {
  const at = new Map(monitor.map((m) => [m.epoch, m.metrics]));
  const lines = logCsv(log).trimEnd().split('\n');
  const test = (m: Metrics | undefined) => [m?.image_auroc, m?.pixel_auroc, m?.pixel_aupro].map((v) => (v === undefined || v === null ? '' : String(v)));
  return `${[`${lines[0]},test_image_auroc,test_pixel_auroc,test_aupro`, ...log.map((e, i) => [lines[i + 1], ...test(at.get(e.epoch))].join(','))].join('\n')}\n`;
}

export interface BenchmarkRunOptions {
  dataset: AnomalyDataset;
  category: string;
  seed: number;
  backbone: Backbone;
  /** The benchmark's configuration; the seed (and validation cadence) are set per run. */
  config: SimpleNetConfig;
  out: string;
  reporter?: Reporter;
  evalEvery?: number;
  /** Checkpoint every epoch here and resume from it (a queue job retried on another worker). */
  checkpointPath?: string;
  signal?: AbortSignal;
}

/** The configuration of one run: the benchmark's, with this seed and the validation cadence. */
export function runConfig(base: SimpleNetConfig, seed: number, evalEvery?: number): SimpleNetConfig {
  const every = evalEvery ?? 0;
  const validate = every > 0 && base.threshold.validationFraction > 0;
  return parseConfig({
    ...base,
    train: { ...base.train, seed },
    validation: { ...base.validation, every: validate ? every : base.validation.every },
  });
}

/** Trains (unless `skipTraining`: the model is already there) and tests one run; the model lands in benchmarkModelDir. */
export async function benchmarkRun(opts: BenchmarkRunOptions, skipTraining = false): Promise<BenchmarkRow> {
  const reporter = opts.reporter ?? silentReporter;
  const { category, seed, dataset } = opts;
  const every = opts.evalEvery ?? 0;
  const config = runConfig(opts.config, seed, opts.evalEvery);
  const dir = benchmarkModelDir(opts.out, category, seed);
  let trainSeconds: number;
  let row: Pick<BenchmarkRow, 'selection' | 'timeToQuality'> = {};
  if (skipTraining) {
    trainSeconds = (await loadModel(dir)).manifest.training.seconds;
  } else {
    // The trainer raises the epochs to reach train.minSteps; monitor the epochs it will run.
    const epochs = plannedEpochs(config.train, dataset.train.length - heldOutCount(dataset.train.length, config.threshold.validationFraction));
    const monitorEpochs = every > 0 ? [...new Set([...Array.from({ length: Math.floor(epochs / every) }, (_, i) => (i + 1) * every), epochs])] : undefined;
    const { result, monitor } = await trainToDir({
      dataset,
      backbone: opts.backbone,
      config,
      out: dir,
      reporter,
      monitorEpochs,
      signal: opts.signal,
      ...(opts.checkpointPath ? { checkpoint: { every: 1, resume: true, path: opts.checkpointPath } } : {}),
    });
    if (every > 0) await writeFileAtomic(benchmarkCurvesPath(opts.out, category, seed), curvesCsv(result.training.log, monitor), 'text');
    trainSeconds = result.training.seconds;
    row = {
      ...(every > 0 ? { selection: selectionResults(result.training.log, monitor) } : {}),
      ...(result.training.log.some((e) => e.valPatchAuroc !== undefined) ? { timeToQuality: timeToQuality(result.training.log) } : {}),
    };
  }
  const model = await loadModel(dir);
  const scorer = await Scorer.fromModel(model);
  const ev = await evaluate(scorer, dataset, { image: config.image, reporter, label: `testing ${category} seed ${seed}` });
  await scorer.release();
  return {
    category,
    seed,
    epochs: model.manifest.training.epochs,
    metrics: Object.fromEntries(BENCHMARK_METRICS.map((k) => [k, ev.metrics[k]])) as BenchmarkRow['metrics'],
    trainSeconds,
    testImagesPerSecond: ev.metrics.n_images / ev.seconds,
    ...row,
  };
}

/** Checks every output of the benchmark before the first run, not after hours of training. */
export async function prepareBenchmarkOutputs(
  out: string,
  categories: readonly string[],
  seeds: readonly number[],
  opts: { evalEvery?: number; baseline?: 'knn' } = {},
): Promise<void> {
  for (const file of ['results.csv', 'results.md']) await prepareOutput(join(out, file), 'text');
  for (const category of categories) {
    for (const seed of seeds) {
      await prepareOutput(benchmarkModelDir(out, category, seed), 'model');
      if (opts.baseline) await prepareOutput(benchmarkModelDir(out, category, seed, opts.baseline), 'model');
      if (opts.evalEvery) await prepareOutput(benchmarkCurvesPath(out, category, seed), 'text');
    }
  }
}
