import type { Command } from 'commander';
import { loadDataset } from '../datasets/load.js';
import { evaluate } from '../evaluation/evaluate.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadModel } from '../model/modelDir.js';
import { Scorer } from '../scoring/scorer.js';
import { addDatasetOptions, type DatasetFlags, datasetSpecFrom } from './datasetOptions.js';
import { formatMetrics } from './format.js';
import { reporterFor } from './options.js';

interface TestFlags extends DatasetFlags {
  model: string;
  json?: string;
  quiet?: boolean;
}

export function testCommand(program: Command): void {
  addDatasetOptions(program.command('test').description("score a dataset's test split with a trained model and report metrics"))
    .requiredOption('--model <model-dir>', 'model directory written by `simplenet train`')
    .option('--json <metrics.json>', 'also write the metrics as JSON')
    .option('--quiet', 'no progress output')
    .action(async (flags: TestFlags) => {
      const reporter = reporterFor(flags);
      const model = await loadModel(flags.model);
      // The folder format's held-out good images come from the training seed's split.
      const dataset = await loadDataset(datasetSpecFrom(flags, model.manifest.training.seed));
      const { config } = model;
      // The one scoring graph, as `predict` and the export run it.
      const scorer = await Scorer.fromModel(model);
      const result = await evaluate(scorer, dataset, { image: config.image, reporter });
      await scorer.release();
      const training = model.manifest.training;
      const report = {
        ...result.metrics,
        epochs: training.epochs,
        seed: training.seed,
        preset: model.manifest.preset,
        category: dataset.category,
        dataset_format: dataset.format,
        model: flags.model,
        backbone: model.backbone.identity,
        test_seconds: Number(result.seconds.toFixed(2)),
        images_per_second: Number((result.metrics.n_images / result.seconds).toFixed(2)),
        // Raw per-image scores, the same numbers `predict` and the exported model give.
        images: result.predictions.map((p) => ({ path: p.path, label: p.label, defect_type: p.defectType, score: p.score })),
      };
      if (flags.json) await writeFileAtomic(flags.json, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`${formatMetrics(result.metrics)}\n`);
    });
}
