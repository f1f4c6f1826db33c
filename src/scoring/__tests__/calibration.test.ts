import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenJson } from '../../testing/golden.js';
import { normalQuantile } from '../../metrics/normalQuantile.js';
import {
  goodImagesCalibration,
  parseCalibration,
  pixelCalibration,
  quantileSorted,
  strictThresholdBelow,
  trainingImagesAbove,
  upperQuantile,
  withTrainingFloor,
} from '../../model/calibration.js';

const cases = goldenJson<Record<string, { values: number[]; q: number[]; expected: number[] }>>('metrics/quantile_expected.json');

for (const [name, c] of Object.entries(cases)) {
  test(`quantileSorted matches numpy.quantile: ${name}`, () => {
    const sorted = [...c.values].sort((a, b) => a - b);
    c.q.forEach((q, i) => assert.ok(Math.abs(quantileSorted(sorted, q) - c.expected[i]) <= 1e-12, `q=${q}: ${quantileSorted(sorted, q)} vs ${c.expected[i]}`));
  });
}

test('thresholds from good images: image and map-maximum quantiles, observed ranges', () => {
  const c = goodImagesCalibration([1, 3, 2, 4], { max: [10, 30, 20, 40], min: -5, maxValue: 40 }, 0.5);
  assert.equal(c.thresholdSource, 'validation-quantile');
  assert.equal(c.imageThreshold, 2.5);
  assert.deepEqual([c.min, c.max], [1, 4]);
  assert.equal(c.pixelThreshold, 25);
  assert.deepEqual(pixelCalibration(c), { threshold: 25, range: 45 });
  assert.equal(c.stats?.images.n, 4);
  assert.equal(c.stats?.images.mean, 2.5);
});

test('normalQuantile matches scipy.stats.norm.ppf (reference/golden_threshold.py), and refuses p outside (0, 1)', () => {
  for (const { p, z } of goldenJson<{ p: number; z: number }[]>('threshold/norm_ppf.json')) {
    assert.ok(Math.abs(normalQuantile(p) - z) <= 2e-9 * Math.max(1, Math.abs(z)), `p=${p}: ${normalQuantile(p)} vs ${z}`);
  }
  for (const p of [0, 1, -0.1, Number.NaN]) assert.throws(() => normalQuantile(p), /p must be in \(0, 1\)/);
});

test("the 'normal' estimator: mean + z_q · sample std, never below the empirical quantile; 'empirical' is numpy's", () => {
  // 21 scores 0..20: mean 10, sample std sqrt(38.5); numpy's 0.995-quantile 19.9 (nearly the max).
  const scores = Array.from({ length: 21 }, (_, i) => i);
  const maps = { max: scores.map((x) => x / 10), min: -1, maxValue: 2 };
  const empirical = goodImagesCalibration(scores, maps, 0.995, 'empirical');
  assert.ok(Math.abs(empirical.imageThreshold - 19.9) < 1e-12);
  const normal = goodImagesCalibration(scores, maps, 0.995, 'normal');
  const want = 10 + normalQuantile(0.995) * Math.sqrt(38.5);
  assert.ok(Math.abs(normal.imageThreshold - want) < 1e-12, `${normal.imageThreshold} vs ${want}`);
  assert.ok(Math.abs((normal.pixelThreshold as number) - want / 10) < 1e-12);
  assert.equal(normal.estimator, 'normal');
  assert.equal(parseCalibration(JSON.parse(JSON.stringify(normal)), 'm.json').estimator, 'normal');
  // A heavy upper tail the normal fit underestimates: the observed quantile stands.
  const tail = [...Array(20).fill(1), 100];
  const s = goodImagesCalibration(tail, { max: tail, min: 0, maxValue: 100 }, 0.995, 'normal');
  assert.equal(s.imageThreshold, upperQuantile(s.stats!.images, 'empirical'));
  assert.ok(s.imageThreshold > 90);
});

