/**
 * SimpleNet training (spec §6): features of every good training image are extracted once and
 * cached, then the adaptor and discriminator are trained for a fixed number of epochs with a seeded
 * shuffle, seeded init and seeded noise. With the paper's configuration the final weights are the
 * model; the issue-6 mechanisms (EpochLoop) may instead choose them on synthetic-defect validation.
 * Nothing is ever chosen on test data: test monitoring only records metrics at given epochs.
 */
import type { Backbone } from '../backbones/backbone.js';
import { type Reporter, silentReporter } from '../core/progress.js';
import type { AnomalyDataset, Sample } from '../datasets/dataset.js';
import type { FeatureExtractor } from '../embedding/featureExtractor.js';
import { headConfig, type HeadConfig } from '../heads/config.js';
import { initHeadParams, type HeadParams } from '../heads/params.js';
import type { ModelParams } from '../heads/knn.js';
import { Rng } from '../core/rng.js';
import { TrainStep } from '../heads/trainStep.js';
import { takesRowScale } from '../heads/stepGraph.js';
import { effectiveHalo, type SimpleNetConfig } from '../model/config.js';
import type { TrainingRecord } from '../model/modelDir.js';
import { type Calibration, trainMaxCalibration } from '../model/calibration.js';
import { trainingImageScores } from './calibrate.js';
import { resumedNoiseSeed, resumeOrStart, saveCheckpoint, trainingFingerprint } from './checkpoint.js';
import { EpochLoop } from './epochLoop.js';
import { type FeatureMoments, featureMoments } from './featureStats.js';
import { SyntheticValidation } from '../validation/syntheticValidation.js';
import type { FeatureCache } from '../embedding/featureCache.js';
import { extractTrainingFeatures, resolveTrainingTiles } from './trainingFeatures.js';
import { initAdaptor } from './adaptorInit.js';
import { localNoiseScales } from './localScale.js';
import { SyntheticFakes } from './syntheticFakes.js';
import { stillImproving } from './convergence.js';
import { withPlannedEpochs } from './epochs.js';

export interface TrainOptions {
  dataset: AnomalyDataset;
  backbone: Backbone;
  config: SimpleNetConfig;
  reporter?: Reporter;
  /** Called after the given epochs with the current weights; its result is only logged. */
  monitor?: { epochs: number[]; run: (epoch: number, params: HeadParams, extractor: FeatureExtractor) => Promise<void> };
  /** Save a checkpoint every `every` epochs to `path` (0: never); `resume` continues from it. */
  checkpoint?: { path: string; every: number; resume?: boolean };
  /** Held-out good images for synthetic-defect validation (config.validation). */
  validation?: Sample[];
  /** Stops the run between images and between steps (the last checkpoint stays for resuming). */
  signal?: AbortSignal;
}

/** A finished run: SimpleNet's (P = HeadParams) or the knn head's (P = KnnParams, knnTrainer.ts). */
export interface TrainResult<P extends ModelParams = HeadParams> {
  /** The configuration as run (select = final when there was nothing to validate on). */
  config: SimpleNetConfig;
  params: P;
  extractor: FeatureExtractor;
  training: TrainingRecord;
  /** Threshold and normalisation from the training images' own scores ('train-max'). */
  calibration: Calibration;
  /** Those scores, one per training image (SimpleNet's head; from the cached features). */
  trainingScores?: Float32Array;
}

export function headConfigOf(config: SimpleNetConfig, noiseStd = config.head.noiseStd): HeadConfig {
  const { noiseScale: _scale, adaptorInit: _init, ...head } = config.head;
  return headConfig({ ...head, noiseStd, featureDim: config.embed.targetDim });
}

/**
 * σ of the synthetic noise: the configured value, or that fraction of the std of the features the
 * discriminator sees at step 0: the measured mean per-dimension std for 'identity' and 'xavier',
 * 1 for 'standardize', whose adaptor starts by scaling every dimension to unit std.
 */
export function effectiveNoise(config: SimpleNetConfig, moments: FeatureMoments | undefined): { std: number; featureStd?: number } {
  if (config.head.noiseScale === 'absolute' || !moments) return { std: config.head.noiseStd };
  const featureStd = config.head.adaptorInit === 'standardize' ? 1 : moments.meanStd;
  return { std: config.head.noiseStd * featureStd, featureStd };
}

