/**
 * Issue 13, whole-image coverage: on a 2:1 image, a bright square in a corner is inside what the
 * model scores (a knn head: distance to the nearest training patch, so no training noise) for 'squash', 'letterbox' and the default 'tile' (two square tiles, their grids stitched) (the map's maximum lies where the
 * fit puts the corner) and outside for the paper's 'crop' (the score does not rise); masks follow
 * the same geometry; the exported graph agrees with in-process scoring for every fit; scoring a
 * cropped image warns once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { type Detector, train } from '../../index.js';
import { runCli } from '../../testing/cli.js';
import { makeTinyBackbone, TINY_CONFIG } from '../../testing/fixtures.js';
import { decodeImage } from '../decode.js';
import type { ImageFit } from '../fit.js';
import { MaskLoader } from '../maskLoader.js';
import { testTempDir } from '../../testing/tempDir.js';

const W = 64;
const H = 32;
/** The defect: a bright 8×8 square 2 px from the top-left corner. */
const DEFECT = { x: 2, y: 2, s: 8 };

function pixels(seed: number, defect?: typeof DEFECT): Buffer {
  const px = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inDefect = defect && x >= defect.x && x < defect.x + defect.s && y >= defect.y && y < defect.y + defect.s;
      for (let c = 0; c < 3; c++) px[(y * W + x) * 3 + c] = inDefect ? 250 - c * 40 : 60 + ((x * (2 + c) + y * 3 + seed * 7) % 90);
    }
  }
  return px;
}

const png = (path: string, px: Buffer, channels: 1 | 3) =>
  sharp(px, { raw: { width: W, height: H, channels } })
    .png()
    .toFile(path);

/** Where the defect's centre lands in the 32×32 frame of each fit (images/fit.ts geometry). */
const FRAME = 32;
const CENTRE = { x: DEFECT.x + DEFECT.s / 2, y: DEFECT.y + DEFECT.s / 2 };
const expectedCentre: Record<Exclude<ImageFit, 'crop'>, { x: number; y: number }> = {
  squash: { x: (CENTRE.x * FRAME) / W, y: (CENTRE.y * FRAME) / H },
  letterbox: { x: (CENTRE.x * FRAME) / W, y: 8 + (CENTRE.y * FRAME) / W },
  // 'tile' gives its stitched maps in squash's frame (images/fit.ts frameGeometry).
  tile: { x: (CENTRE.x * FRAME) / W, y: (CENTRE.y * FRAME) / H },
};

/** The defect's box in the frame, grown by one patch of the tiny backbone's finest layer (stride 4). */
function nearDefect(fit: Exclude<ImageFit, 'crop'>, at: { x: number; y: number }): boolean {
  const sx = FRAME / W;
  const sy = fit === 'letterbox' ? FRAME / W : FRAME / H;
  const y0 = fit === 'letterbox' ? 8 : 0;
  const grow = 4;
  return (
    at.x >= DEFECT.x * sx - grow &&
    at.x < (DEFECT.x + DEFECT.s) * sx + grow &&
    at.y >= y0 + DEFECT.y * sy - grow &&
    at.y < y0 + (DEFECT.y + DEFECT.s) * sy + grow
  );
}

function argmax(map: Float32Array): { x: number; y: number } {
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
  return { x: best % FRAME, y: Math.floor(best / FRAME) };
}

