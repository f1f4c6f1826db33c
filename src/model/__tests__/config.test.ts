import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyPreset, defaultConfig, parseConfig, presetOf } from '../config.js';

test('the defaults are the validated preset: best-by-validation weights, validation every 2 epochs, 32 epochs', () => {
  const c = defaultConfig();
  assert.equal(c.preset, 'validated');
  assert.equal(c.train.select, 'validation');
  assert.equal(c.validation.every, 2);
  assert.equal(c.train.epochs, 32);
  assert.equal(c.threshold.validationFraction, 0.1);
  assert.equal(presetOf(c), 'validated');
});

test("preset 'paper': 160 epochs unless given, and the paper's mechanisms whatever else is asked", () => {
  const p = parseConfig(applyPreset({ train: { guard: { enabled: true }, ema: 0.9, select: 'validation' }, head: { noiseScale: 'feature-std' } }, 'paper'));
  assert.equal(p.train.epochs, 160);
  assert.equal(p.train.select, 'final');
  assert.equal(p.train.guard.enabled, false);
  assert.equal(p.train.ema, 0);
  assert.equal(p.head.noiseScale, 'absolute');
  assert.equal(p.image.fit, 'crop', 'the paper centre-crops');
  assert.equal(parseConfig(applyPreset({ image: { fit: 'letterbox' } }, 'paper')).image.fit, 'crop');
  assert.equal(p.preset, 'paper');
  assert.equal(presetOf(p), 'paper');
  assert.equal(parseConfig(applyPreset({ train: { epochs: 8 } }, 'paper')).train.epochs, 8);
  // A config file can name the preset too.
  assert.equal(parseConfig(applyPreset({ preset: 'paper' })).train.select, 'final');
});

test('presetOf judges what runs, not what was asked', () => {
  assert.equal(presetOf(parseConfig({ train: { guard: { enabled: true } } })), 'custom');
  const crop = { fit: 'crop' };
  assert.equal(presetOf(parseConfig({ image: crop, train: { select: 'final' } })), 'paper');
  assert.equal(presetOf(parseConfig({ image: crop, validation: { every: 0 } })), 'paper', 'nothing to validate on: the final weights');
  assert.equal(presetOf(parseConfig({ image: crop, threshold: { validationFraction: 0 } })), 'paper');
  assert.equal(presetOf(parseConfig({ train: { select: 'final' } })), 'custom', "the paper's rule on a squashed image");
  assert.equal(presetOf(parseConfig({ image: crop })), 'custom', 'validation on the centre crop');
  assert.throws(() => parseConfig({ image: { fit: 'zoom' } }), /image\.fit/);
  assert.equal(presetOf(parseConfig({ preset: 'custom' })), 'validated');
  assert.throws(() => parseConfig({ preset: 'fast' }), /preset/);
});
