import { type Command, InvalidArgumentError } from 'commander';
import { loadDataset } from '../datasets/load.js';
import type { EvaluateOptions } from '../evaluation/evaluate.js';
import { metricsJsonText } from '../evaluation/metricsJson.js';
import { prepareOutput, writeFileAtomic } from '../io/atomic.js';
import { loadModel, readTrainingLog } from '../model/modelDir.js';
import { Detector } from '../api/detector.js';
import { writeTestReport } from '../report/testReport.js';
import { type Calibration, pixelCalibration, UNCALIBRATED } from '../model/calibration.js';
import type { AnomalyDataset } from '../datasets/dataset.js';
import { addDatasetOptions, type DatasetFlags, datasetSpecFrom } from './datasetOptions.js';
import { formatMetrics } from '../evaluation/metricSpecs.js';
import type { Precision } from '../scoring/precision.js';
import { DEFAULT_WORKERS, intOption, numberOption, PRECISION_HELP, precisionOption, reporterFor, WORKERS_HELP } from './options.js';
import { sideBySideSession } from '../onnx/session.js';
import type { Reporter } from './progress.js';

interface TestFlags extends DatasetFlags {
  model: string;
  precision: Precision;
  json?: string;
  report?: string;
  thresholdFrom: 'validation' | 'test';
  threshold?: number;
  pixelThreshold?: number;
  galleryLimit?: number;
  quiet?: boolean;
  batch: number;
  workers: number;
}

export const ORACLE_NOTE =
  'ORACLE: thresholds chosen on this test split (F1-max, --threshold-from test); the threshold-dependent figures are optimistic and not a deployable result.';

/**
 * The thresholds `test` scores with: the model's (from its validation split), overridden by
 * --threshold/--pixel-threshold, or, only on request, the test split's own F1-max thresholds.
 */
async function resolveTestCalibration(detector: Detector, dataset: AnomalyDataset, flags: TestFlags, reporter: Reporter): Promise<Calibration> {
  let c: Calibration = detector.calibration;
  if (flags.thresholdFrom === 'test') {
    const first = await detector.evaluate(dataset, { reporter, label: 'testing (oracle thresholds: pass 1)', batch: flags.batch });
    if (first.oracle.image === null) throw new Error(`--threshold-from test needs good and defective test images (${dataset.root}/${dataset.category})`);
    const pixel = pixelCalibration(c);
    c = {
      ...c,
      imageThreshold: first.oracle.image,
      pixelThreshold: first.oracle.pixel ?? pixel.threshold,
      pixelMin: c.pixelMin ?? c.min,
      pixelMax: c.pixelMax ?? c.max,
      thresholdSource: 'test-f1 (oracle)',
    };
  }
  if (flags.threshold !== undefined) c = { ...c, imageThreshold: flags.threshold, thresholdSource: 'user' };
  if (flags.pixelThreshold !== undefined) {
    c = { ...c, pixelThreshold: flags.pixelThreshold, pixelMin: c.pixelMin ?? c.min, pixelMax: c.pixelMax ?? c.max, thresholdSource: 'user' };
  }
  return c;
}

