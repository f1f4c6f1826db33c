import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32, f64, i64, tensor } from '../../onnx/tensor.js';
import { decodeSafetensors, encodeSafetensors } from '../safetensors.js';

/** A file from a literal header and data section, the way another writer might lay it out. */
function rawFile(header: unknown, data: number[] | Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('round trip of every dtype, metadata and scalars', () => {
  const tensors = {
    'a.f32': f32([2, 2], [1, -2.5, 3e-8, 4]),
    'b.f64': f64([3], [Math.PI, -1, 0]),
    'c.f16': tensor('float16', [2], Uint16Array.from([0x3c00, 0xc000])),
    'd.i64': i64([2], [-3n, 2n ** 40n]),
    'e.i32': tensor('int32', [1, 2], Int32Array.from([-7, 9])),
    'f.u8': tensor('uint8', [3], Uint8Array.from([0, 128, 255])),
    'g.scalar': f32([], [42]),
    'h.empty': f32([0, 3]),
  };
  const bytes = encodeSafetensors(tensors, { format: 'pt' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLen % 8, 0);
  const { tensors: back, metadata } = decodeSafetensors(bytes, 'rt.safetensors');
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...back.keys()].sort(), Object.keys(tensors).sort());
  for (const [k, t] of Object.entries(tensors)) {
    const b = back.get(k)!;
    assert.equal(b.dtype, t.dtype, k);
    assert.deepEqual(b.dims, t.dims, k);
    assert.deepEqual(Array.from(b.data as ArrayLike<unknown>), Array.from(t.data as ArrayLike<unknown>), k);
  }
});

test('encoding is deterministic whatever the insertion order', () => {
  const x = f32([1], [1]);
  const y = i64([2], [5, 6]);
  assert.deepEqual(encodeSafetensors({ x, y }, { k: 'v' }), encodeSafetensors({ y, x }, { k: 'v' }));
  assert.throws(() => encodeSafetensors({ __metadata__: x }), TypeError);
});

test('a hand-written file with BF16 and F16 decodes (BF16 widened to float32)', () => {
  // bf16 1.0 = 0x3f80, -2.5 = 0xc020; f16 0.5 = 0x3800; little-endian on disk.
  const file = rawFile(
    {
      __metadata__: { note: 'hi' },
      w: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] },
      h: { dtype: 'F16', shape: [1], data_offsets: [4, 6] },
    },
    [0x80, 0x3f, 0x20, 0xc0, 0x00, 0x38],
  );
  const { tensors, metadata } = decodeSafetensors(file, 'bf.safetensors');
  assert.equal(metadata.note, 'hi');
  assert.equal(tensors.get('w')!.dtype, 'float32');
  assert.deepEqual(Array.from(tensors.get('w')!.data as Float32Array), [1, -2.5]);
  assert.equal(tensors.get('h')!.dtype, 'float16');
  assert.deepEqual(Array.from(tensors.get('h')!.data as Uint16Array), [0x3800]);
});

test('a truncated file names the first tensor that lies beyond the end', () => {
  const good = encodeSafetensors({ 'layer1.w': f32([4], [1, 2, 3, 4]), 'layer2.0.conv1.weight': f32([100]) });
  const cut = good.subarray(0, good.length - 10);
  assert.throws(
    () => decodeSafetensors(cut, 'weights.safetensors'),
    /^Error: weights\.safetensors: tensor 'layer2\.0\.conv1\.weight' claims bytes 16\.\.416 but the file has 406 data bytes$/,
  );
  assert.throws(() => decodeSafetensors(good.subarray(0, 20), 'w.st'), /w\.st: not a safetensors file \(header claims \d+ bytes but the file has 12/);
  assert.throws(() => decodeSafetensors(good.subarray(0, 5), 'w.st'), /w\.st: not a safetensors file \(5 bytes/);
});

test('corrupt headers give one clear error naming the file and tensor', () => {
  const cases: [unknown, number[], RegExp][] = [
    [{ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0], /x\.st: tensor 'a' has 4 bytes \(0\.\.4\) but F32 \[2\] needs 8/],
    [{ a: { dtype: 'Q4', shape: [1], data_offsets: [0, 1] } }, [0], /x\.st: tensor 'a' has unsupported dtype Q4/],
    [{ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, [0, 0, 0, 0], /tensor 'a' has a shape that is not/],
    [{ a: { dtype: 'U8', shape: [1], data_offsets: [1, 0] } }, [0], /tensor 'a' has data_offsets that are not/],
    [{ a: { dtype: 'U8', shape: [1] } }, [0], /tensor 'a' has data_offsets that are not/],
    [{ a: 'nope' }, [], /tensor 'a' has a header entry that is not an object/],
    [
      { a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } },
      [0, 0, 0],
      /x\.st: tensor 'b' bytes 1\.\.3 overlap tensor 'a' bytes 0\.\.2/,
    ],
    [{ __metadata__: { n: 3 } }, [], /x\.st: __metadata__ entry 'n' is not a string/],
    [[1, 2], [], /x\.st: not a safetensors file \(header is not a JSON object\)/],
  ];
  for (const [header, data, re] of cases) assert.throws(() => decodeSafetensors(rawFile(header, data), 'x.st'), re);
  const notJson = rawFile({}, []);
  notJson[8] = 0x5b; // '[' opening a never-closed array
  notJson[9] = 0x7b;
  assert.throws(() => decodeSafetensors(notJson, 'x.st'), /x\.st: not a safetensors file \(header is not valid JSON/);
});
