import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type HeadParams, initHeadParams } from '../../heads/params.js';
import { Rng } from '../../core/rng.js';
import { defaultConfig, parseConfig } from '../config.js';
import { loadModel, saveModel } from '../modelDir.js';
import { testTempDir } from '../../testing/tempDir.js';

function sample() {
  const config = parseConfig({ embed: { targetDim: 8 }, head: { hiddenDim: 4 }, image: { tiles: [1, 1] } });
  return {
    config,
    backbone: {
      identity: { kind: 'builtin' as const, name: 'resnet18', weightsSha256: 'ab'.repeat(32) },
      inputName: 'image',
      mean: [0.485, 0.456, 0.406] as [number, number, number],
      std: [0.229, 0.224, 0.225] as [number, number, number],
      layers: ['layer2', 'layer3'],
      onnx: new Uint8Array([1, 2, 3]),
    },
    layerShapes: [
      { channels: 2, height: 4, width: 4 },
      { channels: 2, height: 2, width: 2 },
    ],
    params: initHeadParams({ featureDim: 8, hiddenDim: 4 }, new Rng(1)),
    training: {
      dataset: { format: 'mvtec', root: '/data', category: 'x', nTrain: 3 },
      epochs: 2,
      seed: 1,
      steps: 4,
      seconds: 1,
      featureSeconds: 0.5,
      log: [{ epoch: 1, loss: 1, pTrue: 0, pFake: 0, seconds: 0.1 }],
    },
  };
}

test('a saved model loads back with identical weights and config', async () => {
  const dir = join(testTempDir('simplenet-model-'), 'm');
  const s = sample();
  await saveModel(dir, s);
  const m = await loadModel(dir);
  assert.deepEqual(m.config, s.config);
  assert.deepEqual(Array.from((m.params as HeadParams)['adaptor.weight'].data), Array.from(s.params['adaptor.weight'].data));
  assert.deepEqual(Array.from(m.backbone.onnx), [1, 2, 3]);
  assert.equal(m.manifest.training.epochs, 2);
  assert.match(
    readFileSync(join(dir, 'training_log.csv'), 'utf8'),
    /^epoch,loss,p_true,p_fake,seconds,lr_factor,val_image_auroc,val_patch_auroc,val_patch_aupro,event\n1,1,0,0,0.100,,,,,\n$/,
  );
});

test("a model saved before image.fit existed loads as 'crop' (what it was trained with), not today's default", async () => {
  const dir = join(testTempDir('simplenet-model-'), 'm');
  await saveModel(dir, sample());
  const p = join(dir, 'simplenet.json');
  const j = JSON.parse(readFileSync(p, 'utf8'));
  assert.equal(j.config.image.fit, 'tile', 'new models save their fit');
  assert.deepEqual(j.config.image.tiles, [1, 1], 'and their tiles, resolved');
  delete j.config.image.fit;
  writeFileSync(p, JSON.stringify(j));
  assert.equal((await loadModel(dir)).config.image.fit, 'crop');
  delete j.config.image;
  writeFileSync(p, JSON.stringify(j));
  assert.deepEqual((await loadModel(dir)).config.image, { resize: 329, crop: 288, fit: 'crop', tiles: 'auto' });
});

test("saving a model whose 'auto' tiles were never resolved is refused: it could not score", async () => {
  const dir = join(testTempDir('simplenet-model-'), 'm');
  const m = sample();
  await assert.rejects(saveModel(dir, { ...m, config: { ...m.config, image: { ...m.config.image, tiles: 'auto' } } }), /'auto' must be resolved/);
});

test('a model from another format version names both versions', async () => {
  const dir = join(testTempDir('simplenet-model-'), 'm');
  await saveModel(dir, sample());
  const p = join(dir, 'simplenet.json');
  const j = JSON.parse(readFileSync(p, 'utf8'));
  writeFileSync(p, JSON.stringify({ ...j, formatVersion: 9, simplenetVersion: '9.0.0' }));
  await assert.rejects(loadModel(dir), /format version 9 \(written by simplenet 9\.0\.0\) is not supported by simplenet 0\.1\.0, which reads format version 1/);
});

test('a manifest that is JSON but not an object is refused by name, not with a TypeError', async () => {
  const dir = join(testTempDir('simplenet-model-'), 'm');
  await saveModel(dir, sample());
  const p = join(dir, 'simplenet.json');
  for (const text of ['null', '[]', '7']) {
    writeFileSync(p, text);
    await assert.rejects(loadModel(dir), (e: Error) => e.message === `${p}: not a simplenet model (expected a JSON object)`, text);
  }
});

test('a changed weights file is detected', async () => {
  const dir = join(testTempDir('simplenet-model-'), 'm');
  await saveModel(dir, sample());
  const p = join(dir, 'heads.safetensors');
  const b = readFileSync(p);
  b[b.length - 1] ^= 1;
  writeFileSync(p, b);
  await assert.rejects(loadModel(dir), /heads\.safetensors: sha256 does not match/);
});

test('a failed save leaves an existing model untouched and no temporary folder', async () => {
  const parent = testTempDir('simplenet-model-');
  const dir = join(parent, 'm');
  await saveModel(dir, sample());
  const before = readFileSync(join(dir, 'simplenet.json'), 'utf8');
  const broken = { ...sample(), params: { ...sample().params, 'adaptor.weight': undefined as never } };
  await assert.rejects(saveModel(dir, broken));
  assert.equal(readFileSync(join(dir, 'simplenet.json'), 'utf8'), before);
  const { readdirSync } = await import('node:fs');
  assert.deepEqual(readdirSync(parent), ['m']);
});

test("defaults are the paper's algorithm values but for the noise's scale, the adaptor's start, the rule and the epochs", () => {
  const c = defaultConfig();
  assert.deepEqual(c.image, { resize: 329, crop: 288, fit: 'tile', tiles: 'auto' });
  assert.deepEqual(c.embed, { patchSize: 3, pretrainDim: 1536, targetDim: 1536 });
  assert.equal(c.head.noiseStd, 0.5);
  assert.equal(c.head.noiseScale, 'feature-std');
  assert.equal(c.head.adaptorLr, 1e-4);
  assert.equal(c.head.discLr, 2e-4);
  assert.deepEqual([c.train.epochs, c.train.batchSize], [6, 8]);
  assert.deepEqual(c.map, { transform: 'sigmoid', sigma: 4, truncate: 4 });
});
