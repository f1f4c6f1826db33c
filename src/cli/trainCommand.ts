import { type Command, InvalidArgumentError } from 'commander';
import { TrainSummarySchema } from '../api/outputs.js';
import { train } from '../api/train.js';
import { prepareOutput } from '../io/atomic.js';
import { readTrainingLog } from '../model/modelDir.js';
import { addDatasetOptions, type DatasetFlags, datasetSpecFrom } from './datasetOptions.js';
import { formatMetrics } from '../evaluation/metricSpecs.js';
import { CONFIG_HELP, EPOCHS_HELP, intListOption, intOption, reporterFor } from './options.js';
import { addTrainingOptions, type TrainingFlags, trainingConfig } from './trainingOptions.js';

interface TrainFlags extends DatasetFlags, TrainingFlags {
  method?: 'simplenet' | 'knn';
  backbone: string;
  weights?: string;
  epochs?: number;
  seed?: number;
  config?: string;
  out: string;
  monitorTest?: number[];
  checkpointEvery: number;
  resume?: boolean;
  quiet?: boolean;
}

export function trainCommand(program: Command): void {
  addTrainingOptions(addDatasetOptions(program.command('train').description('train a SimpleNet detector on the good images of one category')))
    .option(
      '--backbone <name|manifest>',
      'builtin backbone (wide_resnet50_2, resnet18, resnet50, wide_resnet101_2, mobilenet_v2: shipped in the package) or a backbone manifest .json',
      'wide_resnet50_2',
    )
    .option(
      '--weights <file>',
      'state dict for a builtin backbone (.safetensors or torchvision .pth); default: the cached ImageNet weights, pulled on first use',
    )
    .option(
      '--method <name>',
      "'simplenet' (default: train the adaptor and discriminator) or 'knn': the nearest-neighbour baseline, a PatchCore-style " +
        'greedy coreset of the training patch features scored by distance to the nearest (no epochs; config knn.coresetFraction, knn.projectionDim)',
      (v: string) => {
        if (v !== 'simplenet' && v !== 'knn') throw new InvalidArgumentError(`--method must be 'simplenet' or 'knn', got '${v}'`);
        return v;
      },
    )
    .option('--epochs <n>', EPOCHS_HELP, intOption('--epochs', 1))
    .option('--seed <s>', 'seed for init, shuffling and noise', intOption('--seed', 0))
    .option(
      '--checkpoint-every <epochs>',
      'save a checkpoint beside the model dir (<out>.checkpoint) every N epochs; 0: never',
      intOption('--checkpoint-every', 0),
      1,
    )
    .option('--resume', 'continue an interrupted run from <out>.checkpoint (same data, backbone and config; --epochs may grow)')
    .option('--config <file|json>', CONFIG_HELP)
    .option(
      '--monitor-test <epochs>',
      'also evaluate the TEST split after these epochs (e.g. 1,2,4,8); recorded for study only, never used to choose anything',
      intListOption('--monitor-test'),
    )
    .requiredOption(
      '--out <model-dir>',
      'model directory to write; an existing one is replaced only when training succeeds, and only if it is a simplenet model',
    )
    .option('--quiet', 'no progress output')
    .action(async (flags: TrainFlags) => {
      const reporter = reporterFor(flags);
      await prepareOutput(flags.out, 'model');
      const config = await trainingConfig(flags, { train: { epochs: flags.epochs, seed: flags.seed }, head: { kind: flags.method } });
      if (config.head.kind === 'knn' && flags.epochs !== undefined) reporter.warn('--epochs is ignored: the knn head is not trained in epochs');
      // The library's train() (api/train.ts): the CLI is a thin layer over it.
      const detector = await train({
        data: datasetSpecFrom(flags, config.train.seed),
        backbone: flags.backbone,
        weights: flags.weights,
        out: flags.out,
        resolvedConfig: config,
        reporter,
        monitorTest: flags.monitorTest,
        onMonitor: (epoch, m) => reporter.line(`[test-split monitor, chooses nothing] epoch ${epoch}: ${formatMetrics(m, true)}`),
        checkpointEvery: flags.checkpointEvery,
        resume: flags.resume,
      });
      const { training, preset } = detector.model.manifest;
      await detector.close();
      const last = (await readTrainingLog(flags.out)).at(-1);
      process.stdout.write(
        `${JSON.stringify(
          TrainSummarySchema.parse({
            model: flags.out,
            epochs: training.epochs,
            seed: training.seed,
            steps: training.steps,
            seconds: Number(training.seconds.toFixed(1)),
            final: last && { loss: last.loss, p_true: last.pTrue, p_fake: last.pFake },
            preset,
            selected: training.selected,
          }),
        )}\n`,
      );
    });
}
