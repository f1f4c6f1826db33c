import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor } from '../../onnx/tensor.js';
import { golden } from '../../testing/golden.js';
import { patternImage } from '../../testing/patterns.js';
import { runGraph } from '../../testing/runGraph.js';
import { coverageWarner, exactFitProblem, fitDownscale, frameBox, type ImageFit, keptShare, MAX_EXACT_DOWNSCALE } from '../fit.js';
import { addPreprocess, addPreprocessParts } from '../preprocess.js';

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** The uint8 frame (HWC) the graph gives for an image, as overlays see it. */
async function framed(hwc: Uint8Array, w: number, h: number, crop: number, fit: ImageFit): Promise<Float32Array> {
  const [out] = await runGraph({ image: tensor('uint8', [1, h, w, 3], hwc) }, (g, v) => {
    const { crop: c } = addPreprocessParts(g, v.image, { resize: crop, crop, fit, ...IMAGENET });
    return g.cast(g.op('Transpose', [c], { perm: [0, 2, 3, 1] }), 'float32');
  });
  return out;
}

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

for (const [w, h, crop] of [
  [61, 45, 24],
  [37, 23, 16],
  [31, 57, 11],
  [20, 9, 32],
  [150, 37, 40],
  [101, 100, 30],
  [300, 40, 48],
]) {
  for (const fit of ['squash', 'letterbox'] as const) {
    test(`${fit} ${w}×${h} → ${crop}×${crop}: identical to PIL (reference/golden_fit.py)`, async () => {
      const ours = await framed(patternImage(w, h), w, h, crop, fit);
      const pil = golden(`fit/${fit}_${w}x${h}_${crop}.npy`).data as Uint8Array;
      assert.equal(mismatches(ours, pil), 0, `${fit} ${w}×${h}: pixels differ from PIL`);
    });
  }
}

test('at the exact limit (225× shrink, 451 taps) squash is still identical to PIL, and white stays 255', async () => {
  const [w, h, crop] = [4500, 30, 20];
  assert.ok(fitDownscale(w, h, { resize: crop, crop, fit: 'squash' }) <= MAX_EXACT_DOWNSCALE);
  const ours = await framed(patternImage(w, h), w, h, crop, 'squash');
  assert.equal(mismatches(ours, golden(`fit/squash_${w}x${h}_${crop}.npy`).data as Uint8Array), 0);
  // Every tap at 255: the largest sums the digits can reach.
  const white = await framed(new Uint8Array(w * h * 3).fill(255), w, h, crop, 'squash');
  assert.equal(mismatches(white, new Uint8Array(crop * crop * 3).fill(255)), 0);
});

test('fitDownscale: the largest shrink of either axis, per fit', () => {
  const g = { resize: 329, crop: 288 };
  assert.ok(Math.abs(fitDownscale(900, 900, g) - 900 / 329) < 1e-12);
  assert.equal(fitDownscale(5760, 288, { ...g, fit: 'squash' }), 20);
  // The short side becomes round(288 / 5760 · 288) = 14 rows: 288 / 14 = 20.6.
  assert.equal(fitDownscale(5760, 288, { ...g, fit: 'letterbox' }), 288 / 14);
  assert.equal(fitDownscale(5760, 288, { ...g, fit: 'tile', tiles: [1, 4] }), 5);
  assert.ok(fitDownscale(100, 100, g) < 1);
});

test('exactFitProblem: none up to MAX_EXACT_DOWNSCALE, one line naming the image past it', () => {
  // The bound behind the constant (images/preprocess.ts): 255 · 127 · K + 2²¹ < 2²⁴ with K = 2·limit + 1 taps, not with K + 2.
  const taps = 2 * MAX_EXACT_DOWNSCALE + 1;
  assert.ok(255 * 127 * taps + 2 ** 21 < 2 ** 24 && 255 * 127 * (taps + 2) + 2 ** 21 >= 2 ** 24);
  const g = { resize: 329, crop: 288, fit: 'squash' as const };
  assert.equal(exactFitProblem(288 * MAX_EXACT_DOWNSCALE, 8, g, 'a.png'), undefined);
  assert.equal(
    exactFitProblem(70000, 8, g, 'strip.png'),
    "strip.png: 70000×8 would shrink 244× to fit image.fit 'squash', beyond the 226× up to which the resampling is exact; use image.fit 'tile' or a smaller image",
  );
  assert.equal(exactFitProblem(70000, 8, { ...g, fit: 'tile', tiles: [1, 8] }), undefined);
  assert.match(
    exactFitProblem(70000, 8, { ...g, fit: 'tile', tiles: [1, 1] }) ?? '',
    /^image: 70000×8 .*; use a model with more tiles \(image\.tiles\) or a smaller image$/,
  );
});

