import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp, { type Sharp } from 'sharp';
import { decodeImage, ImageDecodeError } from '../decode.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('simplenet-decode-');
after(() => rmSync(dir, { recursive: true, force: true }));
// 3×2 RGB pixels as rows of [r, g, b]
const rgb = Buffer.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 200, 210, 220]);

async function write(name: string, pipeline: Sharp): Promise<string> {
  const p = join(dir, name);
  await pipeline.png().toFile(p);
  return p;
}

test('8-bit RGB decodes to the same HWC pixels', async () => {
  const p = await write('rgb.png', sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } }));
  const im = await decodeImage(p);
  assert.deepEqual([im.width, im.height, im.channels], [3, 2, 3]);
  assert.deepEqual(Array.from(im.data), Array.from(rgb));
});

test('RGBA drops alpha (as PIL convert("RGB") does)', async () => {
  const rgba = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) {
    rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
    rgba[i * 4 + 3] = 17 * i;
  }
  const im = await decodeImage(await write('rgba.png', sharp(rgba, { raw: { width: 3, height: 2, channels: 4 } })));
  assert.deepEqual(Array.from(im.data), Array.from(rgb));
});

test('grey is replicated to three channels', async () => {
  const grey = Buffer.from([0, 50, 100, 150, 200, 255]);
  const im = await decodeImage(await write('grey.png', sharp(grey, { raw: { width: 3, height: 2, channels: 1 } })));
  assert.deepEqual(
    Array.from(im.data),
    Array.from(grey).flatMap((v) => [v, v, v]),
  );
  const one = await decodeImage(join(dir, 'grey.png'), { channels: 1 });
  assert.deepEqual(Array.from(one.data), Array.from(grey));
});

test('16-bit RGB and grey PNGs are scaled to 8 bits', async () => {
  const p16 = await write('rgb16.png', sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } }).toColourspace('rgb16'));
  assert.equal((await sharp(p16).metadata()).depth, 'ushort');
  assert.deepEqual(Array.from((await decodeImage(p16)).data), Array.from(rgb));
  const g = Buffer.from([0, 50, 100, 150, 200, 255]);
  const g16 = await write('grey16.png', sharp(g, { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('grey16'));
  assert.equal((await sharp(g16).metadata()).depth, 'ushort');
  assert.deepEqual(
    Array.from((await decodeImage(g16)).data),
    Array.from(g).flatMap((v) => [v, v, v]),
  );
});

test('a truncated file and a non-image are errors naming the file', async () => {
  const full = await write('full.png', sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } }));
  const { readFileSync } = await import('node:fs');
  const cut = join(dir, 'cut.png');
  writeFileSync(cut, readFileSync(full).subarray(0, 40));
  await assert.rejects(decodeImage(cut), (e: Error) => e instanceof ImageDecodeError && e.message.startsWith(`${cut}: cannot decode image`));
  const text = join(dir, 'text.jpg');
  writeFileSync(text, 'not an image');
  await assert.rejects(decodeImage(text), /text\.jpg: cannot decode image/);
});
