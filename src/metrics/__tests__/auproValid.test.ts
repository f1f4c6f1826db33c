import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import { aupro, proCurve } from '../aupro.js';

test("aupro's `valid` leaves pixels out: the same as cropping them away (letterbox padding)", () => {
  const rng = new Rng(3);
  const [w, h, inside] = [6, 8, [2, 6]];
  const n = 3;
  const maps = new Float32Array(n * w * h);
  const masks = new Uint8Array(n * w * h);
  const valid = new Uint8Array(n * w * h);
  for (let k = 0; k < n; k++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = k * w * h + y * w + x;
        const image = y >= inside[0] && y < inside[1];
        valid[i] = image ? 1 : 0;
        masks[i] = image && x >= k && x < k + 2 && y >= 3 && y < 5 ? 1 : 0;
        // Padding scores high: counted, it would be a wall of false positives.
        maps[i] = image ? rng.nextFloat() + masks[i] : 2 + rng.nextFloat();
      }
    }
  }
  const rows = inside[1] - inside[0];
  const cropped = (a: Float32Array | Uint8Array) => {
    const out = new (a.constructor as new (n: number) => typeof a)(n * w * rows);
    for (let k = 0; k < n; k++) out.set(a.subarray(k * w * h + inside[0] * w, k * w * h + inside[1] * w), k * w * rows);
    return out;
  };
  const expected = aupro(cropped(maps) as Float32Array, cropped(masks) as Uint8Array, { width: w, height: rows });
  const got = aupro(maps, masks, { width: w, height: h, valid });
  assert.ok(Math.abs(got - expected) < 1e-12, `${got} vs ${expected}`);
  assert.ok(aupro(maps, masks, { width: w, height: h }) < expected, 'counted, the padding lowers AUPRO');
  assert.deepEqual(
    proCurve(maps, masks, { width: w, height: h, valid }),
    proCurve(cropped(maps) as Float32Array, cropped(masks) as Uint8Array, { width: w, height: rows }),
  );
  assert.throws(() => aupro(maps, masks, { width: w, height: h, valid: valid.subarray(1) }), /'valid' must have the same length as 'maps'/);
});
