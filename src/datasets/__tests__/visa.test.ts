import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DatasetError } from '../dataset.js';
import { loadVisa } from '../visa.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('simplenet-visa-');
after(() => rmSync(dir, { recursive: true, force: true }));

function visa(name: string, rows: string[]): { root: string; csv: string } {
  const root = join(dir, name);
  for (const f of ['candle/Data/Images/Normal/0000.JPG', 'candle/Data/Images/Anomaly/000.JPG', 'candle/Data/Masks/Anomaly/000.png']) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), '');
  }
  const csv = join(root, 'split_csv', '1cls.csv');
  mkdirSync(join(csv, '..'), { recursive: true });
  writeFileSync(csv, ['object,split,label,image,mask', 'candle,train,normal,candle/Data/Images/Normal/0000.JPG,', ...rows, ''].join('\n'));
  return { root, csv };
}

test('visa: image and mask paths that lead outside the root are refused, naming the CSV, the line and the path', async () => {
  const cases: [string, string][] = [
    ['candle,test,normal,../../../etc/passwd,', '../../../etc/passwd'],
    ['candle,test,normal,/etc/passwd,', '/etc/passwd'],
    ['candle,test,normal,candle/../../outside.JPG,', 'candle/../../outside.JPG'],
    ['candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,../../../etc/shadow', '../../../etc/shadow'],
  ];
  for (const [i, [row, path]] of cases.entries()) {
    const { root, csv } = visa(`escape${i}`, ['', row]);
    await assert.rejects(loadVisa(root, 'candle'), (e: Error) => {
      assert.ok(e instanceof DatasetError);
      assert.equal(e.message, `${csv}: line 4: path '${path}' leads outside the dataset root ${root}; VisA paths must be relative to it`);
      return true;
    });
  }
  // Inside the root, `..` that stays inside is fine.
  const { root } = visa('ok', ['candle,test,anomaly,candle/Data/../Data/Images/Anomaly/000.JPG,candle/Data/Masks/Anomaly/000.png']);
  const d = await loadVisa(root, 'candle');
  assert.deepEqual([d.train.length, d.test.length, d.test[0].label], [1, 1, 1]);
});
