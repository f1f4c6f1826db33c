import type { Command } from 'commander';
import { Detector } from '../api/detector.js';
import { predictLine } from '../api/outputs.js';
import { expandInputs } from '../predict/inputs.js';
import { tsvRow } from '../predict/tsv.js';
import { PredictionFolder } from '../predict/writeOutputs.js';
import { prepareOutput, writeDirAtomic } from '../io/atomic.js';
import { sideBySideSession } from '../onnx/session.js';
import { DEFAULT_QUEUE } from '../queue/queueOptions.js';
import type { Precision } from '../scoring/precision.js';
import { DEFAULT_WORKERS, intOption, numberOption, PRECISION_HELP, precisionOption, reporterFor, WORKERS_HELP } from './options.js';
import { queuedPredict } from './queuedPredict.js';

interface PredictFlags {
  model: string;
  precision: Precision;
  out?: string;
  json?: boolean;
  threshold?: number;
  quiet?: boolean;
  redis?: string;
  queue: string;
  chunk: number;
  batch: number;
  workers: number;
}

/** Exit code when some images could not be scored (the others were). */
export const EXIT_SOME_FAILED = 2;

export function predictCommand(program: Command): void {
  program
    .command('predict')
    .description('score images with a trained model: raw and normalised score, label, and optionally heatmaps')
    .requiredOption('--model <model-dir>', 'model directory written by `simplenet train`')
    .argument('<images...>', 'image files, folders (searched recursively) or glob patterns')
    .option(
      '--out <dir>',
      'write <name>.png (JET heatmap over the cropped image) and <name>.npy (raw anomaly map) per image, and predictions.csv; the folder appears when the run ends and replaces only an earlier predict output',
    )
    .option('--json', 'print one JSON object per image: {"path","score","score_normalized","label",...}')
    .option('--threshold <t>', "raw-score threshold for the label (overrides the model's)", numberOption('--threshold'))
    .option('--quiet', 'no progress output')
    .option(
      '--redis <url>',
      'score in chunks across the workers of this Redis queue; needs --out on a filesystem the workers share (chunk results go to <out>/chunks/; no heatmaps)',
    )
    .option('--queue <name>', 'queue name (with --redis)', DEFAULT_QUEUE)
    .option('--chunk <n>', 'images per queue job (with --redis)', intOption('--chunk', 1), 50)
    .option('--precision <p>', PRECISION_HELP, precisionOption, 'fp32')
    .option('--batch <n>', 'score up to n consecutive images of one size in one run of the model (same results; not with --redis)', intOption('--batch', 1), 1)
    .option('--workers <n>', `${WORKERS_HELP}; not with --redis`, intOption('--workers', 0), DEFAULT_WORKERS)
    .addHelpText(
      'after',
      '\nOutput (without --json): tab-separated rows "path score score_normalized label" after a header row.\n' +
        'A path holding a tab, newline, carriage return, other control character or backslash, or starting\n' +
        'with a double quote, is written as a JSON string literal ("a\\nb.png"), so each image is one row.',
    )
    .action(async (images: string[], flags: PredictFlags, cmd: Command) => {
      const reporter = reporterFor(flags);
      if (flags.redis) {
        if (cmd.getOptionValueSource('workers') === 'cli') throw new Error('--workers applies to scoring here, not to --redis queue workers');
        // Queue workers score their chunks one image per run; a --batch they would not honour is refused, not ignored.
        if (flags.batch !== 1) throw new Error('--batch applies to scoring here, not to --redis queue workers (use --chunk)');
        if (flags.precision !== 'fp32') throw new Error('--precision applies to scoring here, not to --redis queue workers');
        return predictQueued(images, flags);
      }
      if (flags.out) await prepareOutput(flags.out, 'predictions');
      const detector = await Detector.load(flags.model, {
        threshold: flags.threshold,
        withCrop: Boolean(flags.out),
        reporter,
        precision: flags.precision,
        session: sideBySideSession(flags.workers),
      });
      const inputs = expandInputs(images);
      const bar = reporter.bar('predicting', inputs.length);
      let failed = 0;
      const run = async (folder?: PredictionFolder) => {
        if (!flags.json) process.stdout.write('path\tscore\tscore_normalized\tlabel\n');
        let i = 0;
        for await (const r of detector.scoreMany(
          inputs.map((x) => x.path),
          { batch: flags.batch },
        )) {
          const input = inputs[i++];
          if (!r.ok) {
            failed++;
            // Always on stderr, even with --quiet: a skipped image must not go unnoticed.
            process.stderr.write(`simplenet: ${r.error.message.startsWith(input.path) ? '' : `${input.path}: `}${r.error.message}\n`);
            bar.tick();
            continue;
          }
          const p = r.result;
          const files = folder ? await folder.write(input, p) : undefined;
          if (flags.json) {
            process.stdout.write(`${JSON.stringify(predictLine(input.path, p, files))}\n`);
          } else {
            process.stdout.write(`${tsvRow([input.path, p.score.toPrecision(6), p.scoreNormalized.toFixed(4), p.label ? 'anomalous' : 'normal'])}\n`);
          }
          bar.tick();
        }
        await folder?.finish();
      };
      try {
        const out = flags.out;
        await (out ? writeDirAtomic(out, 'predictions', (tmp) => run(new PredictionFolder(tmp, out))) : run());
      } finally {
        await detector.close();
      }
      bar.done(failed ? `${failed} failed` : undefined);
      if (failed > 0) {
        process.stderr.write(`simplenet: ${failed} of ${inputs.length} images could not be scored\n`);
        process.exitCode = EXIT_SOME_FAILED;
      }
    });
}

async function predictQueued(images: string[], flags: PredictFlags): Promise<void> {
  if (!flags.out) throw new Error('--redis needs --out <dir> on a filesystem the workers share');
  const inputs = expandInputs(images);
  const results = await queuedPredict({
    redis: flags.redis as string,
    queue: flags.queue,
    model: flags.model,
    inputs,
    out: flags.out,
    chunk: flags.chunk,
    threshold: flags.threshold,
    quiet: flags.quiet,
  });
  if (!flags.json) process.stdout.write('path\tscore\tscore_normalized\tlabel\n');
  let failed = 0;
  for (const r of results) {
    if (!r.ok) {
      failed++;
      process.stderr.write(`simplenet: ${r.error.startsWith(r.path) ? '' : `${r.path}: `}${r.error}\n`);
      continue;
    }
    const p = r.line;
    if (flags.json) process.stdout.write(`${JSON.stringify(p)}\n`);
    else process.stdout.write(`${tsvRow([r.path, p.score.toPrecision(6), p.score_normalized.toFixed(4), p.label ? 'anomalous' : 'normal'])}\n`);
  }
  if (failed > 0) {
    process.stderr.write(`simplenet: ${failed} of ${inputs.length} images could not be scored\n`);
    process.exitCode = EXIT_SOME_FAILED;
  }
}
