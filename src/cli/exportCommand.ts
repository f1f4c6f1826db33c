import { basename, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { Detector } from '../api/detector.js';
import { ExportSummarySchema } from '../api/outputs.js';
import { writeWebApp } from '../export/webApp.js';
import { prepareOutput } from '../io/atomic.js';
import { modelInfo } from '../serve/modelInfo.js';
import type { Precision } from '../scoring/precision.js';
import { PRECISION_HELP, precisionOption, reporterFor } from './options.js';

interface ExportFlags {
  model: string;
  out?: string;
  web?: string;
  batch: number | 'dynamic';
  fp16?: boolean;
  precision: Precision;
  threshold?: number;
  quiet?: boolean;
}

function batchOption(value: string): number | 'dynamic' {
  if (value === 'dynamic') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--batch must be 'dynamic' or a positive integer, got '${value}'`);
  return n;
}

/** `--web <dir>`: the static inspect page with the scoring graph (with image_crop, for its overlays). */
async function exportWeb(flags: ExportFlags, reporter: ReturnType<typeof reporterFor>): Promise<void> {
  const dir = flags.web!;
  await prepareOutput(dir, 'web');
  const detector = await Detector.load(flags.model, { threshold: flags.threshold, reporter, precision: flags.precision });
  try {
    const name = basename(resolve(flags.model));
    const onnx = await detector.exportBytes({ batch: flags.batch, fp16: flags.fp16, withCrop: true });
    const info = await modelInfo({ name, dir: flags.model, detector });
    const { files, bytes } = await writeWebApp(dir, onnx, info);
    process.stdout.write(`${JSON.stringify({ web: dir, files, bytes, model: name, threshold: detector.calibration.imageThreshold })}\n`);
  } finally {
    await detector.close();
  }
}

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('write the whole scoring pipeline (preprocessing, backbone, head, map, threshold) as one self-contained .onnx')
    .requiredOption('--model <model-dir>', 'model directory written by `simplenet train`')
    .option('--out <model.onnx>', 'file to write')
    .option('--web <dir>', 'write a static web app instead: the inspect page scoring in the browser, with model.onnx (host it on any static web server)')
    .option('--batch <dynamic|N>', 'batch dimension of the image input', batchOption, 'dynamic')
    .option('--fp16', 'store weights as float16 (about half the size; scores change slightly)')
    .option('--precision <p>', PRECISION_HELP, precisionOption, 'fp32')
    .option('--threshold <t>', "raw-score threshold for the label (overrides the model's)", (v: string) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--threshold must be a number, got '${v}'`);
      return n;
    })
    .option('--quiet', 'no progress output')
    .action(async (flags: ExportFlags) => {
      const reporter = reporterFor(flags);
      if (Boolean(flags.out) === Boolean(flags.web)) throw new InvalidArgumentError('export: give exactly one of --out <model.onnx> and --web <dir>');
      if (flags.web) return exportWeb(flags, reporter);
      const out = flags.out!;
      await prepareOutput(out, 'onnx');
      const detector = await Detector.load(flags.model, { threshold: flags.threshold, reporter, precision: flags.precision });
      const { bytes } = await detector.export(out, { batch: flags.batch, fp16: flags.fp16 }).finally(() => detector.close());
      const { calibration } = detector;
      process.stdout.write(
        `${JSON.stringify(
          ExportSummarySchema.parse({
            out,
            bytes,
            batch: flags.batch,
            fp16: Boolean(flags.fp16),
            precision: flags.precision,
            threshold: calibration.imageThreshold,
            threshold_source: calibration.thresholdSource,
          }),
        )}\n`,
      );
    });
}
