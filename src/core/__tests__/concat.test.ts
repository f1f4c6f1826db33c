import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concatTyped } from '../concat.js';

test('concatTyped joins the parts in order into the given type; no parts give an empty array', () => {
  const joined = concatTyped(Float32Array, [Float32Array.of(1.5), new Float32Array(0), Float32Array.of(2, 3)]);
  assert.ok(joined instanceof Float32Array);
  assert.deepEqual(Array.from(joined), [1.5, 2, 3]);
  assert.deepEqual(Array.from(concatTyped(Int32Array, [Int32Array.of(-4), Int32Array.of(5)])), [-4, 5]);
  assert.equal(concatTyped(Uint8Array, []).length, 0);
});
