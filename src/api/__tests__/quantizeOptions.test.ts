/**
 * `quantize`'s calibration choice (issue 16): the method and percentile are validated before any
 * work (API and CLI flags, each error naming what was wrong), percentile ranges clip an outlier
 * that MinMax stretches to, and the choice is recorded in quantization.json (older records, with
 * no percentile, still load).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Command } from 'commander';
import { quantizeCommand } from '../../cli/quantizeCommand.js';
import { QUANTIZATION_FORMAT } from '../../io/artefacts.js';
import { loadQuantization, QUANTIZATION_FILE, type QuantizationRecord, saveQuantization } from '../../model/quantization.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { collectRanges } from '../../onnx/calibrate.js';
import { decodeModel } from '../../onnx/decode.js';
import { prepareForQuantization } from '../../onnx/quantize.js';
import { f32 } from '../../onnx/tensor.js';
import { quantize } from '../quantize.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('quantize-options-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('percentile ranges clip an outlier that MinMax stretches to', async () => {
  const g = new GraphBuilder('relu');
  const x = g.input('x', 'float32', [1, 1, 100, 100]);
  g.output(g.op('Relu', [x]), 'y', 'float32');
  const model = prepareForQuantization(decodeModel(g.toModel()));
  // |x| ≤ 1 everywhere but one value of 40.
  const data = Array.from({ length: 10000 }, (_, i) => (i === 5000 ? 40 : Math.sin(i)));
  const feeds = [{ x: f32([1, 1, 100, 100], data) }];
  const minmax = (await collectRanges(model, feeds, { tensors: ['x'] })).get('x');
  const pct = (await collectRanges(model, feeds, { tensors: ['x'], method: 'percentile', percentile: 99.9 })).get('x');
  assert.ok(minmax && pct);
  assert.equal(minmax.max, 40);
  assert.ok(pct.max <= 1.05 && pct.max >= 0.95, `percentile max ${pct.max}`);
  assert.ok(pct.min >= -1.05 && pct.min <= -0.95, `percentile min ${pct.min}`);
});

test('quantize refuses a bad method or percentile before reading the model', async () => {
  const missing = join(dir, 'no-model');
  await assert.rejects(
    quantize(missing, { percentile: 99.9 }),
    (e: Error) => e instanceof RangeError && /percentile 99\.9 needs method 'percentile'/.test(e.message),
  );
  await assert.rejects(
    quantize(missing, { method: 'percentile', percentile: 0 }),
    (e: Error) => e instanceof RangeError && /percentile must be in \(0, 100\], got 0/.test(e.message),
  );
  await assert.rejects(
    quantize(missing, { errorBudget: 0.02, floatThreshold: 0.01 }),
    (e: Error) => e instanceof RangeError && /give errorBudget or floatThreshold .*not both/.test(e.message),
  );
  await assert.rejects(
    quantize(missing, { errorBudget: -0.1 }),
    (e: Error) => e instanceof RangeError && /errorBudget must be a number ≥ 0, got -0.1/.test(e.message),
  );
  await assert.rejects(
    quantize(missing, { method: 'kl' as 'minmax' }),
    (e: Error) => e instanceof RangeError && /method must be one of minmax, percentile, mse, got 'kl'/.test(e.message),
  );
});

/** Parses a `simplenet quantize` command line; resolves to the error commander or the action raised. */
async function parseError(...args: string[]): Promise<Error> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  quantizeCommand(program);
  try {
    await program.parseAsync(['node', 'simplenet', 'quantize', ...args]);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`expected ${args.join(' ')} to fail`);
}

test('--calibration and --percentile are validated, each error naming its flag', async () => {
  const model = join(dir, 'no-model');
  assert.match((await parseError('--model', model, '--calibration', 'kl')).message, /--calibration must be one of minmax, percentile, mse, got 'kl'/);
  assert.match(
    (await parseError('--model', model, '--calibration', 'percentile', '--percentile', '100.5')).message,
    /--percentile must be a number in \(0, 100\]/,
  );
  assert.match((await parseError('--model', model, '--calibration', 'percentile', '--percentile', 'x')).message, /--percentile must be a number/);
  assert.match((await parseError('--model', model, '--percentile', '99.9')).message, /--percentile needs --calibration percentile/);
  assert.match((await parseError('--model', model, '--error-budget', '-1')).message, /--error-budget must be a number ≥ 0 or 'inf', got '-1'/);
  assert.match((await parseError('--model', model, '--error-budget', 'x')).message, /--error-budget must be a number/);
  assert.match((await parseError('--model', model, '--error-budget', '0.02', '--float-threshold', '0.01')).message, /give one/);
  assert.doesNotMatch((await parseError('--model', model, '--error-budget', 'inf')).message, /--error-budget/);
  // Valid flags get past parsing: the failure is the missing model folder.
  assert.doesNotMatch((await parseError('--model', model, '--calibration', 'percentile', '--percentile', '99.999')).message, /--calibration|--percentile/);
  assert.doesNotMatch((await parseError('--model', model, '--calibration', 'mse')).message, /--calibration/);
});

test('quantization.json records the percentile; a record without one still loads', async () => {
  const record: QuantizationRecord = {
    format: QUANTIZATION_FORMAT,
    version: 1,
    method: 'percentile',
    percentile: 99.999,
    weightBits: 7,
    images: 32,
    source: 'test',
    backboneSha256: '0'.repeat(64),
    created: new Date(0).toISOString(),
    ranges: { x: { min: 0, max: 6 } },
  };
  const withP = join(dir, 'with');
  mkdirSync(withP);
  await saveQuantization(withP, record);
  const back = await loadQuantization(withP);
  assert.equal(back?.method, 'percentile');
  assert.equal(back?.percentile, 99.999);
  const old = join(dir, 'old');
  mkdirSync(old);
  const { percentile: _, ...minmax } = { ...record, method: 'minmax' as const };
  writeFileSync(join(old, QUANTIZATION_FILE), JSON.stringify(minmax));
  assert.equal((await loadQuantization(old))?.percentile, undefined);
  // The error-budget rule's fields; JSON writes an infinite budget (everything in uint8) as null.
  const budget = join(dir, 'budget');
  mkdirSync(budget);
  await saveQuantization(budget, { ...record, float: [], errorBudget: null, sensitivity: { x: 0.02 }, predictedError: 0.02 });
  const b = await loadQuantization(budget);
  assert.equal(b?.errorBudget, null);
  assert.deepEqual(b?.sensitivity, { x: 0.02 });
});
