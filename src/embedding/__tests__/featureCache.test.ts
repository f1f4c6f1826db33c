import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ortTensor } from '../../onnx/session.js';
import { FeatureCache, planCache } from '../featureCache.js';

test('the plan keeps float32 in memory when it fits, else float32 on disk; float16 only when asked or when the disk is short', () => {
  const mb = 2 ** 20;
  assert.deepEqual(planCache(10, 4, 8, { memoryMB: 1, dtype: 'auto' }), { dtype: 'float32', storage: 'memory', bytes: 1280 });
  // bottle at 288² with WRN50 features: 209 × 1296 × 1536 floats = 1.55 GiB in float32
  const f32 = 209 * 1296 * 1536 * 4;
  const bottle = (memoryMB: number, diskFreeBytes?: number) => planCache(209, 1296, 1536, { memoryMB, dtype: 'auto', diskFreeBytes });
  assert.deepEqual(bottle(4096), { dtype: 'float32', storage: 'memory', bytes: f32 });
  assert.deepEqual(bottle(1024), { dtype: 'float32', storage: 'disk', bytes: f32 });
  assert.deepEqual(bottle(0), { dtype: 'float32', storage: 'disk', bytes: f32 });
  assert.deepEqual(bottle(1024, f32), { dtype: 'float32', storage: 'disk', bytes: f32 });
  // No room on disk for float32: float16 (in memory when half fits the budget), as before issue 16.
  assert.deepEqual(bottle(1024, f32 - 1), { dtype: 'float16', storage: 'memory', bytes: f32 / 2 });
  assert.deepEqual(bottle(512, f32 - 1), { dtype: 'float16', storage: 'disk', bytes: f32 / 2 });
  // The disk is only asked about when memory is short.
  assert.deepEqual(bottle(4096, 0), { dtype: 'float32', storage: 'memory', bytes: f32 });
  // An explicit dtype is kept whatever the disk says; a negative budget (all of it taken) is none.
  assert.deepEqual(planCache(209, 1296, 1536, { memoryMB: 1024, dtype: 'float16', diskFreeBytes: 0 }), { dtype: 'float16', storage: 'memory', bytes: f32 / 2 });
  assert.equal(planCache(1, 1, 1, { memoryMB: -5, dtype: 'auto' }).storage, 'disk');
  assert.equal(planCache(1, 1, mb, { memoryMB: 1, dtype: 'float32' }).storage, 'disk');
});

test('float32 features read back from the disk cache are the same bits as those put in (NaN payloads, -0, subnormals included)', () => {
  const rows = 5;
  const dim = 7;
  const n = 6;
  const disk = new FeatureCache({ dtype: 'float32', storage: 'disk', bytes: 0 }, n, rows, dim);
  const memory = new FeatureCache({ dtype: 'float32', storage: 'memory', bytes: 0 }, n, rows, dim);
  const put: Uint32Array[] = [];
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    const bits = new Uint32Array(rows * dim);
    for (let j = 0; j < bits.length; j++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      bits[j] = x;
    }
    bits.set([0x80000000, 0x00000001, 0x7fc00001, 0xffffffff, 0x7f800000], 0);
    put.push(bits);
    const features = () => ortTensor('float32', [rows * dim], new Float32Array(bits.slice().buffer));
    disk.put(i, features());
    memory.put(i, features());
  }
  const order = [4, 1, 5, 0, 3, 2];
  const fromDisk = disk.batch(order).data as Float32Array;
  const want = new Uint32Array(order.length * rows * dim);
  order.forEach((img, k) => want.set(put[img], k * rows * dim));
  assert.deepEqual(new Uint32Array(fromDisk.buffer, fromDisk.byteOffset, fromDisk.length), want);
  const fromMemory = memory.batch(order).data as Float32Array;
  assert.deepEqual(new Uint32Array(fromMemory.buffer, fromMemory.byteOffset, fromMemory.length), want);
  disk.release();
  memory.release();
});

for (const storage of ['memory', 'disk'] as const) {
  for (const dtype of ['float32', 'float16'] as const) {
    test(`batches come back in the requested order (${dtype}, ${storage})`, () => {
      const rows = 3;
      const dim = 2;
      const cache = new FeatureCache({ dtype, storage, bytes: 0 }, 4, rows, dim);
      const make = (img: number) => {
        const data = dtype === 'float32' ? new Float32Array(rows * dim) : new Uint16Array(rows * dim);
        data.forEach((_, i) => (data[i] = img * 100 + i));
        return ortTensor(dtype, [rows, dim], data);
      };
      for (let i = 0; i < 4; i++) cache.put(i, make(i));
      const b = cache.batch([3, 0]);
      assert.deepEqual(b.dims, [6, 2]);
      assert.equal(b.type, dtype);
      assert.deepEqual(Array.from(b.data as ArrayLike<number>), [300, 301, 302, 303, 304, 305, 0, 1, 2, 3, 4, 5]);
      assert.throws(() => cache.put(0, ortTensor(dtype, [1, 2], dtype === 'float32' ? new Float32Array(2) : new Uint16Array(2))), /expected 6 values/);
      cache.release();
    });
  }
}
