import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyPreset, defaultConfig, FIELDS_BEFORE_THEY_EXISTED, mergeConfig, parseConfig, presetOf, readConfigFile, resolveConfig } from '../config.js';
import { testTempDir } from '../../testing/tempDir.js';

test('the defaults are the validated preset: relative noise, identity adaptor, graded validation every epoch choosing the weights, at least 6 epochs and 192 steps', () => {
  const c = defaultConfig();
  assert.equal(c.preset, 'validated');
  assert.equal(c.train.select, 'validation');
  assert.equal(c.validation.every, 1);
  assert.equal(c.validation.defects, 'graded');
  assert.deepEqual([c.train.epochs, c.train.minSteps], [6, 192]);
  assert.deepEqual([c.head.noiseScale, c.head.noiseStd, c.head.adaptorInit], ['feature-std', 0.5, 'identity']);
  assert.equal(c.threshold.validationFraction, 0.1);
  assert.equal(c.head.hiddenDim, 512);
  assert.equal(presetOf(c), 'validated');
  assert.equal(presetOf(parseConfig({ head: { hiddenDim: 1024 } })), 'validated', 'the width is a size, not a mechanism');
  assert.equal(c.map.transform, 'sigmoid');
});

test("preset 'paper': 160 epochs unless given, and the paper's mechanisms whatever else is asked", () => {
  const p = parseConfig(applyPreset({ train: { guard: { enabled: true }, ema: 0.9, select: 'validation' }, head: { noiseScale: 'feature-std' } }, 'paper'));
  assert.equal(p.train.epochs, 160);
  assert.equal(p.train.select, 'final');
  assert.equal(p.train.guard.enabled, false);
  assert.equal(p.train.ema, 0);
  assert.equal(p.head.noiseScale, 'absolute');
  assert.equal(p.head.noiseStd, 0.015);
  assert.equal(p.head.adaptorInit, 'xavier');
  assert.equal(p.validation.defects, 'large');
  assert.equal(p.image.fit, 'crop', 'the paper centre-crops');
  assert.equal(parseConfig(applyPreset({ image: { fit: 'letterbox' } }, 'paper')).image.fit, 'crop');
  assert.equal(p.head.loss, 'truncated-l1');
  assert.equal(parseConfig(applyPreset({ head: { loss: 'logistic' } }, 'paper')).head.loss, 'truncated-l1', 'the paper forces its loss');
  assert.equal(p.head.noiseSpread, 1);
  assert.equal(parseConfig(applyPreset({ head: { noiseSpread: 2 } }, 'paper')).head.noiseSpread, 1, 'the paper forces one σ');
  assert.equal(p.head.hardFraction, 1);
  assert.equal(p.head.dataDirections, 0);
  assert.equal(parseConfig(applyPreset({ head: { dataDirections: 0.5 } }, 'paper')).head.dataDirections, 0, 'the paper draws Gaussian offsets only');
  assert.equal(p.head.extrapolatedFakes, 0);
  assert.equal(parseConfig(applyPreset({ head: { extrapolatedFakes: 0.25 } }, 'paper')).head.extrapolatedFakes, 0, 'the paper has no fakes past the data');
  assert.equal(p.train.noiseDecay, 1);
  assert.equal(p.head.noiseLocality, 0);
  assert.equal(parseConfig(applyPreset({ head: { noiseLocality: 1 } }, 'paper')).head.noiseLocality, 0, 'the paper draws one σ for all');
  assert.equal(p.train.syntheticFakes, 'none');
  assert.equal(
    parseConfig(applyPreset({ train: { syntheticFakes: 'stains+rescaled' } }, 'paper')).train.syntheticFakes,
    'none',
    'the paper has Gaussian fakes only',
  );
  assert.equal(p.head.hiddenDim, 1024);
  assert.equal(parseConfig(applyPreset({ head: { hiddenDim: 512 } }, 'paper')).head.hiddenDim, 1024, "the paper's discriminator is 1024 wide");
  assert.equal(p.train.haloReals, 0);
  assert.equal(parseConfig(applyPreset({ train: { haloReals: 2 } }, 'paper')).train.haloReals, 0, 'the paper trains no ring around defects');
  assert.equal(p.train.haloTarget, 0);
  assert.equal(parseConfig(applyPreset({ train: { haloReals: 2, haloTarget: 0.5 } }, 'paper')).train.haloTarget, 0, 'nor a soft target for it');
  assert.equal(p.train.haloFrom, 1);
  assert.equal(parseConfig(applyPreset({ train: { haloReals: 2, haloFrom: 2 } }, 'paper')).train.haloFrom, 1, 'nor its inner radius');
  assert.equal(p.train.partialPatches, 'clean');
  assert.equal(parseConfig(applyPreset({ train: { partialPatches: 'coverage' } }, 'paper')).train.partialPatches, 'clean', 'nor the partly covered patches');
  assert.equal(p.head.ascentSteps, 0);
  assert.equal(parseConfig(applyPreset({ head: { ascentSteps: 1 } }, 'paper')).head.ascentSteps, 0, 'the paper keeps the drawn fakes');
  assert.equal(parseConfig(applyPreset({ train: { noiseDecay: 0.5 } }, 'paper')).train.noiseDecay, 1, 'the paper keeps one σ');
  assert.equal(parseConfig(applyPreset({ head: { hardFraction: 0.5 } }, 'paper')).head.hardFraction, 1, 'the paper trains on every row');
  assert.equal(p.threshold.floor, 'none');
  assert.equal(parseConfig(applyPreset({ threshold: { floor: 'training' } }, 'paper')).threshold.floor, 'none', 'the held-out quantile alone');
  assert.equal(p.map.transform, 'none');
  assert.equal(parseConfig(applyPreset({ map: { transform: 'sigmoid' } }, 'paper')).map.transform, 'none', 'the paper maps −D');
  assert.equal(parseConfig({ threshold: { floor: 'training' } }).threshold.floor, 'training');
  assert.equal(p.preset, 'paper');
  assert.equal(presetOf(p), 'paper');
  assert.equal(parseConfig(applyPreset({ train: { epochs: 8 } }, 'paper')).train.epochs, 8);
  // A config file can name the preset too.
  assert.equal(parseConfig(applyPreset({ preset: 'paper' })).train.select, 'final');
});

