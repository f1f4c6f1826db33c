import assert from 'node:assert/strict';
import { test } from 'node:test';
import { golden, goldenJson } from '../../testing/golden.js';
import { aupro, proCurve } from '../aupro.js';

interface Expected {
  width: number;
  height: number;
  fprLimit: number;
  aupro: number;
  aupro_4conn: number;
  curve_fpr?: number[];
  curve_pro?: number[];
}

const cases = goldenJson<Record<string, Expected>>('metrics/aupro_expected.json');

for (const [name, e] of Object.entries(cases)) {
  test(`aupro matches the numpy/skimage reference: ${name}`, () => {
    const maps = golden(`metrics/aupro_${name}_maps.npy`).data as Float32Array;
    const masks = golden(`metrics/aupro_${name}_masks.npy`).data as Uint8Array;
    const got = aupro(maps, masks, { width: e.width, height: e.height, fprLimit: e.fprLimit });
    assert.ok(Math.abs(got - e.aupro) <= 1e-6, `${name}: ${got} vs ${e.aupro}`);
    if (name === 'diagonal') assert.ok(Math.abs(got - e.aupro_4conn) > 1e-3, 'regions must be 8-connected');
  });
}

test('the default limit is 0.3', () => {
  const e = cases.random;
  const maps = golden('metrics/aupro_random_maps.npy').data as Float32Array;
  const masks = golden('metrics/aupro_random_masks.npy').data as Uint8Array;
  assert.equal(aupro(maps, masks, { width: e.width, height: e.height }), aupro(maps, masks, { ...e, fprLimit: 0.3 }));
});

test('one 2×2 image, by hand', () => {
  // Region = the left column. Thresholds 0.9 (one region pixel), 0.5 (a negative), 0.1 (the rest).
  const maps = new Float32Array([0.9, 0.5, 0.1, 0.1]);
  const masks = new Uint8Array([1, 0, 1, 0]);
  // Curve: (0,0) → (0, 1/2) → (1/2, 1/2) → (1, 1). Up to FPR 0.3 the PRO is 1/2: normalised area 1/2.
  assert.ok(Math.abs(aupro(maps, masks, { width: 2, height: 2 }) - 0.5) < 1e-15);
  // Up to FPR 1: 1/2·1/2 + 1/2·(1/2 + 1)/2 = 5/8.
  assert.ok(Math.abs(aupro(maps, masks, { width: 2, height: 2, fprLimit: 1 }) - 5 / 8) < 1e-15);
});

test('bad arguments and undefined cases are RangeErrors that say why', () => {
  const wh = { width: 2, height: 2 };
  assert.throws(() => aupro(new Float32Array(4), new Uint8Array(4), wh), /aupro: 'masks' contain no defect region/);
  assert.throws(() => aupro(new Float32Array(4), new Uint8Array(4).fill(1), wh), /no defect-free pixel/);
  assert.throws(() => aupro(new Float32Array(6), new Uint8Array(6), wh), /'maps' must hold whole 2×2 images/);
  assert.throws(() => aupro(new Float32Array(4), new Uint8Array(8), wh), /'masks' must have the same length as 'maps' \(8 vs 4\)/);
  assert.throws(() => aupro(new Float32Array(4), new Uint8Array([0, 1, 2, 0]), wh), /masks\[2\] is 2/);
  assert.throws(() => aupro(new Float32Array(4), new Uint8Array([0, 1, 0, 0]), { ...wh, fprLimit: 0 }), /'fprLimit' must be in \(0, 1\]/);
  assert.throws(() => aupro(new Float32Array(4), new Uint8Array([0, 1, 0, 0]), { width: 0, height: 4 }), /'width' and 'height'/);
  assert.throws(() => aupro(new Float32Array([0, NaN, 0, 0]), new Uint8Array([0, 1, 0, 0]), wh), /aupro: scores must be finite/);
});

for (const [name, e] of Object.entries(cases)) {
  if (!e.curve_fpr || !e.curve_pro) continue;
  test(`proCurve gives the reference's (FPR, PRO) points up to the limit: ${name}`, () => {
    const maps = golden(`metrics/aupro_${name}_maps.npy`).data as Float32Array;
    const masks = golden(`metrics/aupro_${name}_masks.npy`).data as Uint8Array;
    const opts = { width: e.width, height: e.height, fprLimit: e.fprLimit };
    const full = proCurve(maps, masks, { ...opts, maxPoints: 1e12 });
    assert.equal(full.fpr.length, e.curve_fpr!.length);
    for (let i = 0; i < full.fpr.length; i++) {
      assert.ok(Math.abs(full.fpr[i] - e.curve_fpr![i]) <= 1e-9 && Math.abs(full.pro[i] - e.curve_pro![i]) <= 1e-9, `${name} point ${i}`);
    }
    // Thinned for plots: fewer points, all on the curve, ending where the full curve ends.
    const thin = proCurve(maps, masks, { ...opts, maxPoints: 20 });
    assert.ok(thin.fpr.length < full.fpr.length && thin.fpr.length >= 2);
    assert.equal(thin.fpr.at(-1), full.fpr.at(-1));
    for (let i = 0; i < thin.fpr.length; i++) assert.ok(full.fpr.includes(thin.fpr[i]));
  });
}
