import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headConfig } from '../../heads/config.js';
import { initHeadParams } from '../../heads/params.js';
import { Rng } from '../rng.js';

test('Rng is deterministic per seed and differs between seeds', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(
    Array.from({ length: 8 }, () => b.nextUint32()),
    sa,
  );
  assert.notDeepEqual(
    Array.from({ length: 8 }, () => c.nextUint32()),
    sa,
  );
  assert.ok(sa.every((u) => Number.isInteger(u) && u >= 0 && u < 2 ** 32));
});

test('nextFloat is in [0,1), normal() has mean ≈ 0 and variance ≈ 1', () => {
  const r = new Rng(1);
  let s = 0;
  let s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const f = r.nextFloat();
    assert.ok(f >= 0 && f < 1);
    const z = r.normal();
    s += z;
    s2 += z * z;
  }
  assert.ok(Math.abs(s / n) < 0.03, `mean ${s / n}`);
  assert.ok(Math.abs(s2 / n - 1) < 0.04, `variance ${s2 / n}`);
});

test('shuffle permutes in place and is reproducible', () => {
  const x = Array.from({ length: 50 }, (_, i) => i);
  const y = new Rng(9).shuffle([...x]);
  assert.deepEqual(new Rng(9).shuffle(Int32Array.from(x)), Int32Array.from(y));
  assert.deepEqual(
    [...y].sort((p, q) => p - q),
    x,
  );
  assert.notDeepEqual(y, x);
  assert.throws(() => new Rng(1.5), /seed must be a safe integer/);
});

test('initHeadParams: shapes, Xavier-normal std, U(±1/√fan_in) biases, BN defaults', () => {
  const cfg = headConfig({ featureDim: 64, hiddenDim: 32 });
  const p = initHeadParams(cfg, new Rng(0));
  assert.deepEqual(p['adaptor.weight'].dims, [64, 64]);
  assert.deepEqual(p['discriminator.fc2.weight'].dims, [1, 32]);
  const std = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
  assert.ok(Math.abs(std(p['adaptor.weight'].data) / Math.sqrt(2 / 128) - 1) < 0.05);
  assert.ok(Math.abs(std(p['discriminator.fc1.weight'].data) / Math.sqrt(2 / 96) - 1) < 0.05);
  assert.ok(p['discriminator.fc1.bias'].data.every((v) => Math.abs(v) <= 1 / 8));
  assert.ok(p['discriminator.bn.running_var'].data.every((v) => v === 1));
  assert.ok(p['discriminator.bn.bias'].data.every((v) => v === 0));
  assert.deepEqual(initHeadParams(cfg, new Rng(0))['adaptor.bias'].data, p['adaptor.bias'].data);
});
