#!/usr/bin/env node
/**
 * The `simplenet` command line: thin commands over the library; progress on stderr, results on stdout.
 * Exit codes: 0 done; 1 an error (one line on stderr naming the file and the problem); 2 `predict`
 * scored some images but not all; 130 / 143 interrupted by SIGINT / SIGTERM (temporaries removed,
 * a training checkpoint kept for --resume); 141 stdout was closed early (piped into `head`).
 */
import { Command } from 'commander';
import { DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, setMaxPixels } from '../images/decode.js';
import { removeLiveTemporariesSync } from '../io/temporaries.js';
import { intOption } from './options.js';
import { VERSION } from '../core/version.js';
import { benchmarkCommand } from './benchmarkCommand.js';
import { datasetsCommand } from './datasetsCommand.js';
import { jobsCommand } from './jobsCommand.js';
import { embedCommand } from './embedCommand.js';
import { exportCommand } from './exportCommand.js';
import { quantizeCommand } from './quantizeCommand.js';
import { predictCommand } from './predictCommand.js';
import { serveCommand } from './serveCommand.js';
import { testCommand } from './testCommand.js';
import { trainCommand } from './trainCommand.js';
import { weightsCommand } from './weightsCommand.js';
import { workerCommand } from './workerCommand.js';

const program: Command = new Command()
  .name('simplenet')
  .description('SimpleNet visual anomaly detection: train on good images, score images and heatmaps')
  .version(VERSION)
  .option(
    '--max-pixels <n>',
    `refuse images larger than this many pixels before decoding them (default ${DEFAULT_MAX_PIXELS}, or $${MAX_PIXELS_ENV})`,
    intOption('--max-pixels', 1),
  )
  .hook('preAction', (): void => setMaxPixels((program.opts() as { maxPixels?: number }).maxPixels))
  .showHelpAfterError();

trainCommand(program);
testCommand(program);
embedCommand(program);
weightsCommand(program);
predictCommand(program);
exportCommand(program);
quantizeCommand(program);
serveCommand(program);
benchmarkCommand(program);
datasetsCommand(program);
workerCommand(program);
jobsCommand(program);

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    removeLiveTemporariesSync();
    process.stderr.write(`simplenet: interrupted (${signal}); nothing half-written was left behind\n`);
    process.exit(code);
  });
}

// A reader that stops early (`| head`) closes stdout: stop quietly, as a killed pipe writer would.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  removeLiveTemporariesSync();
  process.exit(141);
});

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as Error;
  // Messages are one line, except deliberate instructions (an offline download says how to install by hand).
  process.stderr.write(`simplenet: ${err.message}\n`);
  if (process.env.SIMPLENET_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