/** The measured statistics, when a mechanism needs them (the paper's configuration does not). */
async function momentsFor(config: SimpleNetConfig, cache: FeatureCache): Promise<FeatureMoments | undefined> {
  const needed = config.head.noiseScale !== 'absolute' || config.head.adaptorInit === 'standardize';
  return needed ? await featureMoments(cache) : undefined;
}

/** Each row's σ factor when `head.noiseLocality` asks for one (localScale.ts), said in one line. */
async function rowScalesFor(cfg: HeadConfig, cache: FeatureCache, seed: number, reporter: Reporter): Promise<Float32Array | undefined> {
  if (!takesRowScale(cfg, { noise: { seed } })) return undefined;
  const s = await localNoiseScales(cache, { locality: cfg.noiseLocality, seed });
  const [p5, p50, p95] = s.quantiles.map((q) => q.toFixed(2));
  reporter.line(
    `noise σ per patch (noiseLocality ${cfg.noiseLocality}): factors ${p5} / ${p50} / ${p95} at the 5th / 50th / 95th percentile, ${s.seconds.toFixed(1)} s`,
  );
  return s.factors;
}

/** Below this many held-out good images a validation AUROC moves in steps too coarse to rank epochs. */
const MIN_TRUSTED_HELD_OUT = 10;

/**
 * The selection rule as it can run: without validation there is nothing to select on, so the final
 * weights are the model (the paper's rule); both that and a too-small validation set are said once
 * as warnings so a user of the defaults knows what they got.
 */
function effectiveSelection(validation: SyntheticValidation | undefined, heldOut: number, config: SimpleNetConfig, reporter: Reporter): SimpleNetConfig {
  if (config.train.select !== 'validation') return config;
  if (validation) {
    if (heldOut < MIN_TRUSTED_HELD_OUT) {
      reporter.warn(
        `only ${heldOut} held-out good image${heldOut === 1 ? '' : 's'} for synthetic-defect validation: the chosen epoch is noisy ` +
          `(hold out more with --val-fraction, or take the final weights with --select final)`,
      );
    }
    return config;
  }
  reporter.warn(
    'no synthetic-defect validation (it needs held-out images, --val-fraction > 0, and --validate-every > 0): ' +
      'the model is the final weights, which can be far worse than the best epoch (README, "Honest numbers")',
  );
  return { ...config, train: { ...config.train, select: 'final' } };
}

