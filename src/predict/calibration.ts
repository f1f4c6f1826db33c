/**
 * The calibration `predict` and `export` use: the model's stored one ('train-max', written by
 * training), with `--threshold` overriding the threshold. Model directories written before
 * calibrations were stored get one recomputed the same way from their training images (the
 * manifest names them), never from test data; without those images `--threshold` is required and
 * the normalisation range is 1.
 */
import type { Reporter } from '../cli/progress.js';
import { loadMvtec } from '../datasets/mvtec.js';
import { decodeImage } from '../images/decode.js';
import type { SimpleNetModel } from '../model/modelDir.js';
import { type Calibration, trainMaxCalibration, UNCALIBRATED } from '../scoring/calibration.js';
import { Scorer } from '../scoring/scorer.js';

async function recompute(model: SimpleNetModel, reporter: Reporter): Promise<Calibration> {
  const { root, category } = model.manifest.training.dataset;
  const dataset = await loadMvtec(root, category);
  const scorer = await Scorer.fromModel(model, { calibration: UNCALIBRATED });
  const scores = new Float32Array(dataset.train.length);
  const bar = reporter.bar('calibrating on training images', dataset.train.length);
  try {
    for (let i = 0; i < dataset.train.length; i++) {
      scores[i] = (await scorer.score([await decodeImage(dataset.train[i].path)])).scores[0];
      bar.tick();
    }
  } finally {
    await scorer.release();
  }
  bar.done();
  return trainMaxCalibration(scores);
}

export async function resolveCalibration(
  model: SimpleNetModel,
  opts: { threshold?: number; reporter: Reporter },
): Promise<Calibration> {
  let c = model.manifest.scoring;
  if (!c) {
    try {
      c = await recompute(model, opts.reporter);
      opts.reporter.line(`${model.dir}: no stored calibration; threshold recomputed from the training images (train-max)`);
    } catch (e) {
      if (opts.threshold === undefined) {
        throw new Error(
          `${model.dir}: the model stores no threshold and its training images are unavailable (${(e as Error).message}); pass --threshold`,
        );
      }
      c = { ...UNCALIBRATED };
    }
  }
  if (opts.threshold !== undefined) c = { ...c, imageThreshold: opts.threshold, thresholdSource: 'user' };
  return c;
}
