import { type Command, InvalidArgumentError } from 'commander';
import { resolveBackbone } from '../backbones/backbone.js';
import { runBenchmark } from '../benchmark/runBenchmark.js';
import { benchmarkTitle, summaryMarkdown } from '../benchmark/summary.js';
import { datasetFormats } from '../datasets/formats.js';
import { DEFAULT_QUEUE } from '../queue/queueOptions.js';
import { CONFIG_HELP, EPOCHS_HELP, intListOption, intOption, reporterFor } from './options.js';
import { queuedBenchmark } from './queuedBenchmark.js';
import { addTrainingOptions, type TrainingFlags, trainingConfig } from './trainingOptions.js';

interface BenchmarkFlags extends TrainingFlags {
  data: string;
  format: string;
  categories: string;
  seeds: number[];
  backbone: string;
  weights?: string;
  epochs?: number;
  config?: string;
  out: string;
  evalEvery?: number;
  baseline?: 'knn';
  quiet?: boolean;
  redis?: string;
  queue: string;
}

/** Formats with categories under one root: what `--categories` iterates over. */
const categorisedFormats = () =>
  datasetFormats()
    .filter((f) => f.hasCategories)
    .map((f) => f.name);

export function benchmarkCommand(program: Command): void {
  addTrainingOptions(program.command('benchmark'))
    .description('train and test every category × seed; write results.csv and results.md (mean ± std)')
    .requiredOption('--data <root>', 'dataset root')
    .option('--format <format>', `dataset layout (${categorisedFormats().join(' or ')})`, 'mvtec')
    .requiredOption('--categories <list>', 'comma-separated categories, e.g. bottle,cable')
    .option('--seeds <list>', 'comma-separated seeds', intListOption('--seeds', 0), [0])
    .option(
      '--backbone <name|manifest>',
      'builtin backbone (wide_resnet50_2, resnet18, resnet50, wide_resnet101_2, mobilenet_v2: shipped in the package) or a backbone manifest .json',
      'wide_resnet50_2',
    )
    .option('--weights <file>', 'state dict for a builtin backbone (default: cached ImageNet weights)')
    .option('--epochs <n>', EPOCHS_HELP, intOption('--epochs', 1))
    .option('--config <file|json>', CONFIG_HELP)
    .option(
      '--eval-every <n>',
      'every N epochs, score validation and the TEST split: adds final / validation-selected / oracle columns and curves/<category>_seed<s>.csv',
      intOption('--eval-every', 1),
    )
    .option(
      '--baseline <name>',
      "also run 'knn', the nearest-neighbour baseline (greedy coreset of the same patch features, distance to the nearest; no training), " +
        "for every category × seed: its rows sit beside SimpleNet's in results.csv and results.md, its models in models/<category>/seed<s>-knn/",
      (v: string) => {
        if (v !== 'knn') throw new InvalidArgumentError(`--baseline must be 'knn', got '${v}'`);
        return v as 'knn';
      },
    )
    .requiredOption('--out <dir>', 'folder for results.csv, results.md and models/<category>/seed<s>/')
    .option('--quiet', 'no progress output')
    .option(
      '--redis <url>',
      'run each category × seed as a job on this Redis queue (workers: `simplenet worker`); --out, --data and the backbone must be on a filesystem every worker shares',
    )
    .option('--queue <name>', 'queue name (with --redis)', DEFAULT_QUEUE)
    .action(async (flags: BenchmarkFlags) => {
      if (!categorisedFormats().includes(flags.format)) {
        throw new Error(`--format must be one of ${categorisedFormats().join(', ')}, got '${flags.format}'`);
      }
      const reporter = reporterFor(flags);
      const config = await trainingConfig(flags, { train: { epochs: flags.epochs } });
      if (flags.redis) {
        if (flags.baseline) throw new Error('--baseline is not available with --redis yet; run the baseline locally');
        const rows = await queuedBenchmark({
          redis: flags.redis,
          queue: flags.queue,
          format: flags.format,
          data: flags.data,
          categories: flags.categories
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean),
          seeds: flags.seeds,
          backbone: flags.backbone,
          weights: flags.weights,
          config,
          out: flags.out,
          evalEvery: flags.evalEvery,
          quiet: flags.quiet,
        });
        process.stdout.write(summaryMarkdown(rows, benchmarkTitle(config)));
        return;
      }
      const backbone = await resolveBackbone({ backbone: flags.backbone, weights: flags.weights, reporter });
      const categories = flags.categories
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const rows = await runBenchmark({
        dataset: (category) => ({ format: flags.format as 'mvtec', root: flags.data, category }),
        categories,
        seeds: flags.seeds,
        backbone,
        config,
        out: flags.out,
        reporter,
        evalEvery: flags.evalEvery,
        baseline: flags.baseline,
      });
      process.stdout.write(summaryMarkdown(rows, benchmarkTitle(config)));
    });
}