test('random noise: squash and letterbox identical to PIL', async () => {
  const input = golden('fit/noise_input.npy').data as Uint8Array;
  for (const fit of ['squash', 'letterbox'] as const) {
    const ours = await framed(input, 61, 45, 24, fit);
    assert.equal(mismatches(ours, golden(`fit/noise_${fit}_24.npy`).data as Uint8Array), 0, fit);
  }
});

test("squash of a square image equals 'crop' with resize = crop (the torchvision-exact path)", async () => {
  const img = patternImage(50, 50);
  const run = (fit: ImageFit) =>
    runGraph({ image: tensor('uint8', [1, 50, 50, 3], img) }, (g, v) => addPreprocess(g, v.image, { resize: 20, crop: 20, fit, ...IMAGENET }));
  const [[a], [b]] = await Promise.all([run('squash'), run('crop')]);
  assert.deepEqual(Array.from(a), Array.from(b));
});

test('every fit gives [N, C, crop, crop]; letterbox padding normalises to exactly 0', async () => {
  for (const fit of ['crop', 'squash', 'letterbox'] as const) {
    const [out] = await runGraph({ image: tensor('uint8', [2, 10, 40, 3], new Uint8Array(2 * 10 * 40 * 3).fill(200)) }, (g, v) =>
      addPreprocess(g, v.image, { resize: 18, crop: 16, fit, ...IMAGENET }),
    );
    assert.equal(out.length, 2 * 3 * 16 * 16, fit);
    if (fit !== 'letterbox') continue;
    // 40×10 → 16×4, rows 6..9 hold the image, the rest is padding.
    for (let y = 0; y < 16; y++) {
      const v = out[y * 16 + 5];
      if (y >= 6 && y < 10) assert.ok(Math.abs(v - (200 / 255 - 0.485) / 0.229) < 1e-5, `row ${y} is image`);
      else assert.equal(v, 0, `row ${y} is padding`);
    }
  }
});

test('an unknown fit is refused with a one-line error', async () => {
  await assert.rejects(
    runGraph({ image: tensor('uint8', [1, 4, 4, 3], new Uint8Array(48)) }, (g, v) =>
      addPreprocess(g, v.image, { resize: 4, crop: 4, fit: 'zoom' as ImageFit }),
    ),
    /fit must be one of crop, squash, letterbox, tile, got 'zoom'/,
  );
});

test('kept share and frame box: crop discards, squash and letterbox keep everything', () => {
  assert.ok(Math.abs(keptShare(900, 900, { resize: 329, crop: 288 }) - 288 ** 2 / 329 ** 2) < 1e-12);
  assert.ok(keptShare(1600, 400, { resize: 329, crop: 288 }) < 0.2);
  assert.equal(keptShare(64, 64, { resize: 64, crop: 64 }), 1);
  for (const fit of ['squash', 'letterbox'] as const) assert.equal(keptShare(1600, 400, { resize: 329, crop: 288, fit }), 1);
  assert.deepEqual(frameBox(80, 40, { resize: 36, crop: 32, fit: 'squash' }), { x0: 0, y0: 0, width: 80, height: 40 });
  assert.deepEqual(frameBox(80, 40, { resize: 36, crop: 32, fit: 'letterbox' }), { x0: 0, y0: -20, width: 80, height: 80 });
  const c = frameBox(80, 40, { resize: 40, crop: 32 });
  assert.deepEqual([c.x0, c.y0, c.width, c.height], [24, 4, 32, 32]);
});

test('the coverage warning fires once for crop on a non-square image, never for squash', () => {
  const lines: string[] = [];
  const reporter = { warn: (t: string) => lines.push(t) };
  const crop = coverageWarner({ resize: 288, crop: 288, fit: 'crop' }, reporter);
  crop('square.png', 500, 500);
  assert.equal(lines.length, 0, 'a square image at resize = crop loses nothing');
  crop('long.png', 1000, 250);
  crop('long2.png', 1000, 250);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^image\.fit 'crop' keeps 25 % of long\.png \(1000×250\)/);
  assert.ok(!lines[0].includes('\n'));
  const squash = coverageWarner({ resize: 288, crop: 288, fit: 'squash' }, reporter);
  squash('long.png', 1000, 250);
  assert.equal(lines.length, 1);
});
