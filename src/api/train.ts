/**
 * `train`: the library's training entry point, with `simplenet train`'s semantics exactly (the CLI
 * calls it): the validated preset by default, a seeded share of the good images held out for
 * thresholds and synthetic-defect validation, checkpoints beside the output for resuming, and the
 * model folder written crash-safely. Progress arrives as typed events; nothing is printed.
 */
import { resolveBackbone } from '../backbones/backbone.js';
import type { Backbone } from '../backbones/types.js';
import { eventReporter, type ProgressEvent, type Reporter, silentReporter } from '../core/progress.js';
import { type DatasetSpec, loadDataset } from '../datasets/load.js';
import type { Metrics } from '../evaluation/evaluate.js';
import { prepareOutput } from '../io/atomic.js';
import { mergeConfig, type PresetName, resolveConfig, type SimpleNetConfig } from '../model/config.js';
import { trainToDir } from '../training/trainToDir.js';
import { Detector, type DetectorOptions } from './detector.js';

/**
 * Any part of the configuration (README, "Configuration"); the rest keeps the preset's defaults.
 * @example
 * const config: PartialConfig = { train: { epochs: 8, batchSize: 4 }, threshold: { quantile: 0.99 } };
 */
export type PartialConfig = { [K in keyof SimpleNetConfig]?: K extends 'preset' ? SimpleNetConfig[K] : Partial<SimpleNetConfig[K]> };

/**
 * What `train` needs: the data, the backbone and the output folder; everything else has the
 * `simplenet train` defaults (the 'validated' preset, seed 0, a checkpoint every epoch).
 * @example
 * const opts: TrainOptions = { data: { format: 'folder', normalDir: 'photos/good' }, backbone: 'mobilenet_v2', out: 'runs/photos', epochs: 8 };
 */
export interface TrainOptions {
  /** The training data, e.g. `{ format: 'mvtec', root, category: 'bottle' }`. */
  data: DatasetSpec;
  /** A builtin name (`wide_resnet50_2`, `mobilenet_v2`, …), a manifest .json path, or a Backbone. */
  backbone: string | Backbone;
  /** State dict for a builtin ResNet (default: the cached ImageNet weights, pulled on first use). */
  weights?: string;
  /** The model folder to write; an existing one is replaced only if it is a simplenet model. */
  out: string;
  /** 'validated' (default) or 'paper' (the paper's rule and 160 epochs). */
  preset?: PresetName;
  /** A JSON or YAML config file, applied before `config`. */
  configFile?: string;
  /** Configuration overrides, applied over the preset and `configFile`. */
  config?: PartialConfig;
  /** A configuration already resolved (by `trainingConfig`, as the CLI does); replaces the fields above. */
  resolvedConfig?: SimpleNetConfig;
  /** Shorthand for `config.train.epochs`: exactly this many epochs (absent: at least 6, and enough to reach `train.minSteps`, 192 steps by default: 8 epochs for 188 images). */
  epochs?: number;
  /** Shorthand for `config.train.seed`: the held-out split and the head's initial weights. Default 0. */
  seed?: number;
  /** Save a checkpoint (`<out>.checkpoint`) every N epochs (default 1; 0: never). */
  checkpointEvery?: number;
  /** Where the checkpoint goes (default `<out>.checkpoint`; a job runner keeps it in the job's folder). */
  checkpointPath?: string;
  /** Continue from the checkpoint (same data, backbone and config; more epochs allowed). */
  resume?: boolean;
  /** Cancels between images and steps; the checkpoint stays, so `resume: true` continues. */
  signal?: AbortSignal;
  /** Typed progress events (feature extraction, epochs, validation, warnings). */
  onProgress?: (e: ProgressEvent) => void;
  /** A Reporter instead of `onProgress` (the CLI passes its stderr printer). */
  reporter?: Reporter;
  /** Score the TEST split after these epochs, for study only (never chooses anything). */
  monitorTest?: number[];
  /** Receives the test metrics of each epoch in `monitorTest`. */
  onMonitor?: (epoch: number, metrics: Metrics) => void;
  /** How the returned Detector scores. */
  detector?: DetectorOptions;
}

/**
 * The configuration `train` runs with: defaults < configFile < config < epochs/seed, then the preset.
 * @throws Error naming the field when the result is invalid, or when validation-based selection is
 * asked for explicitly but cannot run (no held-out images, or validation switched off).
 * @example
 * const config = await trainingConfig({ preset: 'paper', epochs: 40 });
 * const detector = await train({ data, backbone: 'wide_resnet50_2', out: 'runs/paper', resolvedConfig: config });
 */
export async function trainingConfig(opts: Pick<TrainOptions, 'configFile' | 'config' | 'epochs' | 'seed' | 'preset'>): Promise<SimpleNetConfig> {
  const overrides = mergeConfig(opts.config ?? {}, { train: { epochs: opts.epochs, seed: opts.seed } }, opts.preset ? { preset: opts.preset } : {});
  const config = await resolveConfig(opts.configFile, overrides);
  if (opts.config?.train?.select === 'validation') {
    if (config.threshold.validationFraction === 0)
      throw new Error("config.train.select 'validation' needs held-out images: threshold.validationFraction must be > 0");
    if (config.validation.every === 0) throw new Error("config.train.select 'validation' needs validation.every > 0");
  }
  return config;
}

/**
 * Trains a detector on the good images of `data` and saves it to `out`.
 * @throws OutputRefusedError before any work when `out` holds something that is not a simplenet
 * model; DatasetError / FileError naming the file for bad data; AbortError when `signal` fires.
 * @example
 * const detector = await train({ data: { format: 'mvtec', root: 'mvtec_ad', category: 'bottle' },
 *   backbone: 'mobilenet_v2', out: 'runs/bottle', onProgress: (e) => e.type === 'epoch' && console.log(e.epoch, e.loss) });
 */
export async function train(opts: TrainOptions): Promise<Detector> {
  const reporter = opts.reporter ?? (opts.onProgress ? eventReporter(opts.onProgress) : silentReporter);
  await prepareOutput(opts.out, 'model');
  const config = opts.resolvedConfig ?? (await trainingConfig(opts));
  // The folder format's held-out test images follow the training seed, as in `simplenet train`.
  const dataset = await loadDataset(opts.data.format === 'folder' ? { seed: config.train.seed, ...opts.data } : opts.data);
  const backbone = typeof opts.backbone === 'string' ? await resolveBackbone({ backbone: opts.backbone, weights: opts.weights, reporter }) : opts.backbone;
  opts.signal?.throwIfAborted();
  await trainToDir({
    dataset,
    backbone,
    config,
    out: opts.out,
    reporter,
    monitorEpochs: opts.monitorTest,
    onMonitor: opts.onMonitor,
    checkpoint: { every: opts.checkpointEvery ?? 1, resume: opts.resume, ...(opts.checkpointPath ? { path: opts.checkpointPath } : {}) },
    signal: opts.signal,
  });
  return Detector.load(opts.out, opts.detector);
}
