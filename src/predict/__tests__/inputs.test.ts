import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JET_LUT, overlayJet } from '../../images/colormap.js';
import { PREDICT_CSV_HEADER } from '../../io/artefacts.js';
import { expandInputs } from '../inputs.js';
import { OutputNamer } from '../writeOutputs.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('simplenet-inputs-');
after(() => rmSync(dir, { recursive: true, force: true }));

test('files, folders (recursive, sorted, images only) and globs expand to paths with relative names', () => {
  for (const p of ['a/good/1.png', 'a/good/0.JPG', 'a/bad/x.png', 'a/notes.txt', 'b.bmp']) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), '');
  }
  const rel = (args: string[]) => expandInputs(args).map((i) => i.relative);
  assert.deepEqual(rel([join(dir, 'a')]), ['a/bad/x.png', 'a/good/0.JPG', 'a/good/1.png']);
  assert.deepEqual(rel([join(dir, 'b.bmp')]), ['b.bmp']);
  assert.deepEqual(rel([join(dir, 'a/*/*.png')]), ['bad/x.png', 'good/1.png']);
  assert.deepEqual(rel([join(dir, '**/?.png')]), ['a/bad/x.png', 'a/good/1.png']);
  assert.throws(() => expandInputs([join(dir, 'missing.png')]), /missing\.png: no such file or folder/);
  assert.throws(() => expandInputs([join(dir, '*.webp')]), /\*\.webp: no image files match/);
});

test('links to images and folders are followed, a loop is walked once, a dangling image link is kept (to fail naming itself)', () => {
  const links = join(dir, 'links');
  mkdirSync(links);
  symlinkSync('../a/good/1.png', join(links, 'img.png'));
  symlinkSync('../a/good', join(links, 'folder'));
  symlinkSync('..', join(links, 'loop'));
  symlinkSync('nowhere.png', join(links, 'dead.png'));
  symlinkSync('nowhere.txt', join(links, 'dead.txt'));
  const got = expandInputs([links]);
  assert.deepEqual(
    got.map((i) => i.relative),
    ['links/dead.png', 'links/folder/0.JPG', 'links/folder/1.png', 'links/img.png', 'links/loop/a/bad/x.png', 'links/loop/b.bmp'],
  );
  assert.equal(got[3].path, join(links, 'img.png'));
  // A glob walks the same way.
  assert.deepEqual(
    expandInputs([join(links, '*.png')]).map((i) => i.relative),
    ['dead.png', 'img.png'],
  );
});

test('output names drop the extension and never collide', () => {
  const n = new OutputNamer('/out');
  assert.equal(n.stem('good/000.png'), '/out/good/000');
  assert.equal(n.stem('good/000.jpg'), '/out/good/000_2');
  assert.equal(n.stem('../x.png'), '/out/x');
});

test('jet runs dark blue → cyan → yellow → dark red and blends half over the image', () => {
  const at = (v: number) => Array.from(JET_LUT.subarray(3 * Math.round(v * 255), 3 * Math.round(v * 255) + 3));
  assert.deepEqual(at(0), [0, 0, 128]);
  assert.deepEqual(at(1), [128, 0, 0]);
  assert.deepEqual(overlayJet(new Uint8Array([200, 100, 0]), new Float32Array([0])), new Uint8Array([100, 50, 64]));
});

test('a walked folder skips our own outputs inside it: an earlier predict --out and temporaries', () => {
  const dir = testTempDir('simplenet-inputs-own-');
  try {
    writeFileSync(join(dir, 'a.png'), '');
    mkdirSync(join(dir, 'heatmaps'));
    // As predict --out writes it: its rows list the overlays and maps beside it.
    writeFileSync(join(dir, 'heatmaps', 'predictions.csv'), `${PREDICT_CSV_HEADER}\nimgs/a.png,1,0.5,1,a.png,a.npy\n`);
    writeFileSync(join(dir, 'heatmaps', 'a.png'), '');
    mkdirSync(join(dir, '.heatmaps.sn-abcdef-1-0123abcd.tmp'));
    writeFileSync(join(dir, '.heatmaps.sn-abcdef-1-0123abcd.tmp', 'b.png'), '');
    assert.deepEqual(
      expandInputs([dir]).map((i) => i.path),
      [join(dir, 'a.png')],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