export async function trainSimpleNet(opts: TrainOptions): Promise<TrainResult> {
  const { dataset, backbone } = opts;
  const reporter = opts.reporter ?? silentReporter;
  const config = withPlannedEpochs(await resolveTrainingTiles(opts.config, dataset.train, reporter), dataset.train.length);
  if (config.train.epochs > opts.config.train.epochs) {
    reporter.line(`${config.train.epochs} epochs: ${dataset.train.length} training images reach train.minSteps (${config.train.minSteps} steps) only then`);
  }
  const { epochs, batchSize, seed } = config.train;
  const started = Date.now();

  const { extractor, cache, seconds: featureSeconds } = await extractTrainingFeatures(dataset.train, backbone, config, { reporter, signal: opts.signal });
  const plan = cache.plan;
  try {
    const moments = await momentsFor(config, cache);
    const noise = effectiveNoise(config, moments);
    const cfg = headConfigOf(config, noise.std);
    const rng = new Rng(seed);
    const init = initAdaptor(initHeadParams(cfg, rng), config.head.adaptorInit, moments);
    const fingerprint = trainingFingerprint(config, dataset.train, backbone.identity);
    const halo = effectiveHalo(config);
    if (halo.dropped) reporter.warn(halo.dropped);
    const state = await resumeOrStart(opts.checkpoint, fingerprint, epochs, dataset.train.length, rng, reporter);
    const givenFakes =
      config.train.syntheticFakes !== 'none'
        ? await SyntheticFakes.create(extractor, dataset.train, cache, {
            seed,
            kind: config.train.syntheticFakes,
            haloRadius: halo.radius,
            haloFrom: halo.from,
            haloTarget: halo.target,
            partial: halo.partial,
            reporter,
            signal: opts.signal,
          })
        : undefined;
    const step = await TrainStep.create(cfg, init, {
      noise: { seed: resumedNoiseSeed(seed, state.resumedAt) },
      featureDtype: plan.dtype,
      noiseSchedule: config.train.noiseDecay !== 1,
      givenFakes: config.train.syntheticFakes !== 'none',
      givenReals: givenFakes?.keepsReals === true,
      givenRealsTarget: givenFakes?.softReals ? 'per-row' : 0,
    });
    if (state.resumed) step.load(state.resumed.params, state.resumed.optimizer);
    const validation =
      opts.validation?.length && config.validation.every > 0
        ? await SyntheticValidation.create(extractor, opts.validation, {
            seed,
            perImage: config.validation.syntheticPerImage,
            difficulty: config.validation.defects,
            featureDtype: plan.dtype,
            // One budget for both caches: what the training features hold in memory is taken from it.
            memoryMB: config.train.cacheMemoryMB - (plan.storage === 'memory' ? plan.bytes / 2 ** 20 : 0),
            head: { featureDim: cfg.featureDim, hiddenDim: cfg.hiddenDim, bnEps: cfg.bnEps, leakySlope: cfg.leakySlope },
            reporter,
          })
        : undefined;
    // Every feature is cached by now: the backbone's weights and buffers would only sit through the
    // epochs (a monitor that extracts again reopens them).
    await extractor.releaseSessions();
    const effective = effectiveSelection(validation, opts.validation?.length ?? 0, config, reporter);
    try {
      const rowScales = await rowScalesFor(cfg, cache, seed, reporter);
      const loop = new EpochLoop({
        config: effective,
        step,
        cache,
        rng,
        reporter,
        validation,
        state,
        stepsPerEpoch: Math.ceil(dataset.train.length / batchSize),
        signal: opts.signal,
        rowScales,
        givenFakes,
      });
      for (let epoch = state.firstEpoch; epoch <= epochs; epoch++) {
        await loop.runEpoch(epoch);
        if (opts.monitor?.epochs.includes(epoch)) await opts.monitor.run(epoch, loop.currentParams(), extractor);
        if (opts.checkpoint && opts.checkpoint.every > 0 && epoch % opts.checkpoint.every === 0 && epoch < epochs) {
          await saveCheckpoint(opts.checkpoint.path, { ...loop.checkpointState(epoch), fingerprint, resumedAt: state.resumedAt });
        }
      }
      const chosen = loop.chosen();
      const rising = stillImproving(loop.log, chosen.selected);
      if (rising) {
        reporter.warn(
          `validation was still improving at the last epoch (${rising.epoch}: image + patch AUROC +${rising.rise.toFixed(4)} over epoch ` +
            `${rising.previousEpoch}); more epochs (--epochs ${2 * epochs}) may help, and cannot make the kept model worse on validation`,
        );
      }
      const trainingScores = await trainingImageScores(cache, chosen.params, { bnEps: cfg.bnEps, leakySlope: cfg.leakySlope });
      return {
        config: effective,
        params: chosen.params,
        extractor,
        calibration: trainMaxCalibration(trainingScores),
        trainingScores,
        training: {
          dataset: { format: dataset.format, root: dataset.root, category: dataset.category, nTrain: dataset.train.length },
          epochs,
          seed,
          steps: step.stepCount,
          seconds: (Date.now() - started) / 1000,
          featureSeconds,
          log: loop.log,
          noiseStd: noise.std,
          ...(noise.featureStd !== undefined ? { featureStd: noise.featureStd } : {}),
          selected: chosen.selected,
          ...(loop.guardEvents.length ? { rollbacks: loop.guardEvents } : {}),
          ...(state.resumedAt.length ? { resumedAt: state.resumedAt } : {}),
        },
      };
    } finally {
      await step.release();
      await validation?.release();
    }
  } catch (e) {
    await extractor.release();
    throw e;
  } finally {
    cache.release();
  }
}