test('presetOf judges what runs, not what was asked', () => {
  assert.equal(presetOf(parseConfig({ train: { guard: { enabled: true } } })), 'custom');
  const paper = {
    image: { fit: 'crop' },
    head: { noiseScale: 'absolute', adaptorInit: 'xavier', loss: 'truncated-l1', ascentSteps: 0, extrapolatedFakes: 0, hiddenDim: 1024 },
    train: { syntheticFakes: 'none' },
    map: { transform: 'none' },
  };
  assert.equal(presetOf(parseConfig({ ...paper, train: { ...paper.train, select: 'final' } })), 'paper');
  assert.equal(presetOf(parseConfig({ ...paper, map: {}, train: { ...paper.train, select: 'final' } })), 'custom', "the paper's model with probability maps");
  assert.equal(presetOf(parseConfig({ map: { transform: 'none' } })), 'custom', 'the validated preset with maps of −D');
  assert.throws(() => parseConfig({ map: { transform: 'softmax' } }), /map\.transform/);
  const narrow = { ...paper, head: { ...paper.head, hiddenDim: 512 }, train: { ...paper.train, select: 'final' } };
  assert.equal(presetOf(parseConfig(narrow)), 'custom', "the paper's rule with a narrower discriminator");
  assert.equal(presetOf(parseConfig({ ...paper, train: { select: 'final' } })), 'custom', "the paper's head with stained fakes");
  assert.equal(presetOf(parseConfig({ ...paper, validation: { every: 0 } })), 'paper', 'nothing to validate on: the final weights');
  assert.equal(presetOf(parseConfig({ ...paper, threshold: { validationFraction: 0 } })), 'paper');
  assert.equal(presetOf(parseConfig({ head: paper.head, train: { select: 'final' } })), 'custom', "the paper's rule on a squashed image");
  assert.equal(presetOf(parseConfig({ train: { select: 'final' } })), 'custom', "the validated preset's head with the paper's rule");
  assert.equal(presetOf(parseConfig({ head: paper.head })), 'custom', "the paper's head chosen on validation (the issue-6 'validated')");
  assert.equal(presetOf(parseConfig({ train: { haloTarget: 0.5 } })), 'custom', 'the validated preset with a soft ring');
  assert.equal(presetOf(parseConfig({ train: { haloFrom: 1 } })), 'custom', 'the validated preset with the adjacent patches in the ring');
  assert.equal(presetOf(parseConfig({ train: { haloReals: 0 } })), 'custom', 'the validated preset without a ring');
  assert.equal(
    presetOf(parseConfig({ train: { haloReals: 2, haloFrom: 2, haloTarget: 0 } })),
    'validated',
    'the ring two out, trained as normal, is the default',
  );
  assert.equal(presetOf(parseConfig({ train: { partialPatches: 'coverage' } })), 'custom', 'the validated preset with the partly covered patches');
  assert.equal(presetOf(parseConfig({ image: { fit: 'crop' } })), 'custom', 'validation on the centre crop');
  assert.equal(presetOf(parseConfig({ head: { adaptorInit: 'standardize' } })), 'custom');
  assert.equal(presetOf(parseConfig({ head: { loss: 'truncated-l1' } })), 'custom', "the validated preset with the paper's loss");
  assert.equal(parseConfig({}).head.loss, 'logistic');
  assert.equal(presetOf(parseConfig({ ...paper, head: { ...paper.head, loss: 'logistic' }, train: { ...paper.train, select: 'final' } })), 'custom');
  assert.throws(() => parseConfig({ head: { loss: 'hinge' } }), /head\.loss/);
  assert.equal(presetOf(parseConfig({ head: { noiseSpread: 2 } })), 'custom');
  assert.throws(() => parseConfig({ head: { noiseSpread: 0.5 } }), /head\.noiseSpread/);
  assert.equal(presetOf(parseConfig({ head: { hardFraction: 0.5 } })), 'custom');
  assert.equal(presetOf(parseConfig({ head: { dataDirections: 0.5 } })), 'custom');
  assert.throws(() => parseConfig({ head: { dataDirections: 1.5 } }), /head\.dataDirections/);
  assert.equal(presetOf(parseConfig({ head: { extrapolatedFakes: 0 } })), 'custom');
  assert.equal(parseConfig({}).head.extrapolatedFakes, 0.25, 'the validated default');
  assert.throws(() => parseConfig({ head: { extrapolatedFakes: 1.5 } }), /head\.extrapolatedFakes/);
  assert.equal(presetOf(parseConfig({ train: { noiseDecay: 0.5 } })), 'custom');
  assert.equal(presetOf(parseConfig({ head: { noiseLocality: 1 } })), 'custom');
  assert.throws(() => parseConfig({ head: { noiseLocality: 3 } }), /head\.noiseLocality/);
  assert.equal(parseConfig({}).train.syntheticFakes, 'stains+rescaled', 'the validated default');
  assert.equal(parseConfig({}).head.fakesThroughAdaptor, true, 'the validated default');
  assert.equal(presetOf(parseConfig({ head: { fakesThroughAdaptor: false } })), 'custom', 'the validated preset with data-made fakes as A + δ');
  assert.equal(
    presetOf(parseConfig({ ...paper, head: { ...paper.head, fakesThroughAdaptor: true }, train: { ...paper.train, select: 'final' } })),
    'paper',
    'no data-made fakes: the field changes nothing',
  );
  assert.equal(presetOf(parseConfig({ train: { syntheticFakes: 'none' } })), 'custom', 'the validated preset without image-level fakes');
  assert.equal(presetOf(parseConfig({ train: { syntheticFakes: 'stains' } })), 'custom', 'the validated preset with the stains alone');
  assert.throws(() => parseConfig({ train: { syntheticFakes: 'texture' } }), /train\.syntheticFakes/);
  assert.equal(presetOf(parseConfig({ head: { ascentSteps: 0 } })), 'custom', 'the validated preset without the ascent');
  assert.equal(presetOf(parseConfig({ head: { ascentSize: 0.5 } })), 'custom');
  assert.equal(parseConfig({}).head.ascentSteps, 1);
  assert.equal(parseConfig({}).head.ascentSize, 0.1);
  assert.throws(() => parseConfig({ head: { ascentSteps: 1.5 } }), /head\.ascentSteps/);
  for (const d of [0, 1.5]) assert.throws(() => parseConfig({ train: { noiseDecay: d } }), /train\.noiseDecay/);
  for (const f of [0, 1.5]) assert.throws(() => parseConfig({ head: { hardFraction: f } }), /head\.hardFraction/);
  assert.throws(() => parseConfig({ image: { fit: 'zoom' } }), /image\.fit/);
  assert.equal(presetOf(parseConfig({ preset: 'custom' })), 'validated');
  assert.throws(() => parseConfig({ preset: 'fast' }), /preset/);
});

