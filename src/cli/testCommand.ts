import type { Command } from 'commander';
import { loadDataset } from '../datasets/load.js';
import { evaluate } from '../evaluation/evaluate.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadModel } from '../model/modelDir.js';
import { Scorer } from '../scoring/scorer.js';
import { addDatasetOptions, type DatasetFlags, datasetSpecFrom } from './datasetOptions.js';
import { writeTestReport } from '../report/testReport.js';
import { formatMetrics } from './format.js';
import { reporterFor } from './options.js';

interface TestFlags extends DatasetFlags {
  model: string;
  json?: string;
  report?: string;
  quiet?: boolean;
}

export function testCommand(program: Command): void {
  addDatasetOptions(program.command('test').description("score a dataset's test split with a trained model and report metrics"))
    .requiredOption('--model <model-dir>', 'model directory written by `simplenet train`')
    .option('--json <metrics.json>', 'also write the metrics as JSON')
    .option('--report <dir>', 'write metrics.json, metrics.md, predictions.csv and every anomaly map (.npy) to <dir>')
    .option('--quiet', 'no progress output')
    .action(async (flags: TestFlags) => {
      const reporter = reporterFor(flags);
      const model = await loadModel(flags.model);
      // The folder format's held-out good images come from the training seed's split.
      const dataset = await loadDataset(datasetSpecFrom(flags, model.manifest.training.seed));
      const { config } = model;
      // The one scoring graph, as `predict` and the export run it.
      const scorer = await Scorer.fromModel(model);
      const training = model.manifest.training;
      const calibration = scorer.calibration;
      const summary = {
        epochs: training.epochs,
        seed: training.seed,
        preset: model.manifest.preset,
        category: dataset.category,
        dataset_format: dataset.format,
        model: flags.model,
        backbone: model.backbone.identity,
        threshold: calibration.imageThreshold,
        threshold_source: calibration.thresholdSource,
      };
      const run = (onImage?: Parameters<typeof evaluate>[2]['onImage']) =>
        evaluate(scorer, dataset, { image: config.image, reporter, onImage });
      const result = flags.report
        ? await writeTestReport(flags.report, run, {
            summary,
            title: `SimpleNet test: ${dataset.category} (${dataset.format})`,
            lines: [
              `model ${flags.model}: ${training.epochs} epochs, seed ${training.seed}, preset ${model.manifest.preset}`,
              `threshold ${calibration.imageThreshold} (${calibration.thresholdSource}); predictions.csv score is raw`,
            ],
          })
        : await run();
      await scorer.release();
      const report = {
        ...result.metrics,
        ...summary,
        test_seconds: Number(result.seconds.toFixed(2)),
        images_per_second: Number((result.metrics.n_images / result.seconds).toFixed(2)),
        // Raw per-image scores, the same numbers `predict` and the exported model give.
        images: result.predictions.map((p) => ({ path: p.path, label: p.label, defect_type: p.defectType, score: p.score })),
      };
      if (flags.json) await writeFileAtomic(flags.json, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`${formatMetrics(result.metrics)}\n`);
    });
}
