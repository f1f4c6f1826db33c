/** Shared option parsing: numbers, lists, and the config assembled from defaults, file and flags. */
import { InvalidArgumentError } from 'commander';
import { defaultConfig } from '../model/config.js';
import { plannedEpochs } from '../training/epochs.js';
import { PRECISIONS, type Precision } from '../scoring/precision.js';
import { type Reporter, stderrReporter, warningsOnlyReporter } from './progress.js';

export function intOption(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got '${value}'`);
    return n;
  };
}

export function numberOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${value}'`);
    return n;
  };
}

export function intListOption(name: string, min = 1) {
  return (value: string): number[] =>
    value.split(',').map((v) => {
      const n = Number(v.trim());
      if (v.trim() === '' || !Number.isInteger(n) || n < min) {
        throw new InvalidArgumentError(`${name} must be a comma-separated list of integers ≥ ${min}, got '${value}'`);
      }
      return n;
    });
}

/** `--precision fp32|int8` (scoring/precision.ts). */
export function precisionOption(value: string): Precision {
  if (!(PRECISIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--precision must be one of ${PRECISIONS.join(', ')}, got '${value}'`);
  return value as Precision;
}

/**
 * `--workers` of `predict` and `test`: runs of the scoring graph side by side, each in a worker
 * thread with its own copy of the model and the cores shared out (onnx/sessionOptions.ts
 * `sideBySideSession`); 0 runs one at a time on the main thread with every core.
 */
export const WORKERS_HELP =
  'runs of the model side by side, each in a worker thread with its own copy of the model and cores/n onnxruntime threads (0: one run at a time on every core)';

/** The default `--workers`: two runs side by side (on 2 cores 1.5–1.8× the images/s of one; README). */
export const DEFAULT_WORKERS = 2;

const defaults = defaultConfig().train;
/** `--epochs` of `train` and `benchmark`, from the schema's defaults so it cannot go stale. */
export const EPOCHS_HELP = `passes over each training set, exactly (default: at least ${defaults.epochs}, and enough to reach ${defaults.minSteps} optimizer steps, ${plannedEpochs(defaults, 188)} for 188 images at batch ${defaults.batchSize}; paper: 160)`;

/** `--config` of `train` and `benchmark` (readConfigFile: a file, or the JSON itself). */
export const CONFIG_HELP = 'JSON or YAML file with any part of the configuration, or that JSON itself (\'{"train":{"epochs":8}}\')';

export const PRECISION_HELP = "the backbone's arithmetic: fp32, or int8 after `simplenet quantize` (faster; scores change slightly)";

export { resolveConfig as loadConfig } from '../model/config.js';

export function reporterFor(opts: { quiet?: boolean }): Reporter {
  return opts.quiet ? warningsOnlyReporter() : stderrReporter();
}
