/**
 * `simplenet benchmark`: trains and tests every category × seed with one configuration, keeps each
 * model, and writes results.csv (one row per run) and results.md (mean ± std). Test data only
 * measures; nothing is chosen on it.
 */
import type { Backbone } from '../backbones/backbone.js';
import { type Reporter, silentReporter } from '../core/progress.js';
import { type DatasetSpec, loadDataset } from '../datasets/load.js';
import { evaluate } from '../evaluation/evaluate.js';
import { BENCHMARK_METRICS } from '../evaluation/metricSpecs.js';
import { parseConfig, type SimpleNetConfig } from '../model/config.js';
import { loadModel } from '../model/modelDir.js';
import { Scorer } from '../scoring/scorer.js';
import { trainToDir } from '../training/trainToDir.js';
import { benchmarkModelDir, benchmarkRun, prepareBenchmarkOutputs, runConfig, writeBenchmarkResults } from './benchmarkRun.js';
import type { BenchmarkRow } from './summary.js';

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

export async function runBenchmark(opts: BenchmarkOptions): Promise<BenchmarkRow[]> {
  const reporter = opts.reporter ?? silentReporter;
  const rows: BenchmarkRow[] = [];
  const write = () => writeBenchmarkResults(opts.out, rows, opts.config);
  await prepareBenchmarkOutputs(opts.out, opts.categories, opts.seeds, { evalEvery: opts.evalEvery, baseline: opts.baseline });
  for (const category of opts.categories) {
    const dataset = await loadDataset(opts.dataset(category));
    for (const seed of opts.seeds) {
      reporter.line(`benchmark: ${category}, seed ${seed}`);
      rows.push(
        await benchmarkRun({ dataset, category, seed, backbone: opts.backbone, config: opts.config, out: opts.out, reporter, evalEvery: opts.evalEvery }),
      );
      // Results so far survive an interruption of a long benchmark.
      await write();
      if (opts.baseline === 'knn') {
        reporter.line(`benchmark: ${category}, seed ${seed}, knn baseline`);
        const config = runConfig(opts.config, seed, opts.evalEvery);
        const knnConfig = parseConfig({ ...config, head: { ...config.head, kind: 'knn' } });
        const knnDir = benchmarkModelDir(opts.out, category, seed, 'knn');
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
