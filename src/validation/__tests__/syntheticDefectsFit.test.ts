import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import type { DecodedImage } from '../../images/decode.js';
import { patchLabels, synthesizeDefect } from '../syntheticDefects.js';

function gradient(width: number, height: number): DecodedImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x * 5 + y * 3 + c * 40) % 256;
  return { data, width, height, channels: 3 };
}

test('squash and letterbox: synthetic defects may lie anywhere in the image, not only the centre crop', () => {
  const image = gradient(96, 32);
  for (const fit of ['squash', 'letterbox'] as const) {
    let outsideCrop = 0;
    for (let seed = 0; seed < 30; seed++) {
      const d = synthesizeDefect(image, { resize: 36, crop: 32, fit }, new Rng(seed));
      assert.ok(
        d.mask.some((v) => v === 1),
        `${fit} seed ${seed}: empty`,
      );
      // The centre crop of a 96×32 image at resize = crop spans x 32..63.
      for (let y = 0; y < 32; y++) for (let x = 0; x < 96; x++) if (d.mask[y * 96 + x] && (x < 32 || x >= 64)) outsideCrop++;
    }
    assert.ok(outsideCrop > 0, `${fit}: defects reach the sides`);
  }
});

test('patch labels follow the fit: squash stretches x, letterbox pads, padding is never defective', () => {
  // 64×32, the left half masked.
  const mask = new Uint8Array(64 * 32);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) mask[y * 64 + x] = 1;
  const grid = { height: 4, width: 4 };
  const squash = patchLabels(mask, 64, 32, { resize: 32, crop: 32, fit: 'squash' }, grid);
  assert.deepEqual(Array.from(squash), [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
  // Letterbox: the image fills frame rows 8..23 (grid rows 1 and 2); rows 0 and 3 are padding.
  const letterbox = patchLabels(mask, 64, 32, { resize: 32, crop: 32, fit: 'letterbox' }, grid);
  assert.deepEqual(Array.from(letterbox), [0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
  const all = new Uint8Array(64 * 32).fill(1);
  assert.deepEqual(Array.from(patchLabels(all, 64, 32, { resize: 32, crop: 32, fit: 'letterbox' }, grid)), [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
});
