/**
 * SimpleNet training (spec §6): features of every good training image are extracted once and
 * cached, then the adaptor and discriminator are trained for a fixed number of epochs with a seeded
 * shuffle, seeded init and seeded noise. The final weights are the model; nothing is chosen on
 * test data. Optional test monitoring only records metrics at given epochs.
 */
import type { Backbone } from '../backbones/backbone.js';
import { type Reporter, silentReporter } from '../cli/progress.js';
import type { AnomalyDataset } from '../datasets/dataset.js';
import { FeatureExtractor } from '../embedding/featureExtractor.js';
import { headConfig, type HeadConfig } from '../heads/config.js';
import { initHeadParams, type HeadParams } from '../heads/params.js';
import { Rng } from '../heads/rng.js';
import { TrainStep } from '../heads/trainStep.js';
import { decodeImage } from '../images/decode.js';
import type { SimpleNetConfig } from '../model/config.js';
import type { EpochLog, TrainingRecord } from '../model/modelDir.js';
import type { Calibration } from '../scoring/calibration.js';
import { calibrateFromCache } from './calibrate.js';
import { loadCheckpoint, resumedNoiseSeed, saveCheckpoint, type TrainCheckpoint, trainingFingerprint } from './checkpoint.js';
import { FeatureCache, planCache } from './featureCache.js';

export interface TrainOptions {
  dataset: AnomalyDataset;
  backbone: Backbone;
  config: SimpleNetConfig;
  reporter?: Reporter;
  /** Called after the given epochs with the current weights; its result is only logged. */
  monitor?: { epochs: number[]; run: (epoch: number, params: HeadParams, extractor: FeatureExtractor) => Promise<void> };
  /** Save a checkpoint every `every` epochs to `path` (0: never); `resume` continues from it. */
  checkpoint?: { path: string; every: number; resume?: boolean };
}

export interface TrainResult {
  params: HeadParams;
  extractor: FeatureExtractor;
  training: TrainingRecord;
  /** Threshold and normalisation from the training images' own scores ('train-max'). */
  calibration: Calibration;
}

export function headConfigOf(config: SimpleNetConfig): HeadConfig {
  return headConfig({ ...config.head, featureDim: config.embed.targetDim });
}

export async function trainSimpleNet(opts: TrainOptions): Promise<TrainResult> {
  const { dataset, backbone, config } = opts;
  const reporter = opts.reporter ?? silentReporter;
  const { epochs, batchSize, seed } = config.train;
  const started = Date.now();

  const extractor = await FeatureExtractor.create(backbone, { image: config.image, embed: config.embed });
  const rows = extractor.patchesPerImage;
  const plan = planCache(dataset.train.length, rows, config.embed.targetDim, {
    memoryMB: config.train.cacheMemoryMB,
    dtype: config.train.cacheDtype,
  });
  await extractor.setFeatureDtype(plan.dtype);
  reporter.line(
    `feature cache: ${dataset.train.length} images × ${rows} patches × ${config.embed.targetDim} ${plan.dtype} ` +
      `= ${(plan.bytes / 2 ** 20).toFixed(0)} MiB in ${plan.storage}`,
  );
  const cache = new FeatureCache(plan, dataset.train.length, rows, config.embed.targetDim);
  try {
    const bar = reporter.bar('extracting features', dataset.train.length);
    for (let i = 0; i < dataset.train.length; i++) {
      const image = await decodeImage(dataset.train[i].path);
      cache.put(i, await extractor.extract([image]));
      bar.tick();
    }
    bar.done();
    const featureSeconds = (Date.now() - started) / 1000;

    const cfg = headConfigOf(config);
    const rng = new Rng(seed);
    const init = initHeadParams(cfg, rng);
    let order = Array.from({ length: dataset.train.length }, (_, i) => i);
    const stepsPerEpoch = Math.ceil(order.length / batchSize);
    const log: EpochLog[] = [];
    const fingerprint = trainingFingerprint(config, dataset.train, backbone.identity);
    const ckpt = opts.checkpoint;
    let resumed: TrainCheckpoint | undefined;
    let resumedAt: number[] = [];
    if (ckpt?.resume) {
      resumed = await loadCheckpoint(ckpt.path);
      if (!resumed) reporter.warn(`${ckpt.path}: no checkpoint to resume from; starting at epoch 1`);
      else {
        if (resumed.fingerprint !== fingerprint) {
          throw new Error(`${ckpt.path}: the checkpoint belongs to a different configuration, training set or backbone; remove it or drop --resume`);
        }
        if (resumed.epoch >= epochs) throw new Error(`${ckpt.path}: the checkpoint already holds ${resumed.epoch} epochs; ask for more with --epochs`);
        rng.setState(resumed.rng);
        order = resumed.order;
        log.push(...resumed.log);
        resumedAt = [...resumed.resumedAt, resumed.epoch];
        reporter.line(`resuming from ${ckpt.path} after epoch ${resumed.epoch} (the noise stream restarts from a seed derived from it)`);
      }
    }
    const step = await TrainStep.create(cfg, init, {
      noise: { seed: resumedNoiseSeed(seed, resumedAt) },
      featureDtype: plan.dtype,
    });
    if (resumed) step.load(resumed.params, resumed.optimizer);
    const monitorAt = new Set(opts.monitor?.epochs ?? []);
    try {
      for (let epoch = (resumed?.epoch ?? 0) + 1; epoch <= epochs; epoch++) {
        const epochStart = Date.now();
        rng.shuffle(order);
        let loss = 0;
        let pTrue = 0;
        let pFake = 0;
        const bar = reporter.bar(`epoch ${epoch}/${epochs}`, stepsPerEpoch);
        for (let b = 0; b < order.length; b += batchSize) {
          const r = await step.step(cache.batch(order.slice(b, b + batchSize)));
          if (!Number.isFinite(r.loss)) throw new Error(`training diverged: loss is ${r.loss} at epoch ${epoch}`);
          loss += r.loss;
          pTrue += r.pTrue;
          pFake += r.pFake;
          bar.tick(1, `loss ${r.loss.toFixed(4)}`);
        }
        const e: EpochLog = {
          epoch,
          loss: loss / stepsPerEpoch,
          pTrue: pTrue / stepsPerEpoch,
          pFake: pFake / stepsPerEpoch,
          seconds: (Date.now() - epochStart) / 1000,
        };
        log.push(e);
        bar.done(`loss ${e.loss.toFixed(4)} p_true ${e.pTrue.toFixed(3)} p_fake ${e.pFake.toFixed(3)}`);
        if (monitorAt.has(epoch) && opts.monitor) await opts.monitor.run(epoch, step.params(), extractor);
        if (ckpt && ckpt.every > 0 && epoch % ckpt.every === 0 && epoch < epochs) {
          const { path } = ckpt;
          await saveCheckpoint(path, { epoch, fingerprint, rng: rng.getState(), order, log, resumedAt, params: step.params(), optimizer: step.optimizerState() });
        }
      }
      const params = step.params();
      const calibration = await calibrateFromCache(cache, params, { bnEps: cfg.bnEps, leakySlope: cfg.leakySlope });
      return {
        params,
        extractor,
        calibration,
        training: {
          dataset: { format: dataset.format, root: dataset.root, category: dataset.category, nTrain: dataset.train.length },
          epochs,
          seed,
          steps: step.stepCount,
          seconds: (Date.now() - started) / 1000,
          featureSeconds,
          log,
          ...(resumedAt.length ? { resumedAt } : {}),
        },
      };
    } finally {
      await step.release();
    }
  } catch (e) {
    await extractor.release();
    throw e;
  } finally {
    cache.release();
  }
}
