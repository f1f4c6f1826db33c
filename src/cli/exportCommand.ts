import { type Command, InvalidArgumentError } from 'commander';
import { Detector } from '../api/detector.js';
import { ExportSummarySchema } from '../api/outputs.js';
import { prepareOutput } from '../io/atomic.js';
import { reporterFor } from './options.js';

interface ExportFlags {
  model: string;
  out: string;
  batch: number | 'dynamic';
  fp16?: boolean;
  threshold?: number;
  quiet?: boolean;
}

function batchOption(value: string): number | 'dynamic' {
  if (value === 'dynamic') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--batch must be 'dynamic' or a positive integer, got '${value}'`);
  return n;
}

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('write the whole scoring pipeline (preprocessing, backbone, head, map, threshold) as one self-contained .onnx')
    .requiredOption('--model <model-dir>', 'model directory written by `simplenet train`')
    .requiredOption('--out <model.onnx>', 'file to write')
    .option('--batch <dynamic|N>', 'batch dimension of the image input', batchOption, 'dynamic')
    .option('--fp16', 'store weights as float16 (about half the size; scores change slightly)')
    .option('--threshold <t>', "raw-score threshold for the label (overrides the model's)", (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--threshold must be a number, got '${v}'`);
      return n;
    })
    .option('--quiet', 'no progress output')
    .action(async (flags: ExportFlags) => {
      const reporter = reporterFor(flags);
      await prepareOutput(flags.out, 'onnx');
      const detector = await Detector.load(flags.model, { threshold: flags.threshold, reporter });
      const { bytes } = await detector.export(flags.out, { batch: flags.batch, fp16: flags.fp16 }).finally(() => detector.close());
      const { calibration } = detector;
      process.stdout.write(
        `${JSON.stringify(
          ExportSummarySchema.parse({
            out: flags.out,
            bytes,
            batch: flags.batch,
            fp16: Boolean(flags.fp16),
            threshold: calibration.imageThreshold,
            threshold_source: calibration.thresholdSource,
          }),
        )}\n`,
      );
    });
}
