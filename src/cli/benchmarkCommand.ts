import type { Command } from 'commander';
import { resolveBackbone } from '../backbones/backbone.js';
import { runBenchmark } from '../benchmark/runBenchmark.js';
import { benchmarkTitle, summaryMarkdown } from '../benchmark/summary.js';
import { DATASET_FORMATS } from '../datasets/load.js';
import { intListOption, intOption, reporterFor } from './options.js';
import { addTrainingOptions, type TrainingFlags, trainingConfig } from './trainingOptions.js';

interface BenchmarkFlags extends TrainingFlags {
  data: string;
  format: 'mvtec' | 'visa' | 'mvtec3d' | 'loco';
  categories: string;
  seeds: number[];
  backbone: string;
  weights?: string;
  epochs?: number;
  config?: string;
  out: string;
  evalEvery?: number;
  quiet?: boolean;
}

export function benchmarkCommand(program: Command): void {
  addTrainingOptions(program.command('benchmark'))
    .description('train and test every category × seed; write results.csv and results.md (mean ± std)')
    .requiredOption('--data <root>', 'dataset root')
    .option('--format <format>', `dataset layout (${DATASET_FORMATS.filter((f) => f !== 'folder').join(' or ')})`, 'mvtec')
    .requiredOption('--categories <list>', 'comma-separated categories, e.g. bottle,cable')
    .option('--seeds <list>', 'comma-separated seeds', intListOption('--seeds', 0), [0])
    .option('--backbone <name|manifest>', 'builtin ResNet name or a backbone manifest .json', 'wide_resnet50_2')
    .option('--weights <file>', 'state dict for a builtin backbone (default: cached ImageNet weights)')
    .option('--epochs <n>', 'passes over each training set (default 32; paper: 160)', intOption('--epochs', 1))
    .option('--config <file>', 'JSON or YAML file with any part of the configuration')
    .option(
      '--eval-every <n>',
      'every N epochs, score validation and the TEST split: adds final / validation-selected / oracle columns and curves/<category>_seed<s>.csv',
      intOption('--eval-every', 1),
    )
    .requiredOption('--out <dir>', 'folder for results.csv, results.md and models/<category>/seed<s>/')
    .option('--quiet', 'no progress output')
    .action(async (flags: BenchmarkFlags) => {
      if (!DATASET_FORMATS.includes(flags.format) || flags.format === ('folder' as string)) {
        throw new Error(`--format must be one of ${DATASET_FORMATS.filter((f) => f !== 'folder').join(', ')}, got '${flags.format}'`);
      }
      const reporter = reporterFor(flags);
      const config = await trainingConfig(flags, { train: { epochs: flags.epochs } });
      const backbone = await resolveBackbone({ backbone: flags.backbone, weights: flags.weights, reporter });
      const categories = flags.categories
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const rows = await runBenchmark({
        dataset: (category) => ({ format: flags.format, root: flags.data, category }),
        categories,
        seeds: flags.seeds,
        backbone,
        config,
        out: flags.out,
        reporter,
        evalEvery: flags.evalEvery,
      });
      process.stdout.write(summaryMarkdown(rows, benchmarkTitle(config)));
    });
}
