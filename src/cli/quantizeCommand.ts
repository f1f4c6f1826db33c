import { type Command, InvalidArgumentError } from 'commander';
import { quantize } from '../api/quantize.js';
import { intOption, numberOption, reporterFor } from './options.js';

interface QuantizeFlags {
  model: string;
  images?: string[];
  calibrationImages: number;
  weightBits: 7 | 8;
  floatThreshold?: number;
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
      '--float-threshold <x>',
      'mixed precision: keep float32 the activations whose measured uint8 error ‖Q(x)−x‖/‖x‖ exceeds x, with the convs that read or write them (default 0.01; 1 quantizes all: fastest, least exact)',
      numberOption('--float-threshold'),
    )
    .option('--quiet', 'no progress output')
    .action(async (flags: QuantizeFlags) => {
      const summary = await quantize(flags.model, {
        images: flags.images,
        count: flags.calibrationImages,
        weightBits: flags.weightBits,
        floatThreshold: flags.floatThreshold,
        reporter: reporterFor(flags),
      });
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    });
}
