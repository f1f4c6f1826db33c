/**
 * Train and save in one call (what `train` and `benchmark` both do): a seeded fraction of the good
 * training images is held out and sets the thresholds; optional test-split monitoring is recorded
 * in the training record for study and never changes the model.
 */
import type { Backbone } from '../backbones/backbone.js';
import { type Reporter, silentReporter } from '../core/progress.js';
import type { AnomalyDataset } from '../datasets/dataset.js';
import { evaluate, type Metrics } from '../evaluation/evaluate.js';
import { headKind, type SimpleNetConfig } from '../model/config.js';
import { type Calibration, trainingImagesAbove, withTrainingFloor } from '../model/calibration.js';
import { type ModelManifest, saveModel } from '../model/modelDir.js';
import { Scorer } from '../scoring/scorer.js';
import { checkpointPath, loadCheckpoint, removeCheckpoint } from './checkpoint.js';
import { calibrateOnGoodImages, floorImages, splitValidation } from './validation.js';
import { type TrainResult, trainSimpleNet } from './trainer.js';
import { trainKnn } from './knnTrainer.js';
import { resolveTrainingTiles } from './trainingFeatures.js';
import type { ModelParams } from '../heads/knn.js';

export interface TrainToDirOptions {
  dataset: AnomalyDataset;
  backbone: Backbone;
  config: SimpleNetConfig;
  out: string;
  reporter?: Reporter;
  /** Evaluate the test split after these epochs (recorded only). */
  monitorEpochs?: number[];
  onMonitor?: (epoch: number, metrics: Metrics) => void;
  /** Checkpoint every N epochs at `path` (default beside the model dir, `<out>.checkpoint`), and resume from it. */
  checkpoint?: { every: number; resume?: boolean; path?: string };
  /** Cancels the run (between images and steps); the checkpoint stays, so a resume continues. */
  signal?: AbortSignal;
}

export interface MonitorEntry {
  epoch: number;
  metrics: Metrics;
}

export async function trainToDir(opts: TrainToDirOptions): Promise<{ manifest: ModelManifest; result: TrainResult<ModelParams>; monitor: MonitorEntry[] }> {
  const path = opts.checkpoint && (opts.checkpoint.path ?? checkpointPath(opts.out));
  try {
    return await trainAndSave(opts);
  } catch (e) {
    // A failed run (a full disk, a bad image) keeps its last complete checkpoint: say so, since
    // it is what saves the user from starting over.
    const kept = path ? await loadCheckpoint(path).catch(() => undefined) : undefined;
    if (!kept || (e as Error)?.name === 'AbortError') throw e;
    throw new Error(`${(e as Error).message}; the checkpoint ${path} after epoch ${kept.epoch} is kept: rerun with --resume to continue`, { cause: e });
  }
}

