/**
 * The calibration `predict` and `export` use: the model's stored one ('train-max', written by
 * training), with `--threshold` overriding the threshold. Model directories written before
 * calibrations were stored get one recomputed the same way from their training images (the
 * manifest names them), never from test data; without those images `--threshold` is required and
 * the normalisation range is 1.
 */
import type { Reporter } from '../core/progress.js';
import { datasetFormat } from '../datasets/formats.js';
import { type DatasetSpec, loadDataset } from '../datasets/load.js';
import type { SimpleNetModel } from '../model/modelDir.js';
import { type Calibration, trainMaxCalibration, UNCALIBRATED } from '../model/calibration.js';
import { Scorer } from '../scoring/scorer.js';
import { scoreAll } from '../scoring/scoreImages.js';

/** The dataset the model was trained on, in the format it was read in (its manifest says which). */
function trainingSpec(model: SimpleNetModel): DatasetSpec {
  const { format, root, category } = model.manifest.training.dataset;
  if (format === 'folder') return { format, normalDir: root, seed: model.manifest.training.seed };
  if (!datasetFormat(format).hasCategories) throw new Error(`a model trained on '${format}' data records no categories to reload them by`);
  return { format: format as 'mvtec', root, category };
}

async function recompute(model: SimpleNetModel, reporter: Reporter): Promise<Calibration> {
  const dataset = await loadDataset(trainingSpec(model));
  const scorer = await Scorer.fromModel(model, { calibration: UNCALIBRATED });
  const scores = new Float32Array(dataset.train.length);
  const bar = reporter.bar('calibrating on training images', dataset.train.length);
  try {
    let i = 0;
    for await (const { result } of scoreAll(scorer, dataset.train, { source: (s) => s.path, prefetch: 2 })) {
      scores[i++] = result.score;
      bar.tick();
    }
  } finally {
    await scorer.release();
  }
  bar.done();
  return trainMaxCalibration(scores);
}

export async function resolveCalibration(model: SimpleNetModel, opts: { threshold?: number; reporter: Reporter }): Promise<Calibration> {
  let c = model.manifest.scoring;
  if (!c) {
    try {
      c = await recompute(model, opts.reporter);
      opts.reporter.line(`${model.dir}: no stored calibration; threshold recomputed from the training images (train-max)`);
    } catch (e) {
      if (opts.threshold === undefined) {
        throw new Error(`${model.dir}: the model stores no threshold and its training images are unavailable (${(e as Error).message}); pass --threshold`);
      }
      c = { ...UNCALIBRATED };
    }
  }
  if (opts.threshold !== undefined) c = { ...c, imageThreshold: opts.threshold, thresholdSource: 'user' };
  return c;
}