describe('whole-image coverage on a 2:1 image', () => {
  const dir = testTempDir('simplenet-fit-');
  const data = join(dir, 'data');
  const defective = join(data, 'long/test/spot/000.png');
  // The defective image without its defect: what the score is when the defect is not seen.
  const good = join(data, 'long/test/good/000.png');
  const mask = join(data, 'long/ground_truth/spot/000_mask.png');
  const detectors = new Map<ImageFit, Detector>();
  const warnings = new Map<ImageFit, string[]>();
  before(async () => {
    for (const d of ['train/good', 'test/good', 'test/spot', 'ground_truth/spot']) mkdirSync(join(data, 'long', d), { recursive: true });
    for (let i = 0; i < 6; i++) await png(join(data, 'long/train/good', `00${i}.png`), pixels(i), 3);
    await png(good, pixels(200), 3);
    await png(defective, pixels(200, DEFECT), 3);
    const m = Buffer.alloc(W * H);
    for (let y = DEFECT.y; y < DEFECT.y + DEFECT.s; y++) m.fill(255, y * W + DEFECT.x, y * W + DEFECT.x + DEFECT.s);
    await png(mask, m, 1);
    const backbone = makeTinyBackbone(join(dir, 'backbone'));
    for (const fit of ['crop', 'squash', 'letterbox', 'tile'] as const) {
      const lines: string[] = [];
      warnings.set(fit, lines);
      // The knn head (distance to the nearest training patch): no training noise in a geometry test.
      const detector = await train({
        data: { format: 'mvtec', root: data, category: 'long' },
        backbone,
        out: join(dir, `model-${fit}`),
        config: {
          ...TINY_CONFIG,
          image: { ...TINY_CONFIG.image, fit },
          head: { kind: 'knn' },
          knn: { coresetFraction: 1, projectionDim: 8 },
          map: { sigma: 1 },
        },
        onProgress: (e) => {
          if (e.type === 'warning') lines.push(e.message);
        },
        detector: { onProgress: (e) => (e.type === 'warning' ? lines.push(e.message) : undefined) },
      });
      detectors.set(fit, detector);
    }
  });

  test("the default fit is 'tile' ('auto' tiles) and a model folder keeps the fit it was trained with", async () => {
    const { defaultConfig } = await import('../../model/config.js');
    assert.equal(defaultConfig().image.fit, 'tile');
    assert.equal(defaultConfig().image.tiles, 'auto');
    for (const [fit, d] of detectors) assert.equal(d.info.fit, fit);
  });

  test("tile: 'auto' resolves to two square tiles for the 2:1 images, stored in the model", () => {
    const d = detectors.get('tile')!;
    assert.deepEqual(d.model.config.image.tiles, [1, 2]);
    assert.ok(warnings.get('tile')!.every((l) => !l.includes('image.fit')));
  });

  test('tile with the SimpleNet head: validation labels synthetic defects on the stitched grid, the model scores every tile', async () => {
    const lines: string[] = [];
    const d = await train({
      data: { format: 'mvtec', root: data, category: 'long' },
      backbone: join(dir, 'backbone', 'tiny.json'),
      out: join(dir, 'model-tile-simplenet'),
      config: { ...TINY_CONFIG, image: { ...TINY_CONFIG.image, fit: 'tile' }, train: { epochs: 2, batchSize: 2 }, threshold: { validationFraction: 0.34 } },
      onProgress: (e) => (e.type === 'info' ? lines.push(e.message) : undefined),
    });
    try {
      assert.deepEqual(d.model.config.image.tiles, [1, 2]);
      assert.ok(
        lines.some((l) => /image\.fit 'tile': 1×2 tiles of 32×32/.test(l)),
        lines.join(' | '),
      );
      const log = readFileSync(join(dir, 'model-tile-simplenet', 'training_log.csv'), 'utf8')
        .trim()
        .split('\n');
      for (const row of log.slice(1)) {
        const patch = Number(row.split(',')[7]);
        assert.ok(patch >= 0 && patch <= 1, `validation patch AUROC on the stitched grid: ${row}`);
      }
      const r = await d.score(defective);
      assert.equal(r.anomalyMap.length, FRAME * FRAME);
      assert.ok(Number.isFinite(r.score) && r.anomalyMap.every(Number.isFinite));
    } finally {
      await d.close();
    }
  });

  for (const fit of ['squash', 'letterbox', 'tile'] as const) {
    test(`${fit}: the corner defect is scored, where the fit puts it`, async () => {
      const d = detectors.get(fit)!;
      const bad = await d.score(defective);
      const ok = await d.score(good);
      assert.ok(bad.score > 2 * ok.score, `${fit}: defect ${bad.score} vs the same image without it ${ok.score}`);
      const at = argmax(bad.anomalyMap);
      const want = expectedCentre[fit];
      assert.ok(nearDefect(fit, at), `${fit}: map maximum at (${at.x}, ${at.y}), the defect's centre is at (${want.x}, ${want.y})`);
    });
  }

  test('crop: the corner defect is outside what the model sees (its score does not rise) and train warns', async () => {
    const d = detectors.get('crop')!;
    const bad = await d.score(defective);
    const ok = await d.score(good);
    // Not a pixel of the defect reaches the crop (resized x < 12, the crop starts at 20): the same score.
    assert.ok(Math.abs(bad.score - ok.score) <= 1e-6 * ok.score, `crop: defect ${bad.score} vs the same image without it ${ok.score}`);
    const lines = warnings.get('crop')!;
    assert.equal(lines.filter((l) => l.startsWith("image.fit 'crop' keeps")).length, 2, `train once, the detector once: ${lines.join(' | ')}`);
    assert.match(lines[0], /keeps 40 % of .*\.png \(64×32\)/);
    for (const fit of ['squash', 'letterbox', 'tile'] as const) assert.ok(!warnings.get(fit)!.some((l) => l.includes('image.fit keeps')), fit);
  });

  test('simplenet predict warns once, on stderr, for a cropping model; not for squash', () => {
    const images = [defective, good];
    const crop = runCli(['predict', '--model', join(dir, 'model-crop'), ...images, '--quiet']);
    assert.equal(crop.code, 0, crop.stderr);
    const lines = crop.stderr.split('\n').filter((l) => l.includes("image.fit 'crop' keeps"));
    assert.equal(lines.length, 1, crop.stderr);
    assert.match(lines[0], /^warning: image\.fit 'crop' keeps 40 % of .*spot\/000\.png \(64×32\)/);
    const squash = runCli(['predict', '--model', join(dir, 'model-squash'), ...images, '--quiet']);
    assert.equal(squash.code, 0, squash.stderr);
    assert.doesNotMatch(squash.stderr, /image\.fit/);
  });

  test('masks follow the images: the defect mask lands where the map maximum does (none for crop)', async () => {
    for (const fit of ['crop', 'squash', 'letterbox', 'tile'] as const) {
      const loader = await MaskLoader.create({ ...TINY_CONFIG.image, fit, tiles: [1, 2] });
      const { mask: m } = await loader.load(mask);
      await loader.release();
      const ones: { x: number; y: number }[] = [];
      for (let i = 0; i < m.length; i++) if (m[i]) ones.push({ x: i % FRAME, y: Math.floor(i / FRAME) });
      if (fit === 'crop') {
        assert.equal(ones.length, 0, 'the crop discards the corner, its mask too');
        continue;
      }
      const cx = ones.reduce((s, p) => s + p.x + 0.5, 0) / ones.length;
      const cy = ones.reduce((s, p) => s + p.y + 0.5, 0) / ones.length;
      const want = expectedCentre[fit];
      assert.ok(Math.abs(cx - want.x) <= 0.5 && Math.abs(cy - want.y) <= 0.5, `${fit}: mask centre (${cx}, ${cy}) vs (${want.x}, ${want.y})`);
      // Squash (and tile's frame) halves x only: 8×8 px → 4×8; letterbox halves both: 4×4.
      assert.equal(ones.length, fit === 'letterbox' ? 16 : 32, fit);
    }
  });

  test('evaluation: masks through the fit, letterbox padding left out of the pixel metrics', async () => {
    const spec = { format: 'mvtec' as const, root: data, category: 'long' };
    for (const fit of ['squash', 'letterbox', 'tile'] as const) {
      const { metrics } = await detectors.get(fit)!.evaluate(spec);
      assert.ok(metrics.pixel_auroc !== null && metrics.pixel_auroc > 0.9, `${fit}: pixel AUROC ${metrics.pixel_auroc}`);
      assert.equal(metrics.image_auroc, 1, fit);
      const note = metrics.notes.find((n) => n.includes('letterbox padding left out'));
      if (fit === 'letterbox') assert.match(note ?? '', /\(1024 of 2048 map pixels are image\)/);
      else assert.equal(note, undefined);
    }
  });

  test('the exported graph agrees with in-process scoring for every fit (maps and overlay background)', async () => {
    for (const [fit, d] of detectors) {
      const session = await ort.InferenceSession.create(await d.exportBytes({ batch: 'dynamic' }));
      for (const path of [defective, good]) {
        const im = await decodeImage(path);
        const out = await session.run({ image: new ort.Tensor('uint8', im.data, [1, im.height, im.width, 3]) });
        const r = await d.score(path);
        const ex = out.score.data as Float32Array;
        assert.ok(Math.abs(ex[0] - r.score) <= 1e-5 * Math.max(1, Math.abs(r.score)), `${fit}: export ${ex[0]} vs ${r.score}`);
        const map = out.anomaly_map.data as Float32Array;
        assert.equal(map.length, FRAME * FRAME);
        let diff = 0;
        for (let i = 0; i < map.length; i++) diff = Math.max(diff, Math.abs(map[i] - r.anomalyMap[i]));
        assert.ok(diff <= 1e-4 * Math.max(1, r.score), `${fit}: map differs by ${diff}`);
      }
      await session.release();
    }
  });

  test('the overlay background is the fitted image the model saw (image_crop): letterbox shows mean-colour bars', async () => {
    const { Detector } = await import('../../index.js');
    const d = await Detector.load(join(dir, 'model-letterbox'), { withCrop: true });
    const r = await d.score(good);
    const crop = r.crop!;
    assert.equal(crop.length, FRAME * FRAME * 3);
    // Tiny backbone mean 0.5: the bars are round(0.5·255) = 128; the image fills rows 8..23.
    for (const y of [0, 7, 24, 31]) assert.deepEqual(Array.from(crop.subarray(y * FRAME * 3, y * FRAME * 3 + 3)), [128, 128, 128], `row ${y}`);
    assert.notDeepEqual(Array.from(crop.subarray(16 * FRAME * 3, 16 * FRAME * 3 + 3)), [128, 128, 128]);
    await d.close();
  });
});