test('a model saved before a field existed loads with what ran then (Xavier adaptor, large validation defects)', () => {
  const saved = { head: { noiseScale: 'absolute', noiseStd: 0.015 }, train: { epochs: 32 } };
  const c = parseConfig(mergeConfig(FIELDS_BEFORE_THEY_EXISTED, saved));
  assert.deepEqual([c.head.adaptorInit, c.head.loss, c.validation.defects, c.head.noiseStd], ['xavier', 'truncated-l1', 'large', 0.015]);
  assert.equal(c.threshold.floor, 'none');
  assert.equal(c.train.syntheticFakes, 'none', 'Gaussian fakes only, then');
  assert.equal(c.head.fakesThroughAdaptor, false, 'data-made fakes as A + δ, then');
  assert.equal(c.map.transform, 'none', 'maps of −D, then');
  assert.equal(c.train.haloReals, 0, 'no ring, then');
  const ringed = parseConfig(mergeConfig(FIELDS_BEFORE_THEY_EXISTED, { train: { syntheticFakes: 'stains+rescaled', haloReals: 2, haloTarget: 0.5 } }));
  assert.equal(ringed.train.haloFrom, 1, 'a ring saved before its inner radius existed started at the adjacent patches');
  assert.equal(parseConfig({}).threshold.floor, 'training', 'the validated default');
  assert.throws(() => parseConfig({ threshold: { floor: 'test' } }), /threshold\.floor/);
  // Saved values always win over the filler.
  assert.equal(parseConfig(mergeConfig(FIELDS_BEFORE_THEY_EXISTED, { head: { adaptorInit: 'identity' } })).head.adaptorInit, 'identity');
});

