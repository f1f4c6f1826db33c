/**
 * image.fit 'tile' (issue 13): the tiles are PIL's resize of the whole image onto the canvas, cut
 * row-major (reference/golden_fit.py); 'auto' follows the aspect; the stitching puts every tile's
 * patch back where it lies in the image; one tile is 'squash' exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addStitchTiles } from '../../embedding/stitchTiles.js';
import { tensor } from '../../onnx/tensor.js';
import { golden } from '../../testing/golden.js';
import { patternImage } from '../../testing/patterns.js';
import { runGraph } from '../../testing/runGraph.js';
import { frameBox, frameGeometry, keptShare, MAX_AUTO_TILES, resolveTiles, tileGrid } from '../fit.js';
import { addPreprocess } from '../preprocess.js';

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const base = { resize: 329, crop: 288, fit: 'tile' as const, tiles: 'auto' as const };

for (const [w, h, crop, rows, cols] of [
  [150, 37, 20, 1, 4],
  [31, 57, 11, 2, 1],
  [61, 45, 24, 2, 3],
  [37, 23, 16, 1, 1],
]) {
  test(`tile ${w}×${h} → ${rows}×${cols} tiles of ${crop}²: identical to PIL, row-major (reference/golden_fit.py)`, async () => {
    const [unit] = await runGraph({ image: tensor('uint8', [1, h, w, 3], patternImage(w, h)) }, (g, v) =>
      addPreprocess(g, v.image, { resize: crop, crop, fit: 'tile', tiles: [rows, cols] }),
    );
    const pil = golden(`fit/tile_${w}x${h}_${crop}_${rows}x${cols}.npy`).data as Uint8Array;
    assert.equal(unit.length, pil.length);
    let bad = 0;
    // ours [T, C, y, x] in [0, 1]; PIL's [T, y, x, C] uint8.
    for (let t = 0; t < rows * cols; t++) {
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < crop * crop; i++) {
          if (Math.round(unit[(t * 3 + c) * crop * crop + i] * 255) !== pil[(t * crop * crop + i) * 3 + c]) bad++;
        }
      }
    }
    assert.equal(bad, 0, 'tile pixels differ from PIL');
  });
}

test("one tile is 'squash' exactly (normalised pixels, bit for bit)", async () => {
  const img = patternImage(61, 45);
  const run = (opts: object) =>
    runGraph({ image: tensor('uint8', [2, 45, 61, 3], new Uint8Array([...img, ...img])) }, (g, v) =>
      addPreprocess(g, v.image, { resize: 24, crop: 24, ...IMAGENET, ...opts }),
    );
  const [[a], [b]] = await Promise.all([run({ fit: 'squash' }), run({ fit: 'tile', tiles: [1, 1] })]);
  assert.deepEqual(Array.from(a), Array.from(b));
});

test("'auto' resolves to square tiles along the longer side, at most MAX_AUTO_TILES; other fits are unchanged", () => {
  assert.deepEqual(resolveTiles(base, 1600, 500).tiles, [1, 3]);
  assert.deepEqual(resolveTiles(base, 500, 1600).tiles, [3, 1]);
  assert.deepEqual(resolveTiles(base, 900, 900).tiles, [1, 1]);
  assert.deepEqual(resolveTiles(base, 1000, 700).tiles, [1, 1]); // 1.43 rounds to 1: squash's mild distortion
  assert.deepEqual(resolveTiles(base, 100, 5000).tiles, [MAX_AUTO_TILES, 1]);
  assert.deepEqual(resolveTiles({ ...base, tiles: [2, 2] }, 1600, 500).tiles, [2, 2]);
  const squash = { resize: 329, crop: 288, fit: 'squash' as const };
  assert.equal(resolveTiles(squash, 1600, 500), squash);
});

test("tileGrid refuses an unresolved 'auto' and non-positive tiles; every other fit has one tile", () => {
  assert.throws(() => tileGrid(base), /'auto' must be resolved/);
  assert.throws(() => tileGrid({ ...base, tiles: [0, 2] }), /two positive integers, got \[0, 2\]/);
  assert.deepEqual(tileGrid({ ...base, tiles: [2, 3] }), [2, 3]);
  assert.deepEqual(tileGrid({ resize: 329, crop: 288, fit: 'squash', tiles: [2, 3] }), [1, 1]);
});

test("the maps' frame of 'tile' is squash's: the whole image", () => {
  const g = { ...base, tiles: [1, 3] as [number, number] };
  assert.deepEqual(frameGeometry(g), { resize: 329, crop: 288, fit: 'squash' });
  assert.deepEqual(frameBox(1600, 500, g), { x0: 0, y0: 0, width: 1600, height: 500 });
  assert.equal(keptShare(1600, 500, g), 1);
});

test('stitching puts each tile patch where it lies in the image (2 images, 2×3 tiles of 2×2 patches)', async () => {
  const [rows, cols, gh, gw, n] = [2, 3, 2, 2, 2];
  const count = n * rows * cols * gh * gw;
  // Tile order: image, tile row, tile column, patch row, patch column.
  const values = Float32Array.from({ length: count }, (_, i) => i);
  const [out, shape] = await runGraph({ x: tensor('float32', [count], values) }, (g, v) => {
    const s = addStitchTiles(g, v.x, { height: gh, width: gw }, [rows, cols]);
    return [s, g.cast(g.op('Shape', [s]), 'float32')];
  });
  assert.deepEqual(Array.from(shape), [n, rows * gh, cols * gw]);
  for (let m = 0; m < n; m++) {
    for (let y = 0; y < rows * gh; y++) {
      for (let x = 0; x < cols * gw; x++) {
        const [tr, tc, py, px] = [Math.floor(y / gh), Math.floor(x / gw), y % gh, x % gw];
        const want = (((m * rows + tr) * cols + tc) * gh + py) * gw + px;
        assert.equal(out[(m * rows * gh + y) * cols * gw + x], want, `image ${m} (${y}, ${x})`);
      }
    }
  }
});
