/**
 * The options that shape a training run, shared by `train` and `benchmark`: the threshold split and
 * the issue-6 mechanisms. They become a partial config layered over `--config`; `--preset paper`
 * then forces the paper's value of every mechanism (applyPreset, in loadConfig).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { IMAGE_FITS, type ImageFit } from '../images/fit.js';
import { mergeConfig, type PresetName, type SimpleNetConfig } from '../model/config.js';
import { intOption, loadConfig, numberOption } from './options.js';

export interface TrainingFlags {
  valFraction?: number;
  thresholdQuantile?: number;
  thresholdEstimator?: 'normal' | 'empirical';
  thresholdFloor?: 'training' | 'none';
  preset?: PresetName;
  schedule?: 'constant' | 'cosine';
  warmupEpochs?: number;
  ema?: number;
  guard?: boolean;
  select?: 'final' | 'validation';
  validateEvery?: number;
  noiseScale?: 'absolute' | 'feature-std';
  noiseStd?: number;
  fit?: ImageFit;
  tiles?: 'auto' | [number, number];
}

/** `--tiles`: 'auto' or ROWSxCOLUMNS (e.g. 1x3). */
function tilesOption(v: string): 'auto' | [number, number] {
  if (v === 'auto') return v;
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
    throw new InvalidArgumentError(`--tiles must be 'auto' or ROWSxCOLUMNS of positive integers (e.g. 1x3), got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

function choice<T extends string>(name: string, values: readonly T[]) {
  return (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`${name} must be ${values.map((x) => `'${x}'`).join(' or ')}, got '${v}'`);
    return v as T;
  };
}

export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option(
      '--val-fraction <f>',
      'share of the good training images held out for thresholds and validation (default 0.1; 0 trains on all, threshold = training max)',
      numberOption('--val-fraction'),
    )
    .option('--threshold-quantile <q>', 'threshold = this quantile of the held-out good scores (default 0.995)', numberOption('--threshold-quantile'))
    .option(
      '--threshold-estimator <kind>',
      "how that quantile is estimated: 'normal' (default: at least mean + z_q·std of the held-out scores) or 'empirical' (their quantile; with few images, their maximum)",
      choice('--threshold-estimator', ['normal', 'empirical'] as const),
    )
    .option(
      '--threshold-floor <kind>',
      "'training' (default: the thresholds never go below the same estimates from the training images' own scores) or 'none' (the held-out estimates alone)",
      choice('--threshold-floor', ['training', 'none'] as const),
    )
    .option(
      '--preset <name>',
      "'validated' (default: relative noise, identity adaptor, logistic loss, best weights on synthetic-defect validation, at least 6 epochs and 192 steps) or 'paper' (final weights, 160 epochs; overrides the mechanism options below)",
      choice('--preset', ['validated', 'paper'] as const),
    )
    .option(
      '--schedule <kind>',
      "learning rates: 'constant' (paper) or 'cosine' (to 0.4×, the official code's --cos_lr)",
      choice('--schedule', ['constant', 'cosine'] as const),
    )
    .option('--warmup-epochs <n>', 'linear learning-rate warm-up (default 0)', intOption('--warmup-epochs', 0))
    .option('--ema <decay>', 'exponential moving average of the weights per step, e.g. 0.999 (default off)', numberOption('--ema'))
    .option('--guard', 'roll back to the last good epoch and halve the learning rates on a loss spike')
    .option(
      '--select <what>',
      "the model: the best on synthetic-defect 'validation' (default) or the 'final' weights (paper)",
      choice('--select', ['final', 'validation'] as const),
    )
    .option(
      '--validate-every <n>',
      'score the held-out images and synthetic-defect copies every N epochs (default 1; 0: never)',
      intOption('--validate-every', 0),
    )
    .option(
      '--noise-scale <kind>',
      "'absolute' σ (paper) or 'feature-std': σ = --noise-std × the features' measured std",
      choice('--noise-scale', ['absolute', 'feature-std'] as const),
    )
    .option('--noise-std <σ>', 'noise σ (paper: 0.015), or its fraction of the feature std', numberOption('--noise-std'))
    .option(
      '--fit <fit>',
      "how images fill the model's square frame: 'tile' (default; 'squash' exactly for square images), 'squash', 'letterbox' or the paper's 'crop' (README: The whole image)",
      choice('--fit', IMAGE_FITS),
    )
    .option('--tiles <RxC>', "--fit tile: tile rows x columns, e.g. 1x3, or 'auto' (default: the training images' aspect)", tilesOption);
}

/** The flags as a partial config (undefined values leave the file's or the defaults). */
function trainingOverrides(f: TrainingFlags): Record<string, unknown> {
  const flags = {
    threshold: { validationFraction: f.valFraction, quantile: f.thresholdQuantile, estimator: f.thresholdEstimator, floor: f.thresholdFloor },
    head: { noiseScale: f.noiseScale, noiseStd: f.noiseStd },
    train: { schedule: f.schedule, warmupEpochs: f.warmupEpochs, ema: f.ema, guard: f.guard ? { enabled: true } : undefined, select: f.select },
    validation: { every: f.validateEvery },
    image: { fit: f.fit, tiles: f.tiles },
  };
  return f.preset ? { ...flags, preset: f.preset } : flags;
}

/**
 * The configuration of a training command: `--config`, then `base` (the command's own flags), then
 * the training flags, with the preset applied; checked for an explicit selection it cannot honour.
 */
export async function trainingConfig(f: TrainingFlags & { config?: string }, base: Record<string, unknown>): Promise<SimpleNetConfig> {
  const config = await loadConfig(f.config, mergeConfig(base, trainingOverrides(f)));
  checkSelection(f, config);
  return config;
}

/** `--select validation` asked for explicitly but impossible: an error, not the silent fallback. */
function checkSelection(f: TrainingFlags, config: SimpleNetConfig): void {
  if (f.select !== 'validation') return;
  if (config.threshold.validationFraction === 0) throw new InvalidArgumentError('--select validation needs held-out images: --val-fraction must be > 0');
  if (config.validation.every === 0) throw new InvalidArgumentError('--select validation needs --validate-every > 0');
}
