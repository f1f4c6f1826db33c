import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { FileError } from '../../io/ioError.js';
import { DEFAULT_MAX_PIXELS, decodeImage, ImageTooLargeError, MAX_PIXELS_ENV, maxPixels, setMaxPixels } from '../decode.js';
import { MaskLoader } from '../maskLoader.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('simplenet-image-limits-');
after(() => rmSync(dir, { recursive: true, force: true }));

const small = join(dir, 'small.png');
const rgb = Buffer.from([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 200, 210, 220]);

test('a 12000×12000 PNG (small on disk) is refused from its header, images and masks alike, with little memory', async () => {
  const big = join(dir, 'big.png');
  await sharp({ create: { width: 12000, height: 12000, channels: 3, background: '#ccc' } })
    .png()
    .toFile(big);
  assert.equal(maxPixels(), DEFAULT_MAX_PIXELS);
  const message = `${big}: image is 12000×12000 (144.0 megapixels), over the limit of 40000000 pixels; raise it with --max-pixels <n> or ${MAX_PIXELS_ENV}=<n>, or downscale the image`;
  const rss0 = process.memoryUsage().rss;
  await assert.rejects(decodeImage(big), (e: Error) => e instanceof ImageTooLargeError && e.message === message);
  await assert.rejects(decodeImage(big, { channels: 1 }), (e: Error) => e.message === message);
  const masks = await MaskLoader.create({ resize: 20, crop: 16 });
  try {
    await assert.rejects(masks.load(big), (e: Error) => e.message === message);
  } finally {
    await masks.release();
  }
  const grew = process.memoryUsage().rss - rss0;
  assert.ok(grew < 200 * 2 ** 20, `rss grew by ${(grew / 2 ** 20).toFixed(0)} MB`);
});

test('the cap is set per call, per process (setMaxPixels) or by SIMPLENET_MAX_PIXELS, in that order', async (t) => {
  await sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } })
    .png()
    .toFile(small);
  t.after(() => {
    setMaxPixels(undefined);
    delete process.env[MAX_PIXELS_ENV];
  });
  const tooLarge = (limit: number) => (e: Error) =>
    e instanceof ImageTooLargeError && e.message.startsWith(`${small}: image is 3×2 (0.0 megapixels), over the limit of ${limit} pixels`);
  assert.equal((await decodeImage(small, { maxPixels: 6 })).width, 3);
  await assert.rejects(decodeImage(small, { maxPixels: 5 }), tooLarge(5));
  process.env[MAX_PIXELS_ENV] = '5';
  await assert.rejects(decodeImage(small), tooLarge(5));
  setMaxPixels(4);
  await assert.rejects(decodeImage(small), tooLarge(4));
  assert.equal((await decodeImage(small, { maxPixels: 100 })).height, 2);
  setMaxPixels(undefined);
  process.env[MAX_PIXELS_ENV] = 'lots';
  await assert.rejects(decodeImage(small), /SIMPLENET_MAX_PIXELS='lots' must be a positive whole number of pixels/);
  assert.throws(() => setMaxPixels(0), /must be a positive whole number/);
});

test('unreadable inputs are reported as I/O errors naming the file, not as unsupported formats', async (t) => {
  await sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } })
    .png()
    .toFile(small);
  const folder = join(dir, 'folder.png');
  mkdirSync(folder);
  await assert.rejects(
    decodeImage(folder),
    (e: Error) => e instanceof FileError && e.message === `${folder}: cannot read image: is a folder, expected a file (EISDIR)`,
  );
  const missing = join(dir, 'missing.png');
  await assert.rejects(decodeImage(missing), (e: Error) => e.message === `${missing}: cannot read image: no such file or folder (ENOENT)`);
  const locked = join(dir, 'locked.png');
  await sharp(rgb, { raw: { width: 3, height: 2, channels: 3 } })
    .png()
    .toFile(locked);
  chmodSync(locked, 0o000);
  t.after(() => chmodSync(locked, 0o644));
  let readable = true;
  try {
    accessSync(locked, constants.R_OK);
  } catch {
    readable = false;
  }
  const denied = `${locked}: cannot read image: permission denied (EACCES)`;
  if (!readable) {
    await assert.rejects(decodeImage(locked), (e: Error) => e.message === denied);
    return;
  }
  // Root reads a mode-000 file anyway: decode it from a child process running as nobody instead.
  if (process.getuid?.() !== 0) return t.skip('this user may read a mode-000 file and cannot switch to another user');
  chmodSync(dir, 0o755);
  const url = new URL('../decode.js', import.meta.url).href;
  const script = `import(${JSON.stringify(url)}).then((m) => m.decodeImage(${JSON.stringify(locked)})).then(() => console.log('decoded'), (e) => console.log(e.message));`;
  const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(r.stdout.trim(), denied, r.stderr);
});
