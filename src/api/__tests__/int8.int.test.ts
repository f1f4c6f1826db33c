/**
 * `--precision int8` end to end (issue 16): `simplenet quantize` stores a model's activation ranges
 * in its folder; predict, test and export then run the backbone's int8 twin through the one
 * scoring graph. On a 1-epoch MobileNetV2 model of bottle the int8 scores rank the test images as
 * fp32 does (Spearman ≥ 0.99); a folder without ranges, ranges of another backbone and an unknown
 * precision are refused with one clear line.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { spearman } from '../../benchmark/selection.js';
import { DEFAULT_ERROR_BUDGET } from '../../backbones/quantizeBackbone.js';
import { decodeModel } from '../../onnx/decode.js';
import { BOTTLE_MISSING, makeBottleSubset } from '../../testing/bottleSubset.js';
import { runCli } from '../../testing/cli.js';
import { Detector } from '../detector.js';
import { testTempDir } from '../../testing/tempDir.js';

const simplenet = (...args: string[]) => runCli(args);

describe('int8 backbone (simplenet quantize, --precision int8)', { skip: BOTTLE_MISSING }, () => {
  const dir = testTempDir('simplenet-int8-');
  const data = join(dir, 'data');
  const model = join(dir, 'model');
  const testDir = join(data, 'bottle', 'test');
  const config = join(dir, 'small.json');
  before(async () => {
    // The default image size (288²) and 20 test images: at 128² and 12 images a one-epoch model's
    // scores lie so close together that rounding a few features reorders them (measured ρ 0.98 even
    // at a 2 % tap error budget), which says little about the model users score. One epoch, as the issue asks.
    await makeBottleSubset(data, 'bottle', { train: 16, test: 10, size: 320 });
    writeFileSync(config, JSON.stringify({ train: { epochs: 1 } }));
    const r = simplenet('train', '--data', data, '--category', 'bottle', '--backbone', 'mobilenet_v2', '--config', config, '--out', model, '--quiet');
    assert.equal(r.code, 0, r.stderr);
  });

  test('--precision int8 before quantize: one line naming the folder and the command to run', () => {
    const r = simplenet('predict', '--model', model, '--precision', 'int8', '--json', testDir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /has no int8 calibration \(quantization\.json\); run 'simplenet quantize --model /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  test('an unknown precision is refused naming the flag', () => {
    const r = simplenet('predict', '--model', model, '--precision', 'fp16', testDir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--precision must be one of fp32, int8, got 'fp16'/);
  });

  test('quantize calibrates on the training split; int8 scores rank the test images as fp32 does (Spearman ≥ 0.99)', () => {
    const q = simplenet('quantize', '--model', model, '--calibration-images', '8', '--quiet');
    assert.equal(q.code, 0, q.stderr);
    const summary = JSON.parse(q.stdout);
    assert.equal(summary.images, 8);
    assert.equal(summary.method, 'minmax');
    assert.match(summary.source, /training split/);
    assert.ok(summary.tensors > 10, `ranges for ${summary.tensors} tensors`);
    // The shared MobileNetV2 is a quantization-aware-trained network: every weight stays on its grid.
    assert.ok(summary.weights > 0 && summary.gridWeights === summary.weights, `${summary.gridWeights} of ${summary.weights} weights on their grid`);
    assert.ok(summary.predictedError <= DEFAULT_ERROR_BUDGET, `predicted tap error ${summary.predictedError} within the default budget`);
    const scores = (precision: string) => {
      const r = simplenet('predict', '--model', model, '--precision', precision, '--json', '--quiet', testDir);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { path: string; score: number });
    };
    const fp32 = scores('fp32');
    const int8 = scores('int8');
    assert.deepEqual(
      int8.map((r) => r.path),
      fp32.map((r) => r.path),
    );
    const rho = spearman(
      fp32.map((r) => r.score),
      int8.map((r) => r.score),
    );
    assert.ok(rho !== null && rho >= 0.99, `Spearman ρ = ${rho} between int8 and fp32 scores of ${fp32.length} images`);
    assert.ok(
      fp32.some((r, i) => r.score !== int8[i].score),
      'int8 really ran (scores differ)',
    );
  });

  test('export --precision int8: the one graph with QDQ nodes, labelled in its metadata, scoring as Detector does', async () => {
    const out = join(dir, 'int8.onnx');
    const r = simplenet('export', '--model', model, '--precision', 'int8', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).precision, 'int8');
    const proto = decodeModel(readFileSync(out), out);
    assert.equal(proto.metadata.backbone_precision, 'int8');
    assert.equal(proto.metadata.head_precision, 'int8');
    assert.ok(proto.graph.nodes.some((n) => n.opType === 'QuantizeLinear'));
    assert.ok(
      proto.graph.nodes.some((n) => n.opType === 'MatMulInteger'),
      'the head Linear in int8',
    );
    const detector = await Detector.load(model, { precision: 'int8' });
    try {
      const bytes = await detector.exportBytes();
      assert.equal(decodeModel(bytes, 'bytes').metadata.backbone_precision, 'int8');
    } finally {
      await detector.close();
    }
  });

  test('ranges measured on another backbone are refused, naming the file', () => {
    const file = join(model, 'quantization.json');
    const q = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...q, backboneSha256: '0'.repeat(64) }));
    const r = simplenet('predict', '--model', model, '--precision', 'int8', testDir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /quantization\.json: was measured on another backbone/);
  });
});
