import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadManifestBackbone } from '../../backbones/manifest.js';
import { ioCause } from '../ioError.js';
import { readRegularFile } from '../readRegular.js';
import { testTempDir } from '../../testing/tempDir.js';

test('readRegularFile reads files and refuses devices and folders at once (no endless read of /dev/zero)', async () => {
  const dir = testTempDir('simplenet-read-');
  const file = join(dir, 'a.txt');
  writeFileSync(file, 'héllo');
  assert.equal(await readRegularFile(file, 'utf8'), 'héllo');
  assert.deepEqual([...(await readRegularFile(file))], [...Buffer.from('héllo')]);
  await assert.rejects(readRegularFile('/dev/zero'), (e: NodeJS.ErrnoException) => e.code === 'ENOTREGULAR' && /not a regular file/.test(ioCause(e)));
  await assert.rejects(readRegularFile(dir), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
  await assert.rejects(readRegularFile(join(dir, 'missing')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
});

test("a backbone manifest whose 'onnx' names /dev/zero fails in one line naming the manifest", async () => {
  const dir = testTempDir('simplenet-read-');
  const manifest = join(dir, 'm.json');
  writeFileSync(manifest, JSON.stringify({ onnx: '/dev/zero', input: 'x', mean: [0, 0, 0], std: [1, 1, 1], layers: ['a'] }));
  await assert.rejects(loadManifestBackbone(manifest), (e: Error) => {
    assert.match(e.message, /m\.json: field 'onnx': cannot read \/dev\/zero: not a regular file \(a device, pipe or socket\) \(ENOTREGULAR\)/);
    assert.equal(e.message.includes('\n'), false);
    return true;
  });
});