test('older calibrations without pixel fields normalise maps like scores', () => {
  const c = parseCalibration({ imageThreshold: 2, min: 1, max: 5, thresholdSource: 'train-max' }, 'm.json');
  assert.deepEqual(pixelCalibration(c), { threshold: 2, range: 4 });
  assert.throws(
    () => parseCalibration({ imageThreshold: 2, min: 1, max: 5, pixelThreshold: 1 }, 'm.json'),
    /m\.json: scoring\.pixelMin must be a finite number/,
  );
});

test('strictThresholdBelow turns ">= t" into "> threshold" on the same values', () => {
  const v = [0.1, 0.4, 0.35, 0.8];
  assert.equal(strictThresholdBelow(v, 0.35), 0.1);
  const t = strictThresholdBelow(v, 0.1);
  assert.ok(t < 0.1 && v.every((x) => x > t));
});

test('the training floor: each threshold is the larger estimate, ranges stay the held-out ones, the floor is kept and read back', () => {
  // Held out: scores 0..4, map maxima 10..14; training: wider image scores, narrower map maxima.
  const held = goodImagesCalibration([0, 1, 2, 3, 4], { max: [10, 11, 12, 13, 14], min: -1, maxValue: 14 }, 0.995, 'normal');
  const training = goodImagesCalibration([0, 2, 4, 6, 8, 10], { max: [11, 11, 12, 12, 12, 12], min: -3, maxValue: 12 }, 0.995, 'normal');
  assert.ok(training.imageThreshold > held.imageThreshold && training.pixelThreshold! < held.pixelThreshold!, 'the case has one floor binding, one not');
  const c = withTrainingFloor(held, training);
  assert.equal(c.imageThreshold, training.imageThreshold);
  assert.equal(c.pixelThreshold, held.pixelThreshold);
  assert.deepEqual([c.min, c.max, c.pixelMin, c.pixelMax, c.thresholdSource], [0, 4, -1, 14, 'training-floor']);
  assert.deepEqual(c.floor, {
    imageThreshold: training.imageThreshold,
    pixelThreshold: training.pixelThreshold,
    stats: { images: training.stats?.images, mapMax: training.stats?.mapMax },
  });
  assert.deepEqual(parseCalibration(JSON.parse(JSON.stringify(c)), 'm.json'), c);
  // A floor below both held-out thresholds changes neither.
  const low = goodImagesCalibration([0, 0.1], { max: [1, 1.1], min: 0, maxValue: 1.1 }, 0.995, 'normal');
  const same = withTrainingFloor(held, low);
  assert.deepEqual([same.imageThreshold, same.pixelThreshold, same.thresholdSource], [held.imageThreshold, held.pixelThreshold, 'validation-quantile']);
  assert.throws(() => withTrainingFloor(held, { imageThreshold: 1, min: 0, max: 1, thresholdSource: 'train-max' }), /pixel thresholds/);
});

test('training images above a held-out threshold: reported past ten times the asked share (1 − q) and at least 3 images', () => {
  const scores = Array.from({ length: 100 }, (_, i) => i); // 0..99
  // q 0.995 asks for 0.5 %: more than 5 of 100 above is reported, 5 is not.
  assert.deepEqual(trainingImagesAbove(scores, 93.5, 0.995), { above: 6, n: 100 });
  assert.equal(trainingImagesAbove(scores, 94.5, 0.995), undefined);
  // q 0.95 asks for 5 %: only more than half the images is ten times that.
  assert.equal(trainingImagesAbove(scores, 60, 0.95), undefined);
  assert.deepEqual(trainingImagesAbove(scores, 40, 0.95), { above: 59, n: 100 });
  // q 1 asks for none, but two images are too few to say anything.
  assert.equal(trainingImagesAbove(scores, 97.5, 1), undefined);
  assert.deepEqual(trainingImagesAbove(scores, 96.5, 1), { above: 3, n: 100 });
});
