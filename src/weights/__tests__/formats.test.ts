import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeSafetensors } from '../../io/safetensors.js';
import type { HostTensor } from '../../onnx/tensor.js';
import { golden, goldenJson, REPO_ROOT } from '../../testing/golden.js';
import { resolveBackbone } from '../../backbones/backbone.js';
import { decodeStateDict, detectFormat, loadStateDict } from '../load.js';
import { unpickle } from '../pickle.js';
import { readZip } from '../zip.js';
import { testTempDir } from '../../testing/tempDir.js';

const G = join(REPO_ROOT, 'golden', 'weights');
const cases = goldenJson<{ keys: string[]; tensors: Record<string, { dtype: string; shape: number[] }>; marker: string }>('weights/cases.json');
const dir = testTempDir('weights-formats-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Exact comparison via bytes: float16 and int64 compare bit for bit. */
function sameTensor(a: HostTensor, b: HostTensor, label: string): void {
  assert.deepEqual([...a.dims], [...b.dims], `${label}: dims`);
  assert.equal(a.dtype, b.dtype, `${label}: dtype`);
  assert.deepEqual(Array.from(a.data as ArrayLike<number | bigint>), Array.from(b.data as ArrayLike<number | bigint>), `${label}: values`);
}

for (const [file, format] of [
  ['tiny.safetensors', 'safetensors'],
  ['tiny_zip.pth', 'pth-zip'],
  ['tiny_legacy.pth', 'pth-legacy'],
] as const) {
  test(`${file} loads to the reference tensors`, async () => {
    const w = await loadStateDict(join(G, file));
    assert.equal(w.format, format);
    // safetensors sorts its header; the torch formats keep the state dict's order.
    assert.deepEqual(
      format === 'safetensors' ? [...w.tensors.keys()].sort() : [...w.tensors.keys()],
      format === 'safetensors' ? [...cases.keys].sort() : cases.keys,
    );
    for (const k of cases.keys) {
      const expected = golden(`weights/expected/${k}.npy`);
      const got = w.tensors.get(k)!;
      sameTensor(got, expected, `${file} ${k}`);
    }
  });
}

test('strided and offset views of one shared storage come out right', async () => {
  const w = await loadStateDict(join(G, 'tiny_zip.pth'));
  const at = (k: string) => Array.from(w.tensors.get(k)!.data as Float32Array);
  const shared = Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
  assert.deepEqual(at('view.row'), shared.slice(6, 12));
  assert.deepEqual(
    at('view.col'),
    [0, 1, 2, 3].map((r) => shared[r * 6 + 2]),
  );
  assert.deepEqual(w.tensors.get('view.t')!.dims, [6, 4]);
  assert.deepEqual(
    at('view.t').slice(0, 4),
    [0, 6, 12, 18].map((i) => shared[i]),
  );
});

for (const file of ['evil_zip.pth', 'evil_legacy.pth', 'evil_load_from_bytes.pth']) {
  test(`${file}: a pickle that calls anything else is refused, and nothing runs`, async () => {
    rmSync(cases.marker, { force: true });
    await assert.rejects(loadStateDict(join(G, file)), (e: Error) => {
      assert.match(e.message, new RegExp(`${file}: refusing to load: the pickle references '(posix\\.system|torch\\.storage\\._load_from_bytes)'`));
      assert.equal(e.message.split('\n').length, 1);
      return true;
    });
    assert.equal(existsSync(cases.marker), false);
  });
}

test('a bare pickle is not a weights file; the unpickler alone still refuses its global', () => {
  const bytes = readFileSync(join(G, 'evil_plain.pkl'));
  assert.equal(detectFormat(bytes), undefined);
  assert.throws(() => decodeStateDict(bytes, 'evil_plain.pkl'), /evil_plain\.pkl: not a weights file/);
  assert.throws(() => unpickle(bytes, 0, { source: 'p', globals: new Map() }), /refusing to load: the pickle references 'posix\.system'/);
});

test('truncated and corrupted files fail with one line naming the file', () => {
  for (const file of ['tiny_zip.pth', 'tiny_legacy.pth', 'tiny.safetensors']) {
    const bytes = readFileSync(join(G, file));
    for (const cut of [bytes.length - 7, Math.floor(bytes.length / 2), 40]) {
      const p = join(dir, `cut-${cut}-${file}`);
      writeFileSync(p, bytes.subarray(0, cut));
      assert.throws(
        () => decodeStateDict(bytes.subarray(0, cut), p),
        (e: Error) => {
          assert.ok(e.message.startsWith(`${p}: `), e.message);
          assert.equal(e.message.split('\n').length, 1);
          return true;
        },
        `${file} cut at ${cut}`,
      );
    }
  }
  // Flip a byte inside a stored tensor: the zip CRC catches it.
  const zip = Buffer.from(readFileSync(join(G, 'tiny_zip.pth')));
  const entry = readZip(zip, 'z').get('tiny_zip/data/0')!;
  const dataStart = entry.localOffset + 30 + zip.readUInt16LE(entry.localOffset + 26) + zip.readUInt16LE(entry.localOffset + 28);
  const corrupted = Buffer.from(zip);
  corrupted[dataStart + 10] ^= 0xff;
  assert.throws(() => decodeStateDict(corrupted, 'c.pth'), /c\.pth: zip entry 'tiny_zip\/data\/0' fails its CRC-32 check; the file is corrupted/);
  assert.throws(() => decodeStateDict(new Uint8Array(0), 'empty.pth'), /empty\.pth: not a weights file: .* is empty/);
  assert.throws(() => decodeStateDict(new TextEncoder().encode('hello world, not weights'), 'x.bin'), /x\.bin: not a weights file/);
});

test('--weights takes a .pth through the same validation as safetensors', async () => {
  const pth = join(G, 'resnet18_layer1.pth');
  const fromPth = await resolveBackbone({ backbone: 'resnet18', weights: pth, layers: ['layer1'] });
  const st = join(dir, 'r18.safetensors');
  writeFileSync(st, encodeSafetensors(Object.fromEntries((await loadStateDict(pth)).tensors)));
  const fromSt = await resolveBackbone({ backbone: 'resnet18', weights: st, layers: ['layer1'] });
  assert.deepEqual(fromPth.onnx, fromSt.onnx);
  assert.equal(fromPth.identity.kind, 'builtin');
  // The default layers need layer2, which this file lacks.
  await assert.rejects(resolveBackbone({ backbone: 'resnet18', weights: pth }), /resnet18_layer1\.pth: tensor 'layer2\.0\.conv1\.weight' is missing/);
  await assert.rejects(
    resolveBackbone({ backbone: 'resnet18', weights: join(G, 'tiny_legacy.pth') }),
    /tiny_legacy\.pth: tensor 'conv1\.weight' has shape \[4, 3, 3, 3\], expected \[64, 3, 7, 7\]/,
  );
});
