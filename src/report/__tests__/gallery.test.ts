import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { contour, encodeGallery, galleryPixels } from '../gallery.js';

// prettier-ignore
const BLOCK = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);

test('a contour is the region border, thickened outwards by one pixel', () => {
  // prettier-ignore
  assert.deepEqual(Array.from(contour(BLOCK, 6)), [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(contour(new Uint8Array(36), 6)), new Array(36).fill(0));
  // A region filling the frame is outlined along the frame.
  assert.equal(
    contour(new Uint8Array(36).fill(1), 6).reduce((a, b) => a + b, 0),
    20,
  );
});

test('three panels: input, heatmap overlay, ground truth (green) over predicted (red) contours', async () => {
  const size = 6;
  const crop = new Uint8Array(size * size * 3).fill(100);
  const map = new Float32Array(size * size);
  map[0] = 5; // predicted region: the top-left pixel
  const g = galleryPixels({ crop, map, mapNormalized: new Float32Array(size * size), pixelThreshold: 1, mask: BLOCK, size });
  assert.deepEqual([g.width, g.height], [3 * size + 8, size]);
  const px = (x: number, y: number) => Array.from(g.data.subarray(3 * (y * g.width + x), 3 * (y * g.width + x) + 3));
  assert.deepEqual(px(2, 2), [100, 100, 100]); // input
  assert.deepEqual(px(size, 0), [255, 255, 255]); // gap
  assert.deepEqual(px(size + 4 + 2, 2), [50, 50, 114]); // jet(0) = (0, 0, 128) blended half over grey 100
  const third = 2 * (size + 4);
  assert.deepEqual(px(third + 1, 1), [0, 230, 0]); // ground-truth border
  assert.deepEqual(px(third, 0), [255, 40, 40]); // predicted region
  assert.deepEqual(px(third + 2, 2), [100, 100, 100]); // inside the region: the input
  const { png, thumbnail } = await encodeGallery({ crop, map, mapNormalized: new Float32Array(size * size), pixelThreshold: 1, size });
  assert.deepEqual([(await sharp(png).metadata()).width, (await sharp(thumbnail).metadata()).format], [26, 'jpeg']);
});
