/**
 * `simplenet benchmark`: trains and tests every category × seed with one configuration, keeps each
 * model, and writes results.csv (one row per run) and results.md (mean ± std). Test data only
 * measures; nothing is chosen on it.
 */
import { join } from 'node:path';
import type { Backbone } from '../backbones/backbone.js';
import { type Reporter, silentReporter } from '../core/progress.js';
import { type DatasetSpec, loadDataset } from '../datasets/load.js';
import { evaluate } from '../evaluation/evaluate.js';
import { prepareOutput, writeFileAtomic } from '../io/atomic.js';
import { type SimpleNetConfig, parseConfig } from '../model/config.js';
import { type EpochLog, loadModel, logCsv } from '../model/modelDir.js';
import type { Metrics } from '../evaluation/evaluate.js';
import type { MonitorEntry } from '../training/trainToDir.js';
import { selectionResults, timeToQuality } from './selection.js';
import { Scorer } from '../scoring/scorer.js';
import { trainToDir } from '../training/trainToDir.js';
import { BENCHMARK_METRICS } from '../evaluation/metricSpecs.js';
import { type BenchmarkRow, benchmarkTitle, rowsCsv, summaryMarkdown } from './summary.js';

export interface BenchmarkOptions {
  dataset: (category: string) => DatasetSpec;
  categories: string[];
  seeds: number[];
  backbone: Backbone;
  config: SimpleNetConfig;
  out: string;
  reporter?: Reporter;
  /**
   * Evaluate every N epochs: validation (when configured with held-out images) and the test split,
   * for the final / validation-selected / oracle columns and the curves CSVs.
   */
  evalEvery?: number;
  /**
   * Also run the nearest-neighbour baseline ('knn': the knn head on the same features, seed, held-out
   * images, thresholds and metrics) for each category × seed, as rows of its own
   * (models/<category>/seed<s>-knn/), so the table shows whether the trained head earns its place.
   */
  baseline?: 'knn';
}

function curvesCsv(log: EpochLog[], monitor: MonitorEntry[]): string {
  const at = new Map(monitor.map((m) => [m.epoch, m.metrics]));
  const lines = logCsv(log).trimEnd().split('\n');
  const test = (m: Metrics | undefined) => [m?.image_auroc, m?.pixel_auroc, m?.pixel_aupro].map((v) => (v === undefined || v === null ? '' : String(v)));
  return `${[`${lines[0]},test_image_auroc,test_pixel_auroc,test_aupro`, ...log.map((e, i) => [lines[i + 1], ...test(at.get(e.epoch))].join(','))].join('\n')}\n`;
}

export async function runBenchmark(opts: BenchmarkOptions): Promise<BenchmarkRow[]> {
  const reporter = opts.reporter ?? silentReporter;
  const rows: BenchmarkRow[] = [];
  const write = async () => {
    await writeFileAtomic(join(opts.out, 'results.csv'), rowsCsv(rows), 'text');
    await writeFileAtomic(join(opts.out, 'results.md'), summaryMarkdown(rows, benchmarkTitle(opts.config)), 'text');
  };
  const modelDir = (category: string, seed: number, method: 'simplenet' | 'knn' = 'simplenet') =>
    join(opts.out, 'models', category, method === 'knn' ? `seed${seed}-knn` : `seed${seed}`);
  // Every output is checked before the first run, not after hours of training.
  for (const file of ['results.csv', 'results.md']) await prepareOutput(join(opts.out, file), 'text');
  for (const category of opts.categories) {
    for (const seed of opts.seeds) {
      await prepareOutput(modelDir(category, seed), 'model');
      if (opts.baseline) await prepareOutput(modelDir(category, seed, opts.baseline), 'model');
      if (opts.evalEvery) await prepareOutput(join(opts.out, 'curves', `${category}_seed${seed}.csv`), 'text');
    }
  }
  for (const category of opts.categories) {
    const dataset = await loadDataset(opts.dataset(category));
    for (const seed of opts.seeds) {
      reporter.line(`benchmark: ${category}, seed ${seed}`);
      const every = opts.evalEvery ?? 0;
      const validate = every > 0 && opts.config.threshold.validationFraction > 0;
      const config = parseConfig({
        ...opts.config,
        train: { ...opts.config.train, seed },
        validation: { ...opts.config.validation, every: validate ? every : opts.config.validation.every },
      });
      const dir = modelDir(category, seed);
      const epochs = config.train.epochs;
      const monitorEpochs = every > 0 ? [...new Set([...Array.from({ length: Math.floor(epochs / every) }, (_, i) => (i + 1) * every), epochs])] : undefined;
      const { result, monitor } = await trainToDir({ dataset, backbone: opts.backbone, config, out: dir, reporter, monitorEpochs });
      if (every > 0) await writeFileAtomic(join(opts.out, 'curves', `${category}_seed${seed}.csv`), curvesCsv(result.training.log, monitor), 'text');
      const scorer = await Scorer.fromModel(await loadModel(dir));
      const ev = await evaluate(scorer, dataset, { image: config.image, reporter, label: `testing ${category} seed ${seed}` });
      await scorer.release();
      rows.push({
        category,
        seed,
        epochs: config.train.epochs,
        metrics: Object.fromEntries(BENCHMARK_METRICS.map((k) => [k, ev.metrics[k]])) as BenchmarkRow['metrics'],
        trainSeconds: result.training.seconds,
        testImagesPerSecond: ev.metrics.n_images / ev.seconds,
        ...(every > 0 ? { selection: selectionResults(result.training.log, monitor) } : {}),
        ...(result.training.log.some((e) => e.valPatchAuroc !== undefined) ? { timeToQuality: timeToQuality(result.training.log) } : {}),
      });
      // Results so far survive an interruption of a long benchmark.
      await write();
      if (opts.baseline === 'knn') {
        reporter.line(`benchmark: ${category}, seed ${seed}, knn baseline`);
        const knnConfig = parseConfig({ ...config, head: { ...config.head, kind: 'knn' } });
        const knnDir = modelDir(category, seed, 'knn');
        const knn = await trainToDir({ dataset, backbone: opts.backbone, config: knnConfig, out: knnDir, reporter });
        const knnScorer = await Scorer.fromModel(await loadModel(knnDir));
        const knnEv = await evaluate(knnScorer, dataset, { image: knnConfig.image, reporter, label: `testing ${category} seed ${seed} (knn)` });
        await knnScorer.release();
        rows.push({
          category,
          seed,
          method: 'knn',
          epochs: 0,
          metrics: Object.fromEntries(BENCHMARK_METRICS.map((k) => [k, knnEv.metrics[k]])) as BenchmarkRow['metrics'],
          trainSeconds: knn.result.training.seconds,
          testImagesPerSecond: knnEv.metrics.n_images / knnEv.seconds,
        });
        await write();
      }
    }
  }
  return rows;
}
