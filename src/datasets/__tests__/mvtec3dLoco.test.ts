import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDataset } from '../load.js';
import { testTempDir } from '../../testing/tempDir.js';

function tree(files: string[]): string {
  const root = testTempDir('simplenet-ds-');
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), '');
  }
  return root;
}
const rel = (root: string, p?: string) => p?.slice(root.length + 1);

test('MVTec 3D-AD: RGB images, masks in gt/ with the same name', async () => {
  const root = tree([
    'bagel/train/good/rgb/000.png',
    'bagel/train/good/xyz/000.tiff',
    'bagel/test/good/rgb/000.png',
    'bagel/test/good/gt/000.png',
    'bagel/test/crack/rgb/000.png',
    'bagel/test/crack/gt/000.png',
  ]);
  const d = await loadDataset({ format: 'mvtec3d', root, category: 'bagel' });
  assert.deepEqual(
    d.train.map((s) => rel(root, s.path)),
    ['bagel/train/good/rgb/000.png'],
  );
  assert.deepEqual(
    d.test.map((s) => [rel(root, s.path), s.label, rel(root, s.maskPath)]),
    [
      ['bagel/test/crack/rgb/000.png', 1, 'bagel/test/crack/gt/000.png'],
      ['bagel/test/good/rgb/000.png', 0, undefined],
    ],
  );
  const broken = tree(['c/train/good/rgb/000.png', 'c/test/cut/rgb/001.png', 'c/test/cut/gt/000.png']);
  await assert.rejects(loadDataset({ format: 'mvtec3d', root: broken, category: 'c' }), /cut\/rgb\/001\.png: no ground-truth mask/);
});

test('MVTec LOCO: one mask file per defect, all of them kept for the union', async () => {
  const root = tree([
    'juice/train/good/000.png',
    'juice/validation/good/100.png',
    'juice/test/good/000.png',
    'juice/test/logical_anomalies/000.png',
    'juice/ground_truth/logical_anomalies/000/000.png',
    'juice/ground_truth/logical_anomalies/000/001.png',
    'juice/test/structural_anomalies/003.png',
    'juice/ground_truth/structural_anomalies/003/000.png',
  ]);
  const d = await loadDataset({ format: 'loco', root, category: 'juice' });
  assert.equal(d.train.length, 1);
  const logical = d.test.find((s) => s.defectType === 'logical_anomalies');
  assert.equal(rel(root, logical?.maskPath), 'juice/ground_truth/logical_anomalies/000/000.png');
  assert.deepEqual(
    logical?.extraMaskPaths?.map((p) => rel(root, p)),
    ['juice/ground_truth/logical_anomalies/000/001.png'],
  );
  assert.equal(d.test.length, 3);
  const noMask = tree(['j/train/good/000.png', 'j/test/logical_anomalies/005.png']);
  await assert.rejects(loadDataset({ format: 'loco', root: noMask, category: 'j' }), /005\.png: no ground-truth masks/);
});
