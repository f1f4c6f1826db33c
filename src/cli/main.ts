#!/usr/bin/env node
/** The `simplenet` command line: thin commands over the library; progress on stderr, results on stdout. */
import { Command } from 'commander';
import { PACKAGE_VERSION } from '../model/modelDir.js';
import { benchmarkCommand } from './benchmarkCommand.js';
import { embedCommand } from './embedCommand.js';
import { exportCommand } from './exportCommand.js';
import { predictCommand } from './predictCommand.js';
import { testCommand } from './testCommand.js';
import { trainCommand } from './trainCommand.js';
import { weightsCommand } from './weightsCommand.js';

const program = new Command()
  .name('simplenet')
  .description('SimpleNet visual anomaly detection: train on good images, score images and heatmaps')
  .version(PACKAGE_VERSION)
  .showHelpAfterError();

trainCommand(program);
testCommand(program);
embedCommand(program);
weightsCommand(program);
predictCommand(program);
exportCommand(program);
benchmarkCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as Error;
  process.stderr.write(`simplenet: ${err.message}\n`);
  if (process.env.SIMPLENET_DEBUG) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
