/**
 * The MSE calibration method (`RangeObserver.mseRange`, issue 16): its range's real uint8 round-trip
 * error, computed on the raw values with the quantizer's own arithmetic, is within a few per cent of
 * the best of the same candidates found by brute force; it clips a rare outlier that MinMax
 * stretches to, keeps MinMax where nothing is rare, and exact zeros do not move it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import { ACT_QMAX, ACT_QMIN, activationParams, dequantizeValue, quantizeValue, type TensorRange } from '../quantParams.js';
import { RangeObserver } from '../rangeObserver.js';

/** Σ (DQ(Q(x)) − x)² with the parameters the quantizer derives from `range`. */
function roundTripError(data: Float32Array, range: TensorRange): number {
  const p = activationParams(range);
  let e = 0;
  for (const v of data) {
    const d = dequantizeValue(quantizeValue(v, p, ACT_QMIN, ACT_QMAX), p) - v;
    e += d * d;
  }
  return e;
}

function observe(batches: Float32Array[]): RangeObserver {
  const o = new RangeObserver(true);
  for (const b of batches) o.add(b, 'x');
  return o;
}

/** Heavy-tailed activations: |Student t with 2 degrees of freedom|, the share `neg` of them negative. */
function heavy(rng: Rng, n: number, neg: number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const v = Math.abs(rng.normal()) / Math.sqrt(-Math.log(1 - rng.nextFloat()));
    return rng.nextFloat() < neg ? -v : v;
  });
}

test('the MSE range is within 3 % of the brute-force best round trip over the same candidates', () => {
  const rng = new Rng(7);
  for (const neg of [0, 0.3]) {
    const batches = [heavy(rng, 20000, neg), heavy(rng, 20000, neg)];
    const all = new Float32Array(40000);
    all.set(batches[0]);
    all.set(batches[1], 20000);
    const o = observe(batches);
    const chosen = roundTripError(all, o.mseRange());
    let best = Infinity;
    for (let k = 1; k <= 256; k++) {
      const f = k / 256;
      best = Math.min(best, roundTripError(all, { min: Math.min(o.min, 0) * f, max: o.max * f }));
    }
    const minmax = roundTripError(all, o.range());
    assert.ok(chosen <= best * 1.03, `neg ${neg}: chosen ${chosen}, brute-force best ${best}`);
    assert.ok(chosen < minmax, `neg ${neg}: chosen ${chosen} should be under MinMax's ${minmax}`);
  }
});

test('MSE clips an outlier rarer than its cost, keeps MinMax on uniform values, and ignores exact zeros', () => {
  const uniform = Float32Array.from({ length: 10000 }, (_, i) => (i % 2 ? 1 : -1) * (i / 10000));
  const plain = observe([uniform]).mseRange();
  assert.ok(plain.max >= 0.97 && plain.min <= -0.97, `uniform: ${JSON.stringify(plain)}`);
  // Over two million values, steps of 104/255 cost n · step² / 12 ≈ 28,000; clipping 100 to 26
  // costs 74² ≈ 5,500 and leaves steps that cost ≈ 2,400: clipped, and only above.
  const rng = new Rng(5);
  const gauss = Float32Array.from({ length: 2_000_000 }, (_, i) => (i === 0 ? 100 : rng.normal()));
  const clipped = observe([gauss]).mseRange();
  assert.ok(clipped.max < 50 && clipped.max > 4 && clipped.min < -3, `outlier: ${JSON.stringify(clipped)}`);
  // One value of 100 among 10,000 is kept: its clipping would cost more than all the rounding.
  assert.ok(observe([gauss.subarray(0, 10000)]).mseRange().max > 95);
  const relu = heavy(new Rng(3), 20000, 0);
  const withZeros = new Float32Array(80000);
  withZeros.set(relu);
  assert.equal(observe([withZeros]).mseRange().max, observe([relu]).mseRange().max);
  assert.throws(() => new RangeObserver(false).mseRange(), /keeps no histogram/);
});