test('--config takes a file or, where no file has that name, the JSON object itself', async () => {
  assert.deepEqual(await readConfigFile(' {"train":{"haloReals":3}}'), { train: { haloReals: 3 } });
  assert.equal((await resolveConfig('{"train":{"haloReals":3}}')).train.haloReals, 3);
  const long = JSON.stringify({ train: { haloReals: 3 }, note: 'x'.repeat(300) });
  assert.deepEqual(await readConfigFile(long), JSON.parse(long), 'longer than a file name may be');
  assert.deepEqual(await readConfigFile('{"note":"a/b/c"}'), { note: 'a/b/c' }, 'slashes, as in a path');
  await assert.rejects(readConfigFile('{"train":'), /^Error: \{"train":: no such config file, and not valid JSON either \(/);
  await assert.rejects(readConfigFile('{x}'), /no such config file, and not valid JSON either/);
  await assert.rejects(
    resolveConfig('{"train":{"haloReals":9}}'),
    /^Error: \{"train":\{"haloReals":9\}\}: train\.haloReals: /,
    'a bad field names the argument',
  );
  await assert.rejects(readConfigFile('missing.json'), /missing\.json: cannot read config file \(ENOENT\)/, 'a path is still a path');
  // A file named like JSON, given as a relative path that starts with '{', is read as the file.
  const dir = testTempDir('simplenet-config-');
  writeFileSync(join(dir, '{"a":1}'), '{"train":{"haloReals":1,"haloFrom":1}}');
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    assert.deepEqual(await readConfigFile('{"a":1}'), { train: { haloReals: 1, haloFrom: 1 } }, 'a file of that name wins');
  } finally {
    process.chdir(cwd);
  }
});
