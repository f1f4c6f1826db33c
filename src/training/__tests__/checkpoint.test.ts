import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { type Backbone, resolveBackbone } from '../../backbones/backbone.js';
import type { AnomalyDataset } from '../../datasets/dataset.js';
import { loadMvtec } from '../../datasets/mvtec.js';
import { PARAM_NAMES } from '../../heads/params.js';
import { Rng } from '../../core/rng.js';
import { parseConfig, type SimpleNetConfig } from '../../model/config.js';
import { makeTinyBackbone, makeTinyDataset, TINY_CONFIG } from '../../testing/fixtures.js';
import { loadCheckpoint, resumedNoiseSeed } from '../checkpoint.js';
import { trainSimpleNet } from '../trainer.js';
import { testTempDir } from '../../testing/tempDir.js';
import { encodeSafetensors } from '../../io/safetensors.js';

test('Rng state round-trips, including a pending Box–Muller value', () => {
  const a = new Rng(5);
  a.normal();
  const b = new Rng(99);
  b.setState(a.getState());
  assert.deepEqual([a.normal(), a.nextUint32(), a.normal()], [b.normal(), b.nextUint32(), b.normal()]);
  assert.throws(() => b.setState([1, 2]), /Rng\.setState: expected 4 or 5 finite numbers/);
});

test('the noise seed is the run seed until a resume, then a deterministic function of the resume epochs', () => {
  assert.equal(resumedNoiseSeed(7, []), 7);
  assert.equal(resumedNoiseSeed(7, [3]), resumedNoiseSeed(7, [3]));
  assert.notEqual(resumedNoiseSeed(7, [3]), resumedNoiseSeed(7, [4]));
});

test('a checkpoint whose state is damaged fails with its name and the problem, never a raw parse error', async () => {
  const dir = testTempDir('simplenet-ckpt-bad-');
  const write = (state: string) => {
    const path = join(dir, 'x.checkpoint');
    writeFileSync(path, encodeSafetensors({}, { format: 'simplenet-checkpoint', state }));
    return path;
  };
  // The bytes the fuzz corpus produced by flipping one bit of a valid checkpoint's state.
  const broken = write('{"epoch":2,"order":[ ,1],"log":[]}');
  await assert.rejects(loadCheckpoint(broken), (e: Error) => e.message.startsWith(`${broken}: damaged checkpoint (its state is not valid JSON`));
  const wrong = write('{"epoch":2,"fingerprint":"f","rng":[1,2,3,4],"order":[0,-1],"log":[],"resumedAt":[],"step":4}');
  await assert.rejects(loadCheckpoint(wrong), /x\.checkpoint: damaged checkpoint \(state\.order\.1: /);
  await assert.rejects(loadCheckpoint(write('null')), /x\.checkpoint: damaged checkpoint \(state: /);
});

describe('checkpoints', () => {
  const dir = testTempDir('simplenet-ckpt-');
  let dataset: AnomalyDataset;
  let backbone: Backbone;
  before(async () => {
    await makeTinyDataset(join(dir, 'data'));
    dataset = await loadMvtec(join(dir, 'data'), 'widget');
    backbone = await resolveBackbone({ backbone: makeTinyBackbone(join(dir, 'backbone')) });
  });
  const train = async (config: SimpleNetConfig, checkpoint?: { path: string; every: number; resume?: boolean }) => {
    const r = await trainSimpleNet({ dataset, backbone, config, checkpoint });
    await r.extractor.release();
    return r;
  };

  test('a run resumed from a checkpoint ends where the uninterrupted run ends (noise off, so draws cannot differ)', async () => {
    const quiet = { ...TINY_CONFIG, head: { ...TINY_CONFIG.head, noiseStd: 0 } };
    const path = join(dir, 'a.checkpoint');
    const full = await train(parseConfig({ ...quiet, train: { ...quiet.train, epochs: 3 } }));
    // An "interrupted" run: 2 epochs leave a checkpoint after epoch 1 (none after the last).
    await train(parseConfig({ ...quiet, train: { ...quiet.train, epochs: 2 } }), { path, every: 1 });
    const ck = await loadCheckpoint(path);
    assert.equal(ck?.epoch, 1);
    assert.equal(ck?.log.length, 1);
    const resumed = await train(parseConfig({ ...quiet, train: { ...quiet.train, epochs: 3 } }), { path, every: 1, resume: true });
    assert.deepEqual(resumed.training.resumedAt, [1]);
    assert.equal(resumed.training.log.length, 3);
    assert.equal(resumed.training.steps, full.training.steps);
    for (const name of PARAM_NAMES) assert.deepEqual(resumed.params[name].data, full.params[name].data, name);
    assert.deepEqual(
      resumed.training.log.map((e) => e.loss),
      full.training.log.map((e) => e.loss),
    );
  });

  test('a checkpoint of another run is refused; a missing one starts afresh', async () => {
    const path = join(dir, 'b.checkpoint');
    await train(parseConfig({ ...TINY_CONFIG, train: { ...TINY_CONFIG.train, epochs: 2 } }), { path, every: 1 });
    assert.ok(existsSync(path));
    const other = parseConfig({ ...TINY_CONFIG, train: { ...TINY_CONFIG.train, epochs: 3, seed: 9 } });
    await assert.rejects(train(other, { path, every: 1, resume: true }), /b\.checkpoint: the checkpoint belongs to a different configuration/);
    const done = parseConfig({ ...TINY_CONFIG, train: { ...TINY_CONFIG.train, epochs: 1 } });
    await assert.rejects(train(done, { path, every: 1, resume: true }), /already holds 1 epochs/);
    const fresh = await train(parseConfig({ ...TINY_CONFIG, train: { ...TINY_CONFIG.train, epochs: 1 } }), { path: join(dir, 'none'), every: 1, resume: true });
    assert.equal(fresh.training.resumedAt, undefined);
  });
});
