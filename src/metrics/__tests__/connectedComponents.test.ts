import assert from 'node:assert/strict';
import { test } from 'node:test';
import { golden } from '../../testing/golden.js';
import { connectedComponents } from '../connectedComponents.js';

test('labels equal skimage.measure.label(connectivity=2), numbering included', () => {
  const mask = golden('metrics/components_mask.npy');
  const expected = golden('metrics/components_labels.npy').data as Int32Array;
  const [height, width] = mask.dims;
  const { labels, count } = connectedComponents(mask.data as Uint8Array, width, height);
  assert.deepEqual(Array.from(labels), Array.from(expected));
  assert.equal(count, Math.max(...expected));
});

test('corner-touching pixels are one region; out and firstLabel place labels', () => {
  // prettier-ignore
  const mask = new Uint8Array([1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1]);
  const out = new Uint32Array(12).fill(99);
  const { labels, count } = connectedComponents(mask, 4, 3, { out, firstLabel: 5 });
  assert.equal(labels, out);
  assert.equal(count, 3);
  assert.deepEqual(Array.from(labels), [5, 0, 0, 6, 0, 5, 0, 0, 0, 0, 0, 7]);
});

test('sizes are checked', () => {
  assert.throws(() => connectedComponents(new Uint8Array(5), 2, 2), /'mask' must have width×height = 4 elements \(got 5\)/);
  assert.throws(() => connectedComponents(new Uint8Array(4), 2, 2, { out: new Uint32Array(3) }), /'out' must have 4/);
});