async function trainAndSave(opts: TrainToDirOptions): Promise<{ manifest: ModelManifest; result: TrainResult<ModelParams>; monitor: MonitorEntry[] }> {
  const { dataset, backbone } = opts;
  const reporter = opts.reporter ?? silentReporter;
  const config = await resolveTrainingTiles(opts.config, dataset.train, reporter);
  const monitorLog: MonitorEntry[] = [];
  const monitor = opts.monitorEpochs?.length
    ? {
        epochs: opts.monitorEpochs,
        run: async (epoch: number, params: TrainResult['params'], extractor: TrainResult['extractor']) => {
          const scorer = await Scorer.create(extractor, params, {
            map: { size: config.image.crop, ...config.map },
            bnEps: config.head.bnEps,
            leakySlope: config.head.leakySlope,
          });
          const r = await evaluate(scorer, dataset, { image: config.image, label: `monitor (test split) epoch ${epoch}` });
          await scorer.release();
          monitorLog.push({ epoch, metrics: r.metrics });
          opts.onMonitor?.(epoch, r.metrics);
        },
      }
    : undefined;
  const { fraction, quantile } = { fraction: config.threshold.validationFraction, quantile: config.threshold.quantile };
  const split = splitValidation(dataset.train, fraction, config.train.seed);
  const checkpoint = opts.checkpoint && { ...opts.checkpoint, path: opts.checkpoint.path ?? checkpointPath(opts.out) };
  const knn = headKind(config) === 'knn';
  if (knn && monitor) reporter.warn('--monitor-test is ignored: the knn head has no epochs to monitor');
  const trainOpts = { dataset: { ...dataset, train: split.train }, backbone, config, reporter, validation: split.validation, signal: opts.signal };
  // The knn head has no epochs, hence no checkpoints.
  const result: TrainResult<ModelParams> = knn ? await trainKnn(trainOpts) : await trainSimpleNet({ ...trainOpts, monitor, checkpoint });
  await result.extractor.release();
  let calibration = result.calibration;
  if (split.validation.length > 0) {
    const scorer = await Scorer.fromSpec({ backbone, layerShapes: result.extractor.layerShapes, config, params: result.params });
    try {
      const estimator = config.threshold.estimator;
      calibration = await calibrateOnGoodImages(scorer, split.validation, { quantile, estimator, reporter });
      if (config.threshold.floor === 'training' && !knn) {
        const images = floorImages(split.train, config.train.seed);
        const label = `threshold floor from ${images.length} training images`;
        const held = calibration;
        calibration = withTrainingFloor(held, await calibrateOnGoodImages(scorer, images, { quantile, estimator, reporter, label }));
        reporter.line(floorSummary(held, calibration));
      } else if (result.trainingScores) {
        const over = trainingImagesAbove(result.trainingScores, calibration.imageThreshold, quantile);
        if (over) {
          reporter.warn(
            `${over.above} of ${over.n} training images score above the image threshold ${calibration.imageThreshold.toPrecision(4)} ` +
              `taken from ${split.validation.length} held-out images (the ${quantile} quantile asks for ${+(100 * (1 - quantile)).toPrecision(3)} %), ` +
              'so the held-out images likely understate how good images vary and new good images may be flagged more often; ' +
              "--threshold-floor training keeps each threshold at least the training images' own estimate",
          );
        }
      }
    } finally {
      await scorer.release();
    }
  } else {
    reporter.warn(
      "no held-out good images (--val-fraction 0): the threshold falls back to the training images' own maximum score, " +
        'which new good images exceed more often than held-out ones would',
    );
  }
  let training: TrainResult<ModelParams>['training'] & { testMonitor?: unknown } = result.training;
  if (split.validation.length > 0) {
    training = { ...training, validation: { fraction, quantile, images: split.validation.map((s) => s.path) } };
  }
  if (monitorLog.length) {
    training = { ...training, testMonitor: { note: 'test-split metrics recorded during training; chose nothing', epochs: monitorLog } };
  }
  const manifest = await saveModel(opts.out, {
    config: result.config,
    backbone,
    layerShapes: result.extractor.layerShapes,
    params: result.params,
    training,
    scoring: calibration,
  });
  if (checkpoint) await removeCheckpoint(checkpoint.path);
  return { manifest, result: { ...result, calibration }, monitor: monitorLog };
}

/** One line saying which estimate sets each threshold, so a user sees when the floor moved it. */
function floorSummary(held: Calibration, floored: Calibration): string {
  const f = floored.floor;
  if (!f) return '';
  const part = (what: string, heldT: number | undefined, floorT: number) =>
    `${what} ${Math.max(heldT ?? -Infinity, floorT).toPrecision(4)} (held-out ${heldT?.toPrecision(4)}, training ${floorT.toPrecision(4)}: ` +
    `${(heldT ?? -Infinity) >= floorT ? 'held-out' : 'training floor'})`;
  return `thresholds: ${part('image', held.imageThreshold, f.imageThreshold)}, ${part('pixel', held.pixelThreshold, f.pixelThreshold)}`;
}
