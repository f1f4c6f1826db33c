import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import type { DecodedImage } from '../../images/decode.js';
import { cropBox, patchLabels, synthesizeDefect } from '../syntheticDefects.js';

const geometry = { resize: 36, crop: 32 };

function gradient(width: number, height: number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x * 5 + y * 3 + c * 40) % 256;
  return { data, width, height, channels: 3 };
}

test('synthetic defects are deterministic per seed, non-empty, inside the crop, and change only masked pixels', () => {
  const image = gradient(48, 40);
  const box = cropBox(48, 40, geometry);
  for (let seed = 0; seed < 20; seed++) {
    const a = synthesizeDefect(image, geometry, new Rng(seed));
    const b = synthesizeDefect(image, geometry, new Rng(seed));
    assert.deepEqual(a, b, `seed ${seed} is deterministic`);
    const area = a.mask.reduce((s, v) => s + v, 0);
    assert.ok(area > 0, `seed ${seed}: empty mask`);
    assert.ok(area <= 0.35 * box.size * box.size + 1, `seed ${seed}: area ${area}`);
    for (let y = 0; y < 40; y++) {
      for (let x = 0; x < 48; x++) {
        const p = y * 48 + x;
        if (a.mask[p]) assert.ok(x >= Math.floor(box.x0) && y >= Math.floor(box.y0) && x < box.x0 + box.size && y < box.y0 + box.size);
        else for (let c = 0; c < 3; c++) assert.equal(a.image.data[3 * p + c], image.data[3 * p + c]);
      }
    }
  }
  assert.notDeepEqual(synthesizeDefect(image, geometry, new Rng(1)).mask, synthesizeDefect(image, geometry, new Rng(2)).mask);
});

test('patch labels mark the feature-grid cells the mask covers', () => {
  // A 40×40 image: the crop box is 35.6 px from (2.2, 2.2); mask its left half.
  const mask = new Uint8Array(40 * 40);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 20; x++) mask[y * 40 + x] = 1;
  const labels = patchLabels(mask, 40, 40, geometry, { height: 4, width: 4 });
  assert.deepEqual(Array.from(labels), [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
});

test("'graded' defects span small to large areas (log-uniform, down to about two patches) and stay inside the crop", () => {
  const g = { resize: 329, crop: 288 };
  const image = gradient(300, 300);
  const box = cropBox(300, 300, g);
  const shares: number[] = [];
  for (let seed = 0; seed < 60; seed++) {
    const d = synthesizeDefect(image, g, new Rng(seed), 'graded');
    const area = d.mask.reduce((s, v) => s + v, 0);
    assert.ok(area > 0, `seed ${seed}: empty mask`);
    shares.push(area / (Math.floor(box.size) * Math.floor(box.size)));
  }
  shares.sort((a, b) => a - b);
  assert.ok(shares[0] < 0.005, `smallest share ${shares[0]}: 'large' never goes below 0.5 %`);
  assert.ok(shares[0] >= 0.001, `smallest share ${shares[0]}`);
  assert.ok(shares[shares.length - 1] > 0.1 && shares[shares.length - 1] <= 0.36, `largest share ${shares[shares.length - 1]}`);
  assert.ok(shares[30] < 0.05, `median share ${shares[30]}: log-uniform puts half below ~2 %`);
});
