import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadMvtec } from '../mvtec.js';
import { testTempDir } from '../../testing/tempDir.js';

function tree(files: string[]): string {
  const root = testTempDir('simplenet-mvtec-');
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), '');
  }
  return root;
}

test('masks are matched by stem, good test images get none, order is sorted', async () => {
  const root = tree([
    'c/train/good/b.png',
    'c/train/good/a.png',
    'c/train/good/notes.txt',
    'c/test/good/g1.png',
    'c/test/crack/002.png',
    'c/test/crack/001.png',
    'c/ground_truth/crack/001_mask.png',
    'c/ground_truth/crack/002_mask.png',
  ]);
  const d = await loadMvtec(root, 'c');
  assert.deepEqual(
    d.train.map((s) => s.path.slice(root.length)),
    ['/c/train/good/a.png', '/c/train/good/b.png'],
  );
  assert.deepEqual(
    d.test.map((s) => [s.defectType, s.label, s.maskPath?.slice(root.length)]),
    [
      ['crack', 1, '/c/ground_truth/crack/001_mask.png'],
      ['crack', 1, '/c/ground_truth/crack/002_mask.png'],
      ['good', 0, undefined],
    ],
  );
});

test('an orphan mask is an error naming it', async () => {
  const root = tree(['c/train/good/a.png', 'c/test/crack/001.png', 'c/ground_truth/crack/001_mask.png', 'c/ground_truth/crack/007_mask.png']);
  await assert.rejects(loadMvtec(root, 'c'), /007_mask\.png: mask without a matching image/);
});

test('a missing root is an error naming it', async () => {
  await assert.rejects(loadMvtec('/nonexistent/root', 'c'), /\/nonexistent\/root: dataset root is not a directory/);
});
