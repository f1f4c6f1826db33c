/** train.haloReals: the ring of patches around a synthetic defect, kept as real rows, and the step that takes them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentReporter } from '../../core/progress.js';
import { Rng } from '../../core/rng.js';
import { headConfig } from '../../heads/config.js';
import { initHeadParams, PARAM_NAMES } from '../../heads/params.js';
import { TrainStep } from '../../heads/trainStep.js';
import { effectiveHalo, parseConfig } from '../../model/config.js';
import { ortTensor } from '../../onnx/session.js';
import { assertClose } from '../../testing/golden.js';
import { smallResNet } from '../../testing/smallBackbone.js';
import { writeTrainingImages } from '../../testing/fixtures.js';
import { testTempDir } from '../../testing/tempDir.js';
import { DEFECT_HITS } from '../../validation/syntheticDefects.js';
import { haloRows } from '../haloRows.js';
import { SyntheticFakes } from '../syntheticFakes.js';
import { extractTrainingFeatures } from '../trainingFeatures.js';

test('haloRows: the untouched patches from `from` to `radius` patches of the nearest defective one, by a direct search', () => {
  const grid = { height: 7, width: 9 };
  const rng = new Rng(3);
  for (let trial = 0; trial < 20; trial++) {
    const hits = Uint8Array.from({ length: 63 }, () => (rng.nextFloat() < 0.08 ? 5 + rng.nextInt(5) : rng.nextFloat() < 0.1 ? 1 + rng.nextInt(4) : 0));
    for (const radius of [0, 1, 2, 3]) {
      for (const from of [1, 2, 3]) {
        const want: number[] = [];
        for (let r = 0; r < 63; r++) {
          if (hits[r] !== 0) continue;
          const [i, j] = [Math.floor(r / 9), r % 9];
          let nearest = Infinity;
          for (let q = 0; q < 63; q++) {
            if (hits[q] >= DEFECT_HITS) nearest = Math.min(nearest, Math.max(Math.abs(Math.floor(q / 9) - i), Math.abs((q % 9) - j)));
          }
          if (nearest >= from && nearest <= radius) want.push(r);
        }
        assert.deepEqual(haloRows(hits, grid, radius, from), want, `trial ${trial}, radius ${radius}, from ${from}`);
        if (from === 1) assert.deepEqual(haloRows(hits, grid, radius), want, 'from defaults to the adjacent patches');
      }
    }
  }
  const one = new Uint8Array(63);
  one[4 * 9 + 4] = 9;
  one[4 * 9 + 5] = 2; // touched by the mask: neither defect nor ring
  assert.deepEqual(haloRows(one, grid, 1), [30, 31, 32, 39, 48, 49, 50]);
  assert.deepEqual(haloRows(one, grid, 0), []);
  assert.deepEqual(
    haloRows(one, grid, 2, 2),
    [20, 21, 22, 23, 24, 29, 33, 38, 42, 47, 51, 56, 57, 58, 59, 60],
    'the ring two out, without the adjacent patches',
  );
  assert.throws(() => haloRows(one, grid, 2, 0), /from must be an integer ≥ 1, got 0/);
  assert.deepEqual(haloRows(one, grid, 255), haloRows(one, grid, 8), 'a radius past the grid is the whole grid, with no overflow');
  assert.throws(() => haloRows(one, grid, 1.5), /radius must be an integer ≥ 0, got 1.5/);
  assert.throws(() => haloRows(new Uint8Array(5), grid, 1), /hits must have 7×9 entries, got 5/);
});

test('givenReals: the step equals the plain step fed X with those rows moved by their offsets, given fakes and all', async () => {
  const R = 24;
  const D = 12;
  const cfg = headConfig({
    featureDim: D,
    hiddenDim: 8,
    noiseStd: 0.3,
    loss: 'logistic',
    ascentSteps: 1,
    fakesThroughAdaptor: true,
    extrapolatedFakes: 0.25,
  });
  const rng = new Rng(9);
  const params = initHeadParams(cfg, rng);
  const x = Float32Array.from({ length: R * D }, () => rng.normal());
  const reals = { rows: Int32Array.of(5, 1, 17), offsets: Float32Array.from({ length: 3 * D }, () => 0.7 * rng.normal()) };
  const fakes = { rows: Int32Array.of(2, 11), offsets: Float32Array.from({ length: 2 * D }, () => 0.5 * rng.normal()) };
  const moved = x.slice();
  reals.rows.forEach((r, k) => {
    for (let d = 0; d < D; d++) moved[r * D + d] = Math.fround(x[r * D + d] + reals.offsets[k * D + d]);
  });
  const withReals = await TrainStep.create(cfg, params, { noise: { seed: 4 }, givenFakes: true, givenReals: true });
  const fedMoved = await TrainStep.create(cfg, params, { noise: { seed: 4 }, givenFakes: true });
  const none = await TrainStep.create(cfg, params, { noise: { seed: 4 }, givenFakes: true, givenReals: true });
  const plain = await TrainStep.create(cfg, params, { noise: { seed: 4 }, givenFakes: true });
  try {
    for (let s = 0; s < 2; s++) {
      const a = await withReals.step(ortTensor('float32', [R, D], x), { givenFakes: fakes, givenReals: reals });
      const b = await fedMoved.step(ortTensor('float32', [R, D], moved), { givenFakes: fakes });
      assertClose([a.loss], [b.loss], { rtol: 1e-6, label: `step ${s + 1} loss` });
      const c = await none.step(ortTensor('float32', [R, D], x), { givenFakes: fakes, givenReals: { rows: new Int32Array(0), offsets: new Float32Array(0) } });
      const d = await plain.step(ortTensor('float32', [R, D], x), { givenFakes: fakes });
      assert.equal(c.loss, d.loss, `step ${s + 1}: no given reals is the plain step`);
    }
    for (const n of PARAM_NAMES) assertClose(withReals.params()[n].data, fedMoved.params()[n].data, { rtol: 1e-5, atol: 1e-7, label: n });
    const xt = ortTensor('float32', [R, D], x);
    await assert.rejects(withReals.step(xt, { givenFakes: fakes }), /opts.givenReals must be \{ rows: Int32Array of K, offsets: Float32Array of K×12 \}/);
    await assert.rejects(
      withReals.step(xt, { givenFakes: fakes, givenReals: { rows: Int32Array.of(3, 3), offsets: new Float32Array(2 * D) } }),
      /opts.givenReals.rows must be distinct rows in \[0, 24\), got 3 at 1/,
    );
    await assert.rejects(plain.step(xt, { givenFakes: fakes, givenReals: reals }), /givenReals needs a step created with givenReals: true/);
  } finally {
    for (const s of [withReals, fedMoved, none, plain]) await s.release();
  }
});

test('SyntheticFakes.reals lays out the halo rows as batch lays out the fakes; fromOffsets refuses a halo row among the fakes', () => {
  const dim = 2;
  const fakes = SyntheticFakes.fromOffsets(
    [
      { rows: Int32Array.of(1), offsets: Float32Array.of(1, 2), haloRows: Int32Array.of(0, 2), haloOffsets: Float32Array.of(7, 8, 9, 10) },
      { rows: new Int32Array(0), offsets: new Float32Array(0) },
    ],
    3,
    dim,
  );
  assert.equal(fakes.haloCount, 2);
  const r = fakes.reals([1, 0]);
  assert.deepEqual(Array.from(r.rows), [3, 5]);
  assert.deepEqual(Array.from(r.offsets), [7, 8, 9, 10]);
  assert.equal(fakes.reals([1]).rows.length, 0);
  assert.deepEqual(Array.from(fakes.batch([1, 0]).rows), [4], 'the fakes as before');
  const bad = { rows: Int32Array.of(1), offsets: Float32Array.of(1, 2), haloRows: Int32Array.of(1), haloOffsets: Float32Array.of(0, 0) };
  assert.throws(() => SyntheticFakes.fromOffsets([bad], 3, dim), /halo row outside 0 … 2 or among its fake rows/);
  assert.throws(
    () => SyntheticFakes.fromOffsets([{ ...bad, haloRows: Int32Array.of(0), haloOffsets: new Float32Array(3) }], 3, dim),
    /1 halo rows but 3 halo offset values/,
  );
});

test('SyntheticFakes.create with a halo radius: the same fakes, and real rows beside them, none a fake, none twice', async () => {
  const rng = new Rng(11);
  const noise = () => ({ width: 96, height: 88, channels: 3 as const, data: Uint8Array.from({ length: 96 * 88 * 3 }, () => 60 + rng.nextInt(120)) });
  const train = await writeTrainingImages(testTempDir('simplenet-halo-'), [noise(), noise(), noise()]);
  const config = parseConfig({ image: { resize: 72, crop: 64, fit: 'crop' } });
  const { extractor, cache } = await extractTrainingFeatures(train, smallResNet(), config, { reporter: silentReporter });
  try {
    const kind = 'stains+rescaled' as const;
    const plain = await SyntheticFakes.create(extractor, train, cache, { seed: 2, kind, reporter: silentReporter });
    const halo = await SyntheticFakes.create(extractor, train, cache, { seed: 2, kind, haloRadius: 2, reporter: silentReporter });
    assert.equal(plain.haloCount, 0);
    assert.ok(halo.haloCount > 0, 'some patches lie beside a defect');
    for (let i = 0; i < train.length; i++) {
      const [a, b] = [plain.batch([i]), halo.batch([i])];
      assert.deepEqual(Array.from(b.rows), Array.from(a.rows), `image ${i}: the fake rows unchanged`);
      assert.deepEqual(Array.from(b.offsets), Array.from(a.offsets), `image ${i}: their offsets unchanged`);
      const r = halo.reals([i]);
      assert.equal(new Set(r.rows).size, r.rows.length, `image ${i}: a halo row twice`);
      const fake = new Set(b.rows);
      assert.ok(
        Array.from(r.rows).every((row) => !fake.has(row)),
        `image ${i}: a halo row is also a fake`,
      );
      if (r.rows.length > 0)
        assert.ok(
          r.offsets.some((v) => v !== 0),
          `image ${i}: the ring's features changed with the copy`,
        );
    }
    assert.equal(halo.reals([0, 1, 2]).targets, undefined, 'a ring without a soft target gives no targets');
    // The ring two out only (haloRows' direct search checks which rows): fewer rows, still no fake among them.
    const outer = await SyntheticFakes.create(extractor, train, cache, { seed: 2, kind, haloRadius: 2, haloFrom: 2, reporter: silentReporter });
    assert.ok(outer.haloCount > 0 && outer.haloCount < halo.haloCount, `${outer.haloCount} rows two out against ${halo.haloCount} in the whole ring`);
    for (let i = 0; i < train.length; i++) {
      const fake = new Set(outer.batch([i]).rows);
      assert.ok(
        Array.from(outer.reals([i]).rows).every((row) => !fake.has(row)),
        `image ${i}: a row two out is also a fake`,
      );
    }
    assert.deepEqual([plain.keepsReals, plain.softReals, halo.keepsReals, halo.softReals], [false, false, true, false], 'what a step must be created with');
    // The partly covered patches: every target a share of 1 … DEFECT_HITS − 1 of 9 points, the ring's its own.
    const part = await SyntheticFakes.create(extractor, train, cache, { seed: 2, kind, partial: true, reporter: silentReporter });
    const both = await SyntheticFakes.create(extractor, train, cache, {
      seed: 2,
      kind,
      haloRadius: 2,
      haloTarget: 0.5,
      partial: true,
      reporter: silentReporter,
    });
    const shares = new Set(Array.from({ length: DEFECT_HITS - 1 }, (_, k) => Math.fround((k + 1) / 9)));
    assert.ok(part.haloCount > 0, 'some patches are partly covered');
    assert.deepEqual([part.keepsReals, part.softReals, both.softReals], [true, true, true]);
    assert.ok(both.haloCount > Math.max(part.haloCount, halo.haloCount) && both.haloCount <= part.haloCount + halo.haloCount);
    for (let i = 0; i < train.length; i++) {
      assert.deepEqual(Array.from(part.batch([i]).rows), Array.from(plain.batch([i]).rows), `image ${i}: the fake rows unchanged`);
      const p = part.reals([i]);
      assert.ok(p.targets && p.targets.length === p.rows.length && p.targets.every((t) => shares.has(t)), `image ${i}: targets ${p.targets}`);
      const fake = new Set(part.batch([i]).rows);
      assert.ok(
        Array.from(p.rows).every((row) => !fake.has(row)),
        `image ${i}: a partly covered row is also a fake`,
      );
      const ring = new Set(halo.reals([i]).rows);
      const b = both.reals([i]);
      b.rows.forEach((row, j) => {
        // A row in the ring of one copy and partly covered by another keeps the first copy's target.
        if (!ring.has(row)) assert.ok(shares.has(b.targets?.[j] ?? -1), `image ${i} row ${row}: ${b.targets?.[j]}`);
        else assert.ok(b.targets?.[j] === 0.5 || shares.has(b.targets?.[j] ?? -1), `image ${i} row ${row}`);
      });
    }
  } finally {
    await extractor.release();
    cache.release();
  }
});

test('train.haloReals: an integer 0 … 4, default 2 (the ring two out); a ring only around synthetic fakes', () => {
  assert.equal(parseConfig({}).train.haloReals, 2);
  assert.deepEqual(effectiveHalo(parseConfig({})), { radius: 2, from: 2, target: 0, partial: false }, 'the ring two out, as real, by default');
  assert.deepEqual(effectiveHalo(parseConfig({ train: { haloReals: 0 } })), { radius: 0, from: 1, target: 0, partial: false }, 'no ring');
  assert.throws(() => parseConfig({ train: { haloReals: 1.5 } }), /train.haloReals/);
  assert.throws(() => parseConfig({ train: { haloReals: 5 } }), /train.haloReals/);
  assert.deepEqual(effectiveHalo(parseConfig({ train: { haloReals: 3 } })), { radius: 3, from: 2, target: 0, partial: false });
  assert.deepEqual(
    effectiveHalo(parseConfig({ train: { syntheticFakes: 'none' } })),
    { radius: 0, from: 1, target: 0, partial: false },
    'no synthetic defect, no ring',
  );
});

test('train.haloFrom: an integer 1 … 4, default 2, at most haloReals; it moves only a ring that is trained', () => {
  assert.equal(parseConfig({}).train.haloFrom, 2);
  assert.deepEqual(effectiveHalo(parseConfig({ train: { haloFrom: 1 } })), { radius: 2, from: 1, target: 0, partial: false }, 'the adjacent patches too');
  assert.throws(() => parseConfig({ train: { haloReals: 2, haloFrom: 3 } }), /train\.haloFrom: must be at most train\.haloReals/);
  assert.throws(() => parseConfig({ train: { haloReals: 1 } }), /haloFrom 1 starts it at the adjacent patches/, 'the adjacent ring alone asks for haloFrom 1');
  assert.deepEqual(effectiveHalo(parseConfig({ train: { haloReals: 1, haloFrom: 1 } })), { radius: 1, from: 1, target: 0, partial: false });
  assert.throws(() => parseConfig({ train: { haloFrom: 0 } }), /train.haloFrom/);
  assert.deepEqual(
    effectiveHalo(parseConfig({ train: { haloReals: 0, haloFrom: 3 } })),
    { radius: 0, from: 1, target: 0, partial: false },
    'no ring, nothing to move',
  );
  assert.deepEqual(
    effectiveHalo(parseConfig({ head: { loss: 'truncated-l1' }, train: { haloTarget: 0.5 } })),
    {
      radius: 0,
      from: 1,
      target: 0,
      partial: false,
      dropped: effectiveHalo(parseConfig({ head: { loss: 'truncated-l1' }, train: { haloFrom: 1, haloTarget: 0.5 } })).dropped,
    },
    'a soft ring that cannot be trained has no inner radius either',
  );
});

test('train.haloTarget: in [0, 1), default 0 (the ring as real); under the truncated L1 or hard rows no soft ring is trained, with a reason to warn', () => {
  assert.equal(parseConfig({}).train.haloTarget, 0);
  assert.deepEqual(effectiveHalo(parseConfig({})), { radius: 2, from: 2, target: 0, partial: false }, 'the ring as real');
  assert.deepEqual(effectiveHalo(parseConfig({ train: { haloTarget: 0.5 } })), { radius: 2, from: 2, target: 0.5, partial: false }, 'a soft ring');
  assert.throws(() => parseConfig({ train: { haloTarget: 1 } }), /train.haloTarget/);
  assert.throws(() => parseConfig({ train: { haloTarget: -0.1 } }), /train.haloTarget/);
  for (const head of [{ loss: 'truncated-l1' }, { hardFraction: 0.5 }]) {
    const halo = effectiveHalo(parseConfig({ head, train: { haloTarget: 0.5 } }));
    assert.equal(halo.radius, 0, JSON.stringify(head));
    assert.match(
      halo.dropped ?? '',
      /soft targets are cross-entropy targets .*train.haloTarget 0.5 \(no ring around the synthetic defects is trained; set train.haloTarget 0 to train it as real\)/,
    );
  }
  assert.deepEqual(
    effectiveHalo(parseConfig({ head: { loss: 'truncated-l1' }, train: { haloReals: 0 } })),
    { radius: 0, from: 1, target: 0, partial: false },
    'no ring asked, nothing to warn of',
  );
  for (const head of [{ loss: 'truncated-l1' }, { hardFraction: 0.5 }])
    assert.deepEqual(
      effectiveHalo(parseConfig({ head })),
      { radius: 2, from: 2, target: 0, partial: false },
      `the default ring is already real, so it trains under ${JSON.stringify(head)}`,
    );
});

test("train.partialPatches: 'clean' by default; 'coverage' only with synthetic fakes and the cross-entropy on every row", () => {
  assert.equal(parseConfig({}).train.partialPatches, 'clean');
  assert.throws(() => parseConfig({ train: { partialPatches: 'half' } }), /train.partialPatches/);
  const coverage = { partialPatches: 'coverage' } as const;
  assert.deepEqual(effectiveHalo(parseConfig({ train: { ...coverage, haloReals: 0 } })), { radius: 0, from: 1, target: 0, partial: true });
  assert.deepEqual(effectiveHalo(parseConfig({ train: coverage })), { radius: 2, from: 2, target: 0, partial: true });
  assert.deepEqual(effectiveHalo(parseConfig({ train: { ...coverage, syntheticFakes: 'none' } })), { radius: 0, from: 1, target: 0, partial: false });
  for (const head of [{ loss: 'truncated-l1' }, { hardFraction: 0.5 }]) {
    const halo = effectiveHalo(parseConfig({ head, train: { ...coverage, haloReals: 2, haloTarget: 0 } }));
    assert.deepEqual([halo.radius, halo.partial], [2, false], JSON.stringify(head));
    assert.match(halo.dropped ?? '', /train.partialPatches 'coverage' \(the partly covered patches are not trained\)$/);
  }
});
