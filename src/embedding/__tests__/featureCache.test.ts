import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ortTensor } from '../../onnx/session.js';
import { FeatureCache, planCache } from '../featureCache.js';

test('the plan keeps float32 in memory when it fits, then float16, then disk', () => {
  const mb = 2 ** 20;
  assert.deepEqual(planCache(10, 4, 8, { memoryMB: 1, dtype: 'auto' }), { dtype: 'float32', storage: 'memory', bytes: 1280 });
  // bottle at 288² with WRN50 features: 209 × 1296 × 1536 floats = 1.55 GiB in float32
  const bottle = (memoryMB: number) => planCache(209, 1296, 1536, { memoryMB, dtype: 'auto' });
  assert.equal(bottle(4096).dtype, 'float32');
  assert.deepEqual([bottle(1024).dtype, bottle(1024).storage], ['float16', 'memory']);
  assert.deepEqual([bottle(512).dtype, bottle(512).storage], ['float16', 'disk']);
  assert.equal(bottle(512).bytes, 209 * 1296 * 1536 * 2);
  assert.equal(planCache(1, 1, mb, { memoryMB: 1, dtype: 'float32' }).storage, 'disk');
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
