import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Sample } from '../../datasets/dataset.js';
import { FLOOR_IMAGES, floorImages, splitValidation } from '../validation.js';

const samples = (n: number): Sample[] => Array.from({ length: n }, (_, i) => ({ path: `good/${i}.png`, label: 0, defectType: 'good' }));

test('the validation split is seeded, disjoint, order-preserving and round(n · fraction) large', () => {
  const a = splitValidation(samples(209), 0.1, 0);
  assert.equal(a.validation.length, 21);
  assert.equal(a.train.length, 188);
  assert.deepEqual(splitValidation(samples(209), 0.1, 0), a);
  assert.notDeepEqual(splitValidation(samples(209), 0.1, 1).validation, a.validation);
  const held = new Set(a.validation.map((s) => s.path));
  assert.ok(a.train.every((s) => !held.has(s.path)));
  const idx = (s: Sample) => Number(s.path.match(/\d+/)![0]);
  for (const part of [a.train, a.validation]) part.forEach((s, i) => i > 0 && assert.ok(idx(s) > idx(part[i - 1])));
});

test('at least one image is held out and at least one is trained on', () => {
  assert.equal(splitValidation(samples(3), 0.01, 0).validation.length, 1);
  assert.equal(splitValidation(samples(3), 0.99, 0).train.length, 1);
  assert.deepEqual(splitValidation(samples(1), 0.5, 0).validation, []);
  assert.deepEqual(splitValidation(samples(5), 0, 0).validation, []);
  assert.throws(() => splitValidation(samples(5), 1, 0), /fraction must be in \[0, 1\)/);
});

test('the threshold floor scores every training image up to FLOOR_IMAGES, then a seeded, order-preserving choice', () => {
  const few = samples(FLOOR_IMAGES);
  assert.equal(floorImages(few, 0), few);
  const many = samples(3 * FLOOR_IMAGES);
  const a = floorImages(many, 0);
  assert.equal(a.length, FLOOR_IMAGES);
  assert.equal(new Set(a.map((s) => s.path)).size, FLOOR_IMAGES);
  assert.deepEqual(floorImages(many, 0), a);
  assert.notDeepEqual(floorImages(many, 1), a);
  const idx = (s: Sample) => Number(s.path.match(/\d+/)![0]);
  a.forEach((s, i) => i > 0 && assert.ok(idx(s) > idx(a[i - 1])));
});
