import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { MaskLoader } from '../maskLoader.js';
import { testTempDir } from '../../testing/tempDir.js';

test('masks marked with 1 or 255 give the same binary mask in the crop frame', async () => {
  const dir = testTempDir('simplenet-mask-');
  const size = 20;
  const paths: string[] = [];
  for (const v of [1, 255]) {
    const px = Buffer.alloc(size * size);
    for (let y = 4; y < 12; y++) px.fill(v, y * size + 6, y * size + 14);
    const p = join(dir, `m${v}.png`);
    await sharp(px, { raw: { width: size, height: size, channels: 1 } })
      .png()
      .toFile(p);
    paths.push(p);
  }
  const loader = await MaskLoader.create({ resize: 20, crop: 16 });
  const [a, b] = [await loader.load(paths[0]), await loader.load(paths[1])];
  await loader.release();
  assert.deepEqual(Array.from(a.mask), Array.from(b.mask));
  // crop offset 2: rows 4..11 → 2..9, columns 6..13 → 4..11
  const ones = Array.from(a.mask).reduce((s, v) => s + v, 0);
  assert.equal(ones, 8 * 8);
  assert.equal(a.mask[2 * 16 + 4], 1);
  assert.equal(a.mask[1 * 16 + 4], 0);
});
