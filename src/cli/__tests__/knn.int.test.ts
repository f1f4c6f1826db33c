/**
 * The nearest-neighbour baseline through the CLI (issue 13): `train --method knn` writes a model
 * folder that `test`, `predict` and `export` use unchanged, and they score alike; `benchmark
 * --baseline knn` adds knn rows beside SimpleNet's; `--preset paper` configurations are untouched.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { decodeSafetensors } from '../../io/safetensors.js';
import { decodeImage } from '../../images/decode.js';
import { ortTensor, Session } from '../../onnx/session.js';
import { assertClose } from '../../testing/golden.js';
import { runCli } from '../../testing/cli.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { testTempDir } from '../../testing/tempDir.js';

const simplenet = (...args: string[]) => runCli(args);

describe('simplenet train --method knn on a tiny dataset', () => {
  const dir = testTempDir('simplenet-knn-');
  const data = join(dir, 'data');
  const config = join(dir, 'tiny.json');
  const model = join(dir, 'knn');
  let manifest = '';
  before(async () => {
    await makeTinyDataset(data, 'widget', { nTrain: 8 });
    manifest = makeTinyBackbone(join(dir, 'backbone'));
    writeFileSync(config, JSON.stringify(TINY_CONFIG));
  });

  test('train --method knn: a memory bank of 10 % of the training patch features, thresholds from held-out good images', () => {
    const r = simplenet(
      'train',
      '--method',
      'knn',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      config,
      '--seed',
      '2',
      '--out',
      model,
    );
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.epochs, 0);
    assert.equal(summary.steps, 0);
    assert.equal(summary.preset, 'knn');
    assert.match(r.stderr, /knn memory bank: \d+ of \d+ patch features \(10 %\), greedy k-center on a 128-d projection/);
    assert.deepEqual(readdirSync(model).sort(), ['backbone.onnx', 'heads.safetensors', 'simplenet.json', 'training_log.csv']);
    const m = JSON.parse(readFileSync(join(model, 'simplenet.json'), 'utf8'));
    assert.equal(m.config.head.kind, 'knn');
    assert.deepEqual(m.config.knn, { coresetFraction: 0.1, projectionDim: 128 });
    assert.equal(m.config.map.transform, 'none', 'its maps are of its distances');
    assert.equal(m.scoring.thresholdSource, 'validation-quantile');
    const { trainRows, bankRows } = m.training.coreset;
    // 7 training images (one of 8 held out) × 8×8 patches, 10 % kept.
    assert.equal(trainRows, 7 * 64);
    assert.equal(bankRows, Math.floor(trainRows * 0.1));
    const heads = decodeSafetensors(new Uint8Array(readFileSync(join(model, 'heads.safetensors'))), 'heads.safetensors');
    assert.deepEqual([...heads.tensors.keys()], ['knn.memory_bank']);
    assert.deepEqual(heads.tensors.get('knn.memory_bank')?.dims, [bankRows, TINY_CONFIG.embed.targetDim]);
    // The same seed chooses the same bank.
    const again = join(dir, 'knn-again');
    assert.equal(
      simplenet(
        'train',
        '--method',
        'knn',
        '--data',
        data,
        '--category',
        'widget',
        '--backbone',
        manifest,
        '--config',
        config,
        '--seed',
        '2',
        '--out',
        again,
        '--quiet',
      ).code,
      0,
    );
    assert.deepEqual(readFileSync(join(again, 'heads.safetensors')), readFileSync(join(model, 'heads.safetensors')));
  });

  test('test, predict --json and the exported ONNX give the same scores (1e-5 relative)', async () => {
    const report = join(dir, 'report');
    const t = simplenet('test', '--model', model, '--data', data, '--category', 'widget', '--report', report, '--quiet');
    assert.equal(t.code, 0, t.stderr);
    const metrics = JSON.parse(readFileSync(join(report, 'metrics.json'), 'utf8'));
    for (const k of ['image_auroc', 'pixel_auroc', 'pixel_aupro']) assert.ok(metrics[k] >= 0 && metrics[k] <= 1, `${k} = ${metrics[k]}`);
    const csv = readFileSync(join(report, 'predictions.csv'), 'utf8').trim().split('\n').slice(1);
    const fromTest = new Map(csv.map((line) => [line.split(',')[0], Number(line.split(',')[3])]));
    const paths = [...fromTest.keys()].map((p) => join(data, 'widget', p.replace(/^.*?(test\/)/, '$1')));
    assert.equal(paths.length, 5);

    const p = simplenet('predict', '--model', model, '--json', '--quiet', ...paths);
    assert.equal(p.code, 0, p.stderr);
    const fromPredict = p.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { path: string; score: number });

    const onnx = join(dir, 'knn.onnx');
    const e = simplenet('export', '--model', model, '--out', onnx, '--quiet');
    assert.equal(e.code, 0, e.stderr);
    const session = await Session.create(onnx, 'exported knn model');
    const fromExport: number[] = [];
    try {
      for (const path of paths) {
        const im = await decodeImage(path);
        const out = await session.run({ image: ortTensor('uint8', [1, im.height, im.width, 3], im.data) }, ['score']);
        fromExport.push((out.score.data as Float32Array)[0]);
      }
    } finally {
      await session.release();
    }
    const testScores = paths.map((path) => {
      const key = [...fromTest.keys()].find((k) => path.endsWith(k.replace(/^.*?(test\/)/, '$1')));
      assert.ok(key, path);
      return fromTest.get(key) as number;
    });
    assertClose(
      fromPredict.map((r) => r.score),
      testScores,
      { rtol: 1e-5, label: 'predict --json vs test' },
    );
    assertClose(fromExport, testScores, { rtol: 1e-5, label: 'exported ONNX vs test' });
    // Defects score above good images on these fixtures.
    const good = testScores.filter((_, i) => paths[i].includes('/good/'));
    const spot = testScores.filter((_, i) => paths[i].includes('/spot/'));
    assert.ok(Math.min(...spot) > Math.max(...good), `spot ${spot} vs good ${good}`);
  });

  test('--val-fraction 0: the threshold is the training patches’ own largest distance to the bank', () => {
    const out = join(dir, 'knn-all');
    const r = simplenet(
      'train',
      '--method',
      'knn',
      '--val-fraction',
      '0',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      config,
      '--out',
      out,
      '--quiet',
    );
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(readFileSync(join(out, 'simplenet.json'), 'utf8'));
    assert.equal(m.scoring.thresholdSource, 'train-max');
    assert.ok(m.scoring.imageThreshold > 0);
    assert.equal(m.training.coreset.trainRows, 8 * 64);
  });

  test('--preset paper and the default SimpleNet run keep their configuration: no head kind, no knn section', () => {
    const out = join(dir, 'paper');
    const r = simplenet(
      'train',
      '--preset',
      'paper',
      '--epochs',
      '1',
      '--data',
      data,
      '--category',
      'widget',
      '--backbone',
      manifest,
      '--config',
      config,
      '--out',
      out,
      '--quiet',
    );
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(readFileSync(join(out, 'simplenet.json'), 'utf8'));
    assert.equal(m.preset, 'paper');
    assert.equal('kind' in m.config.head, false);
    assert.equal('knn' in m.config, false);
    assert.equal(m.training.coreset, undefined);
    const heads = decodeSafetensors(new Uint8Array(readFileSync(join(out, 'heads.safetensors'))), 'heads.safetensors');
    assert.ok(heads.tensors.has('discriminator.fc2.weight'));
  });

  test('benchmark --baseline knn: knn rows beside SimpleNet’s for each category × seed', () => {
    const out = join(dir, 'bench');
    const r = simplenet(
      'benchmark',
      '--data',
      data,
      '--categories',
      'widget',
      '--seeds',
      '0,1',
      '--backbone',
      manifest,
      '--config',
      config,
      '--epochs',
      '1',
      '--baseline',
      'knn',
      '--out',
      out,
      '--quiet',
    );
    assert.equal(r.code, 0, r.stderr);
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    assert.match(csv[0], /^category,seed,method,epochs,image_auroc,pixel_auroc,pixel_aupro,/);
    assert.deepEqual(
      csv.slice(1).map((l) => l.split(',').slice(0, 4).join(',')),
      ['widget,0,simplenet,1', 'widget,0,knn,0', 'widget,1,simplenet,1', 'widget,1,knn,0'],
    );
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    assert.match(md, /\| widget \| 2 \|/);
    assert.match(md, /\| widget, \*\*knn baseline\*\* \| 2 \|/);
    assert.deepEqual(readdirSync(join(out, 'models', 'widget')).sort(), ['seed0', 'seed0-knn', 'seed1', 'seed1-knn']);
    // The knn model of the benchmark is an ordinary model folder.
    assert.equal(simplenet('test', '--model', join(out, 'models', 'widget', 'seed1-knn'), '--data', data, '--category', 'widget', '--quiet').code, 0);
  });
});
