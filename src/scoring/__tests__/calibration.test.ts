import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenJson } from '../../testing/golden.js';
import { goodImagesCalibration, parseCalibration, pixelCalibration, quantileSorted, strictThresholdBelow } from '../../model/calibration.js';

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
