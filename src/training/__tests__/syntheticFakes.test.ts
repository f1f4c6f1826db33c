/** train.syntheticFakes: the stains, their per-batch layout, and the step that takes them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import { headConfig } from '../../heads/config.js';
import { initHeadParams, PARAM_NAMES } from '../../heads/params.js';
import { TrainStep } from '../../heads/trainStep.js';
import type { DecodedImage } from '../../images/decode.js';
import { frameBox } from '../../images/fit.js';
import { ortTensor } from '../../onnx/session.js';
import { STAIN_AREA, synthesizeStain } from '../../validation/stains.js';
import { SyntheticFakes } from '../syntheticFakes.js';

function image(width: number, height: number): DecodedImage {
  const rng = new Rng(11);
  return { width, height, channels: 3, data: Uint8Array.from({ length: width * height * 3 }, () => 60 + rng.nextInt(120)) };
}

test('stains: inside the frame the model sees, about the drawn share, seeded; pixels outside the mask untouched', () => {
  const img = image(200, 120);
  for (const fit of ['crop', 'squash'] as const) {
    const g = { resize: 120, crop: 100, fit };
    const box = frameBox(img.width, img.height, g);
    for (let seed = 0; seed < 20; seed++) {
      const { image: out, mask } = synthesizeStain(img, g, new Rng(seed));
      let area = 0;
      let changed = 0;
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          const p = y * img.width + x;
          const same = [0, 1, 2].every((c) => out.data[p * 3 + c] === img.data[p * 3 + c]);
          if (!mask[p]) {
            assert.ok(same, `seed ${seed} (${fit}): pixel ${x},${y} outside the mask changed`);
            continue;
          }
          area++;
          if (!same) changed++;
          assert.ok(
            x >= Math.floor(box.x0) && x < box.x0 + box.width && y >= Math.floor(box.y0) && y < box.y0 + box.height,
            `seed ${seed}: ${x},${y} outside the frame`,
          );
        }
      }
      const share = area / (box.width * box.height);
      // Overlapping ellipses and clipping at the frame shrink the share; pixel rounding can add a little.
      assert.ok(area >= 1 && share <= STAIN_AREA[1] * 1.2, `seed ${seed} (${fit}): share ${share}`);
      assert.ok(changed >= area * 0.5, `seed ${seed}: only ${changed} of ${area} stained pixels changed`);
    }
  }
  const a = synthesizeStain(img, { resize: 120, crop: 100 }, new Rng(3));
  const b = synthesizeStain(img, { resize: 120, crop: 100 }, new Rng(3));
  assert.deepEqual(a.mask, b.mask);
  assert.deepEqual(a.image.data, b.image.data);
});

test('SyntheticFakes.batch numbers the stained rows as FeatureCache.batch lays out rows, with their offsets', () => {
  const dim = 2;
  const fakes = SyntheticFakes.fromOffsets(
    [
      { rows: Int32Array.of(1), offsets: Float32Array.of(1, 2) },
      { rows: new Int32Array(0), offsets: new Float32Array(0) },
      { rows: Int32Array.of(0, 2), offsets: Float32Array.of(3, 4, 5, 6) },
    ],
    3,
    dim,
  );
  assert.equal(fakes.rowCount, 3);
  const first = fakes.batch([2, 0]);
  assert.deepEqual(Array.from(first.rows), [0, 2, 4]);
  assert.deepEqual(Array.from(first.offsets), [3, 4, 5, 6, 1, 2]);
  const second = fakes.batch([1, 0]);
  assert.deepEqual(Array.from(second.rows), [4]);
  assert.deepEqual(Array.from(second.offsets), [1, 2]);
  assert.equal(fakes.batch([1]).rows.length, 0, 'an image without stained patches gives none');
  assert.throws(() => SyntheticFakes.fromOffsets([{ rows: Int32Array.of(3), offsets: new Float32Array(2) }], 3, dim), /row outside 0 … 2/);
  assert.throws(() => SyntheticFakes.fromOffsets([{ rows: Int32Array.of(0), offsets: new Float32Array(3) }], 3, dim), /1 rows but 3 offset values/);
});

test('givenFakes: no rows is the plain step; every row is the step fed those offsets as its noise; some rows, the noise fed with them in place', async () => {
  const R = 16;
  const D = 12;
  const cfg = headConfig({ featureDim: D, hiddenDim: 8, noiseStd: 0.3, loss: 'logistic' });
  const rng = new Rng(5);
  const params = initHeadParams(cfg, rng);
  const x = ortTensor(
    'float32',
    [R, D],
    Float32Array.from({ length: R * D }, () => rng.normal()),
  );
  const offset = Float32Array.from({ length: R * D }, () => 0.5 * rng.normal());
  const noise = Float32Array.from({ length: R * D }, () => 0.3 * rng.normal());
  const all = Int32Array.from({ length: R }, (_, i) => R - 1 - i); // any order
  const allOffsets = new Float32Array(R * D);
  all.forEach((r, i) => allOffsets.set(offset.subarray(r * D, (r + 1) * D), i * D));
  const some = Int32Array.of(3, 9, 0);
  const someOffsets = new Float32Array(some.length * D);
  const mixed = noise.slice();
  some.forEach((r, i) => {
    someOffsets.set(offset.subarray(r * D, (r + 1) * D), i * D);
    mixed.set(offset.subarray(r * D, (r + 1) * D), r * D);
  });
  const none = { rows: new Int32Array(0), offsets: new Float32Array(0) };
  const steps = {
    plain: await TrainStep.create(cfg, params, { noise: { seed: 4 } }),
    given: await TrainStep.create(cfg, params, { noise: { seed: 4 }, givenFakes: true }),
    fed: await TrainStep.create(cfg, params, { noise: 'input' }),
    full: await TrainStep.create(cfg, params, { noise: { seed: 4 }, givenFakes: true }),
    fedMixed: await TrainStep.create(cfg, params, { noise: 'input' }),
    fedSome: await TrainStep.create(cfg, params, { noise: 'input', givenFakes: true }),
  };
  const same = (a: TrainStep, b: TrainStep, what: string) => {
    for (const n of PARAM_NAMES) assert.deepEqual(a.params()[n].data, b.params()[n].data, `${what}: ${n}`);
  };
  try {
    const r0 = await steps.plain.step(x);
    const r1 = await steps.given.step(x, { givenFakes: none });
    assert.equal(r1.loss, r0.loss);
    same(steps.given, steps.plain, 'no rows');
    const r2 = await steps.fed.step(x, { noise: ortTensor('float32', [R, D], offset) });
    const r3 = await steps.full.step(x, { givenFakes: { rows: all, offsets: allOffsets } });
    assert.equal(r3.loss, r2.loss);
    same(steps.full, steps.fed, 'every row');
    const r4 = await steps.fedMixed.step(x, { noise: ortTensor('float32', [R, D], mixed) });
    const r5 = await steps.fedSome.step(x, { noise: ortTensor('float32', [R, D], noise), givenFakes: { rows: some, offsets: someOffsets } });
    assert.equal(r5.loss, r4.loss);
    same(steps.fedSome, steps.fedMixed, 'some rows');
    await assert.rejects(steps.given.step(x), /opts.givenFakes must be \{ rows: Int32Array of K, offsets: Float32Array of K×12 \}/);
    await assert.rejects(
      steps.given.step(x, { givenFakes: { rows: Int32Array.of(16), offsets: new Float32Array(D) } }),
      /distinct rows in \[0, 16\), got 16 at 0/,
    );
    await assert.rejects(steps.given.step(x, { givenFakes: { rows: Int32Array.of(2, 2), offsets: new Float32Array(2 * D) } }), /distinct rows/);
    await assert.rejects(steps.plain.step(x, { givenFakes: none }), /givenFakes needs a step created with givenFakes: true/);
  } finally {
    for (const s of Object.values(steps)) await s.release();
  }
});
