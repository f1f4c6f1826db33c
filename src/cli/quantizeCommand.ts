import { type Command, InvalidArgumentError } from 'commander';
import { quantize } from '../api/quantize.js';
import { DEFAULT_ERROR_BUDGET } from '../backbones/quantizeBackbone.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../onnx/calibrate.js';
import { intOption, numberOption, reporterFor } from './options.js';

interface QuantizeFlags {
  model: string;
  images?: string[];
  calibrationImages: number;
  weightBits: 7 | 8;
  floatThreshold?: number;
  errorBudget?: number;
  calibration: CalibrationMethod;
  percentile?: number;
  quiet?: boolean;
}

export function quantizeCommand(program: Command): void {
  program
    .command('quantize')
    .description(
      "measure the backbone's activation ranges on good training images and store them in the model folder, " +
        'so that predict, test, serve and export can run the backbone in int8 (--precision int8)',
    )
    .requiredOption('--model <model-dir>', 'model directory written by `simplenet train`')
    .option('--images <paths...>', "good images (files or folders) to calibrate on; default: the model's training split")
    .option('--calibration-images <n>', 'how many images, evenly spaced', intOption('--calibration-images', 1), 32)
    .option(
      '--weight-bits <7|8>',
      '7 (default): weights cannot saturate int16 pair sums on CPUs without VNNI; 8: full int8 range',
      (v: string) => {
        if (v !== '7' && v !== '8') throw new InvalidArgumentError(`--weight-bits must be 7 or 8, got '${v}'`);
        return Number(v) as 7 | 8;
      },
      7,
    )
    .option(
      '--error-budget <x>',
      `mixed precision (default rule): keep float32 the fewest activations, most sensitive first, so that the feature taps' predicted relative error is at most x (default ${DEFAULT_ERROR_BUDGET}; 'inf' quantizes all: fastest, least exact)`,
      (v: string) => {
        const x = v === 'inf' ? Infinity : Number(v);
        if (v.trim() === '' || !(x >= 0)) throw new InvalidArgumentError(`--error-budget must be a number ≥ 0 or 'inf', got '${v}'`);
        return x;
      },
    )
    .option(
      '--float-threshold <x>',
      'the older mixed-precision rule instead of --error-budget: keep float32 the activations whose own uint8 error ‖Q(x)−x‖/‖x‖ exceeds x (1 quantizes all)',
      numberOption('--float-threshold'),
    )
    .option(
      '--calibration <minmax|percentile|mse>',
      "how activation ranges are measured: 'minmax', smallest to largest value seen; 'percentile', ±the --percentile of |x|, clipping rare outliers; 'mse', the range of least squared uint8 round-trip error",
      (v: string) => {
        if (!(CALIBRATION_METHODS as readonly string[]).includes(v)) {
          throw new InvalidArgumentError(`--calibration must be one of ${CALIBRATION_METHODS.join(', ')}, got '${v}'`);
        }
        return v as CalibrationMethod;
      },
      'minmax',
    )
    .option('--percentile <p>', 'percentile of |x| for --calibration percentile, in (0, 100] (default 99.99)', (v: string) => {
      const p = Number(v);
      if (v.trim() === '' || !(p > 0 && p <= 100)) throw new InvalidArgumentError(`--percentile must be a number in (0, 100], got '${v}'`);
      return p;
    })
    .option('--quiet', 'no progress output')
    .action(async (flags: QuantizeFlags) => {
      if (flags.errorBudget !== undefined && flags.floatThreshold !== undefined) {
        throw new InvalidArgumentError('--error-budget and --float-threshold are two rules for the same choice: give one');
      }
      if (flags.percentile !== undefined && flags.calibration !== 'percentile') {
        throw new InvalidArgumentError(`--percentile needs --calibration percentile (got --calibration ${flags.calibration})`);
      }
      const summary = await quantize(flags.model, {
        images: flags.images,
        count: flags.calibrationImages,
        weightBits: flags.weightBits,
        floatThreshold: flags.floatThreshold,
        errorBudget: flags.errorBudget,
        method: flags.calibration,
        percentile: flags.percentile,
        reporter: reporterFor(flags),
      });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