export function testCommand(program: Command): void {
  addDatasetOptions(program.command('test').description("score a dataset's test split with a trained model and report metrics"))
    .requiredOption('--model <model-dir>', 'model directory written by `simplenet train`')
    .option('--json <metrics.json>', 'also write the metrics as JSON')
    .option('--report <dir>', 'write metrics.json/.md, predictions.csv, every anomaly map (.npy), gallery PNGs and report.html to <dir>')
    .option(
      '--threshold-from <source>',
      "'validation': the thresholds stored at training (from held-out good training images); 'test': F1-max on this test split, an ORACLE, labelled as such",
      (v: string) => {
        if (v !== 'validation' && v !== 'test') throw new InvalidArgumentError(`--threshold-from must be 'validation' or 'test', got '${v}'`);
        return v;
      },
      'validation',
    )
    .option('--threshold <t>', "raw image-score threshold (overrides the model's)", numberOption('--threshold'))
    .option('--pixel-threshold <t>', "raw anomaly-map threshold for predicted regions (overrides the model's)", numberOption('--pixel-threshold'))
    .option(
      '--gallery-limit <n>',
      'gallery pictures embedded in report.html, worst first (default 200; all are written to images/)',
      intOption('--gallery-limit', 0),
    )
    .option('--precision <p>', PRECISION_HELP, precisionOption, 'fp32')
    .option('--batch <n>', 'score up to n consecutive test images of one size in one run of the model (same results)', intOption('--batch', 1), 1)
    .option('--workers <n>', WORKERS_HELP, intOption('--workers', 0), DEFAULT_WORKERS)
    .option('--quiet', 'no progress output')
    .action(async (flags: TestFlags) => {
      const reporter = reporterFor(flags);
      if (flags.report) await prepareOutput(flags.report, 'report');
      if (flags.json) await prepareOutput(flags.json, 'metrics-json');
      const model = await loadModel(flags.model);
      const session = sideBySideSession(flags.workers);
      const stored = Detector.fromModel(model, model.manifest.scoring ?? UNCALIBRATED, { precision: flags.precision, session });
      // The folder format's held-out good images come from the training seed's split.
      const dataset = await loadDataset(datasetSpecFrom(flags, model.manifest.training.seed));
      const calibration = await resolveTestCalibration(stored, dataset, flags, reporter).finally(() => stored.close());
      const oracleNote = calibration.thresholdSource === 'test-f1 (oracle)' ? ORACLE_NOTE : undefined;
      if (oracleNote) reporter.line(oracleNote);
      // The one scoring graph, as `predict` and the export run it.
      const detector = stored.withCalibration(calibration, { withCrop: Boolean(flags.report), precision: flags.precision, session });
      const training = model.manifest.training;
      const pixel = pixelCalibration(calibration);
      const summary = {
        epochs: training.epochs,
        seed: training.seed,
        preset: model.manifest.preset,
        ...(training.selected ? { selected: training.selected } : {}),
        category: dataset.category,
        dataset_format: dataset.format,
        model: flags.model,
        backbone: model.backbone.identity,
        precision: flags.precision,
        threshold: calibration.imageThreshold,
        pixel_threshold: pixel.threshold,
        threshold_source: calibration.thresholdSource,
        ...(oracleNote ? { oracle: oracleNote } : {}),
      };
      const run = (onImage?: EvaluateOptions['onImage']) =>
        detector.evaluate(dataset, { reporter, onImage, curves: Boolean(flags.report), batch: flags.batch });
      const result = await (flags.report
        ? writeTestReport(flags.report, run, {
            summary,
            title: `SimpleNet test: ${dataset.category} (${dataset.format})`,
            lines: [
              `model ${flags.model}: ${training.epochs} epochs, seed ${training.seed}, preset ${model.manifest.preset}` +
                (training.selected
                  ? `, weights of epoch ${training.selected.epoch} (${training.selected.by === 'validation' ? 'best on validation' : 'final'})`
                  : ''),
              `image threshold ${calibration.imageThreshold.toPrecision(6)}, pixel threshold ${pixel.threshold.toPrecision(6)} (${calibration.thresholdSource}); predictions.csv score is raw`,
            ],
            pixelThreshold: pixel.threshold,
            oracleNote,
            galleryLimit: flags.galleryLimit,
            trainingLog: await readTrainingLog(flags.model).catch(() => undefined),
          })
        : run()
      ).finally(() => detector.close());
      const report = {
        ...summary,
        test_seconds: Number(result.seconds.toFixed(2)),
        images_per_second: Number((result.metrics.n_images / result.seconds).toFixed(2)),
        // Raw per-image scores, the same numbers `predict` and the exported model give.
        images: result.predictions.map((p) => ({ path: p.path, label: p.label, defect_type: p.defectType, score: p.score })),
      };
      if (flags.json) await writeFileAtomic(flags.json, metricsJsonText(result.metrics, report), 'metrics-json');
      process.stdout.write(`${formatMetrics(result.metrics)}\n`);
      if (oracleNote) process.stdout.write(`${oracleNote}\n`);
    });
}
