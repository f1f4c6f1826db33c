import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RESNET_ARCHS } from '../../backbones/resnet-arch.js';
import { architectureShapes } from '../../backbones/state-dict.js';
import { encodeSafetensors } from '../../io/safetensors.js';
import { f32 } from '../../onnx/tensor.js';
import { importWeights } from '../../backbones/importWeights.js';
import { decodeStateDict } from '../load.js';
import { type CraftTensor, legacyPth, zeroBomb, zip, zipPth } from './craftPth.js';
import { testTempDir } from '../../testing/tempDir.js';

const dir = testTempDir('weights-bounded-');
after(() => rmSync(dir, { recursive: true, force: true }));

const GiB = 1 << 30;
const expected = architectureShapes(RESNET_ARCHS.resnet18);

/** Runs `fn`, asserts it throws one line starting with `file: ` and matching `re`, fast and with little memory. */
async function refusesCheaply(fn: () => unknown, file: string, re: RegExp): Promise<void> {
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let message = '';
  try {
    await fn();
  } catch (e) {
    message = (e as Error).message;
  }
  const ms = performance.now() - t0;
  const grew = process.memoryUsage().rss - rss0;
  assert.ok(message.startsWith(`${file}: `), `expected an error naming ${file}, got '${message}'`);
  assert.match(message, re);
  assert.equal(message.split('\n').length, 1);
  assert.ok(!/Invalid typed array length/.test(message), message);
  assert.ok(grew < 200 * 1024 * 1024, `rss grew by ${(grew / 2 ** 20).toFixed(0)} MB`);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
}

const one = (name: string, numel: number, size: number[], stride: number[]): CraftTensor => ({ name, storage: '0', numel, size, stride });
const floats = (n: number) => new Uint8Array(new Float32Array(n).buffer);

test('a 1 MB zip entry that inflates to 1 GiB is refused before inflating (its size is not what the pickle says)', async () => {
  const bomb = zeroBomb(1024);
  assert.ok(bomb.length < 2 * 1024 * 1024);
  const file = join(dir, 'bomb-declared.pth');
  const bytes = zipPth([one('conv1.weight', 4, [4], [1])], [{ name: 'archive/data/0', data: bomb, deflated: true, size: GiB, crc: 0 }]);
  writeFileSync(file, bytes);
  await refusesCheaply(() => decodeStateDict(bytes, file), file, /storage '0' \(zip entry 'archive\/data\/0'\) declares 1073741824 bytes, expected 16/);
  // Through `weights import`, which also checks the architecture first.
  await refusesCheaply(
    () => importWeights(file, { name: 'resnet18', home: join(dir, 'home') }),
    file,
    /tensor 'conv1\.weight' has shape \[4\], expected \[64, 3, 7, 7\]/,
  );
});

test('an entry that lies about its size never inflates past the declared size', async () => {
  const file = join(dir, 'bomb-lying.pth');
  const bytes = zipPth([one('x', 4, [4], [1])], [{ name: 'archive/data/0', data: zeroBomb(1024), deflated: true, size: 16, crc: 0 }]);
  await refusesCheaply(() => decodeStateDict(bytes, file), file, /zip entry 'archive\/data\/0' inflates to more than its declared 16 bytes/);
});

test('a data.pkl declared larger than 64 MiB is refused before inflating', async () => {
  const file = join(dir, 'big-pickle.pth');
  const bytes = zip([{ name: 'archive/data.pkl', data: zeroBomb(128), deflated: true, size: 128 * 2 ** 20, crc: 0 }]);
  await refusesCheaply(() => decodeStateDict(bytes, file), file, /zip entry 'archive\/data\.pkl' declares 134217728 bytes, more than the 67108864 accepted/);
});

for (const shape of [
  [16384, 16384],
  [100000, 100000],
]) {
  test(`a zero-stride view of shape [${shape}] over one float is refused before allocating (zip and legacy)`, async () => {
    const t = one('layer1.0.conv1.weight', 1, shape, [0, 0]);
    const file = join(dir, `broadcast-${shape[0]}.pth`);
    const re = new RegExp(
      `tensor 'layer1\\.0\\.conv1\\.weight' has shape \\[${shape.join(', ')}\\] \\(${shape[0] * shape[1]} elements\\) but its storage '0' holds 1`,
    );
    const z = zipPth([t], [{ name: 'archive/data/0', data: floats(1) }]);
    await refusesCheaply(() => decodeStateDict(z, file), file, re);
    const legacy = legacyPth([t], [{ key: '0', count: 1, data: floats(1) }]);
    await refusesCheaply(() => decodeStateDict(legacy, file), file, re);
  });
}

test('a view reaching past its storage is refused before the storage is read', async () => {
  const file = join(dir, 'beyond.pth');
  // The storage entry is not even valid deflate: the error must come before anyone tries to inflate it.
  const bytes = zipPth([one('w', 8, [2, 3], [8, 1])], [{ name: 'archive/data/0', data: Uint8Array.of(0xff, 0xff), deflated: true, size: 32 }]);
  await refusesCheaply(() => decodeStateDict(bytes, file), file, /tensor 'w' reads element 10 of a storage with 8/);
});

test('with the architecture, a wrong shape and an oversized extra tensor are refused before any storage is inflated', async () => {
  const file = join(dir, 'arch.pth');
  const garbage = { data: Uint8Array.of(0xff, 0xff), deflated: true };
  const wrong = zipPth([one('conv1.weight', 108, [4, 3, 3, 3], [27, 9, 3, 1])], [{ name: 'archive/data/0', ...garbage, size: 432 }]);
  await refusesCheaply(() => decodeStateDict(wrong, file, { expected }), file, /tensor 'conv1\.weight' has shape \[4, 3, 3, 3\], expected \[64, 3, 7, 7\]/);
  // An extra key (tolerated by validateStateDict) whose storage declares 1 GiB: over what resnet18 can need.
  const n = GiB / 4;
  const extra = zipPth([one('fc.weight', n, [n], [1])], [{ name: 'archive/data/0', ...garbage, size: GiB }]);
  await refusesCheaply(
    () => decodeStateDict(extra, file, { expected }),
    file,
    /storages up to that of tensor 'fc\.weight' declare 1073741824 bytes, more than the \d+ this architecture can need/,
  );
  // Without the architecture the same file gets as far as inflating (and fails there, on the garbage).
  await refusesCheaply(() => decodeStateDict(extra, file), file, /zip entry 'archive\/data\/0' does not inflate/);
});

test('safetensors: a shape other than the architecture is refused by name; a valid small view still loads', async () => {
  const st = encodeSafetensors({ 'conv1.weight': f32([2, 3, 7, 7]) });
  assert.throws(
    () => decodeStateDict(st, 'w.safetensors', { expected }),
    /w\.safetensors: tensor 'conv1\.weight' has shape \[2, 3, 7, 7\], expected \[64, 3, 7, 7\]/,
  );
  const ok = zipPth([one('w', 6, [2, 2], [3, 1])], [{ name: 'archive/data/0', data: floats(6) }]);
  assert.deepEqual(decodeStateDict(ok, 'ok.pth').tensors.get('w')?.dims, [2, 2]);
});
