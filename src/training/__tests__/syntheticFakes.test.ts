/** train.syntheticFakes: the stains, the rescaled content, their per-batch layout, and the step that takes them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import { headConfig } from '../../heads/config.js';
import { initHeadParams, PARAM_NAMES } from '../../heads/params.js';
import { TrainStep } from '../../heads/trainStep.js';
import type { DecodedImage } from '../../images/decode.js';
import { frameBox } from '../../images/fit.js';
import { ortTensor } from '../../onnx/session.js';
import { silentReporter } from '../../core/progress.js';
import { parseConfig } from '../../model/config.js';
import { smallResNet } from '../../testing/smallBackbone.js';
import { writeTrainingImages } from '../../testing/fixtures.js';
import { testTempDir } from '../../testing/tempDir.js';
import { rescaleContent, synthesizeRescaled } from '../../validation/rescaledContent.js';
import { STAIN_AREA, synthesizeStain } from '../../validation/stains.js';
import { SyntheticFakes } from '../syntheticFakes.js';
import { extractTrainingFeatures } from '../trainingFeatures.js';

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

test('rescaleContent: the identity at factor 1 or blend 0; at factor 2 about a point each masked pixel shows the pixel halfway to it', () => {
  const img = image(40, 30);
  const all = new Uint8Array(40 * 30).fill(1);
  assert.deepEqual(rescaleContent(img, all, { factor: 1, cx: 7, cy: 9, blend: 1 }).data, img.data);
  assert.deepEqual(rescaleContent(img, all, { factor: 2, cx: 7, cy: 9, blend: 0 }).data, img.data);
  const out = rescaleContent(img, all, { factor: 2, cx: 0, cy: 0, blend: 1 });
  for (const [x, y] of [
    [4, 6],
    [20, 10],
    [38, 28],
  ]) {
    for (let c = 0; c < 3; c++) assert.equal(out.data[(y * 40 + x) * 3 + c], img.data[((y / 2) * 40 + x / 2) * 3 + c], `${x},${y}`);
  }
  // Minified about the centre, a corner reads from outside the image: the nearest edge pixel.
  const min = rescaleContent(img, all, { factor: 0.25, cx: 20, cy: 15, blend: 1 });
  assert.deepEqual(Array.from(min.data.subarray(0, 3)), Array.from(img.data.subarray(0, 3)));
  assert.throws(() => rescaleContent(img, new Uint8Array(5), { factor: 2, cx: 0, cy: 0, blend: 1 }), /mask has 5 entries, the image 40×30 pixels/);
});

test('synthesizeRescaled: inside the frame the model sees, seeded; pixels outside the mask untouched', () => {
  const img = image(200, 120);
  const g = { resize: 120, crop: 100, fit: 'crop' as const };
  const box = frameBox(img.width, img.height, g);
  let changedImages = 0;
  for (let seed = 0; seed < 20; seed++) {
    const { image: out, mask } = synthesizeRescaled(img, g, new Rng(seed));
    let changed = 0;
    for (let p = 0; p < img.width * img.height; p++) {
      const same = [0, 1, 2].every((c) => out.data[p * 3 + c] === img.data[p * 3 + c]);
      if (!mask[p]) assert.ok(same, `seed ${seed}: pixel ${p} outside the mask changed`);
      else {
        const x = p % img.width;
        const y = Math.floor(p / img.width);
        assert.ok(
          x >= Math.floor(box.x0) && x < box.x0 + box.width && y >= Math.floor(box.y0) && y < box.y0 + box.height,
          `seed ${seed}: ${x},${y} outside the frame`,
        );
        if (!same) changed++;
      }
    }
    if (changed > 0) changedImages++;
  }
  assert.ok(changedImages >= 18, `only ${changedImages} of 20 copies changed`);
  assert.deepEqual(synthesizeRescaled(img, g, new Rng(3)).image.data, synthesizeRescaled(img, g, new Rng(3)).image.data);
});

test("SyntheticFakes.create: 'stains+rescaled' keeps every stained row and its offset, adds rescaled rows, never a row twice", async () => {
  const train = await writeTrainingImages(
    testTempDir('simplenet-fakes-'),
    [0, 1, 2, 3].map((i) => image(96, 80 + 4 * i)),
  );
  const config = parseConfig({ image: { resize: 72, crop: 64, fit: 'crop' } });
  const { extractor, cache } = await extractTrainingFeatures(train, smallResNet(), config, { reporter: silentReporter });
  try {
    const stains = await SyntheticFakes.create(extractor, train, cache, { seed: 2, reporter: silentReporter });
    const both = await SyntheticFakes.create(extractor, train, cache, { seed: 2, kind: 'stains+rescaled', reporter: silentReporter });
    assert.ok(both.rowCount > stains.rowCount, `${both.rowCount} rows with the rescaled copies, ${stains.rowCount} without`);
    for (let i = 0; i < train.length; i++) {
      const s = stains.batch([i]);
      const sRows = Array.from(s.rows);
      const sOffsets = Array.from(s.offsets);
      const b = both.batch([i]);
      assert.equal(new Set(b.rows).size, b.rows.length, `image ${i}: a row twice`);
      assert.deepEqual(Array.from(b.rows.subarray(0, sRows.length)), sRows, `image ${i}: the stained rows first, as before`);
      assert.deepEqual(Array.from(b.offsets.subarray(0, sOffsets.length)), sOffsets, `image ${i}: the stains' offsets unchanged`);
    }
  } finally {
    await extractor.release();
    cache.release();
  }
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
