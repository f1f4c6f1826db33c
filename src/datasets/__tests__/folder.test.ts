import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadFolder } from '../folder.js';
import { loadVisa } from '../visa.js';
import { testTempDir } from '../../testing/tempDir.js';

function tree(files: Record<string, string> | string[]): string {
  const root = testTempDir('simplenet-ds-');
  const entries = Array.isArray(files) ? files.map((f) => [f, ''] as const) : Object.entries(files);
  for (const [f, content] of entries) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), content);
  }
  return root;
}

const rel = (root: string, p?: string) => p?.slice(root.length + 1);

test('folder: good, defective and masks matched by stem (with or without _mask)', async () => {
  const root = tree(['good/a.png', 'good/b.jpg', 'good/c.txt', 'good_test/t.png', 'scratch/1.png', 'dent/2.png', 'masks/1_mask.png', 'masks/2.png']);
  const d = await loadFolder({
    normalDir: join(root, 'good'),
    normalTestDir: join(root, 'good_test'),
    abnormalDirs: [join(root, 'scratch'), join(root, 'dent')],
    maskDir: join(root, 'masks'),
  });
  assert.deepEqual(
    d.train.map((s) => rel(root, s.path)),
    ['good/a.png', 'good/b.jpg'],
  );
  assert.deepEqual(
    d.test.map((s) => [rel(root, s.path), s.label, s.defectType, rel(root, s.maskPath)]),
    [
      ['good_test/t.png', 0, 'good', undefined],
      ['scratch/1.png', 1, 'scratch', 'masks/1_mask.png'],
      ['dent/2.png', 1, 'dent', 'masks/2.png'],
    ],
  );
  assert.equal(d.hasMasks, true);
  assert.equal(d.category, 'good');
});

test('folder: without a normal test dir a seeded share of good images is held out, never trained on', async () => {
  const root = tree(Array.from({ length: 10 }, (_, i) => `good/${i}.png`));
  const a = await loadFolder({ normalDir: join(root, 'good'), seed: 3 });
  const b = await loadFolder({ normalDir: join(root, 'good'), seed: 3 });
  const c = await loadFolder({ normalDir: join(root, 'good'), seed: 4 });
  assert.equal(a.test.length, 2);
  assert.equal(a.train.length, 8);
  assert.deepEqual(a.test, b.test);
  assert.notDeepEqual(
    a.test.map((s) => s.path),
    c.test.map((s) => s.path),
  );
  const trained = new Set(a.train.map((s) => s.path));
  assert.ok(a.test.every((s) => !trained.has(s.path)));
  assert.equal(a.hasMasks, false);
});

test('folder: bad input names the path', async () => {
  const root = tree(['good/a.png', 'bad/1.png', 'bad/2.png', 'masks/1.png', 'masks/9.png', 'empty/x.txt']);
  await assert.rejects(loadFolder({ normalDir: join(root, 'nope') }), /nope: the normal \(good\) image directory is not a directory/);
  await assert.rejects(loadFolder({ normalDir: join(root, 'empty') }), /empty: no images/);
  await assert.rejects(
    loadFolder({ normalDir: join(root, 'good'), abnormalDirs: [join(root, 'bad')], maskDir: join(root, 'masks') }),
    /bad\/2\.png: no mask named '2'/,
  );
  const orphan = tree(['good/a.png', 'bad/1.png', 'masks/1.png', 'masks/9.png']);
  await assert.rejects(
    loadFolder({ normalDir: join(orphan, 'good'), abnormalDirs: [join(orphan, 'bad')], maskDir: join(orphan, 'masks') }),
    /masks\/9\.png: mask without a matching defective image/,
  );
});

const CSV = `object,split,label,image,mask
candle,train,normal,candle/Data/Images/Normal/0000.JPG,
candle,train,normal,candle/Data/Images/Normal/0001.JPG,
candle,test,normal,candle/Data/Images/Normal/0002.JPG,
candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png
pcb1,train,normal,pcb1/Data/Images/Normal/0000.JPG,
`;

test('visa: the 1cls split, by object', async () => {
  const root = tree({
    'split_csv/1cls.csv': CSV,
    'candle/Data/Images/Normal/0000.JPG': '',
    'candle/Data/Images/Normal/0001.JPG': '',
    'candle/Data/Images/Normal/0002.JPG': '',
    'candle/Data/Images/Anomaly/000.JPG': '',
    'candle/Data/Masks/Anomaly/000.png': '',
  });
  const d = await loadVisa(root, 'candle');
  assert.equal(d.train.length, 2);
  assert.deepEqual(
    d.test.map((s) => [rel(root, s.path), s.label, rel(root, s.maskPath)]),
    [
      ['candle/Data/Images/Normal/0002.JPG', 0, undefined],
      ['candle/Data/Images/Anomaly/000.JPG', 1, 'candle/Data/Masks/Anomaly/000.png'],
    ],
  );
  await assert.rejects(loadVisa(root, 'fryum'), /unknown category 'fryum' \(found: candle, pcb1\)/);
  await assert.rejects(loadVisa(root, 'pcb1'), /pcb1\/Data\/Images\/Normal\/0000\.JPG: listed in .*1cls\.csv .* but missing/);
});
