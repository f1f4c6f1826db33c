import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor } from '../../onnx/tensor.js';
import { golden } from '../../testing/golden.js';
import { patternImage } from '../../testing/patterns.js';
import { runGraph } from '../../testing/runGraph.js';
import { addPreprocess } from '../preprocess.js';

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

async function cropOf(hwc: Uint8Array, w: number, h: number, c: number, resize: number, crop: number) {
  const [out] = await runGraph({ image: tensor('uint8', [1, h, w, c], hwc) }, (g, v) => addPreprocess(g, v.image, { resize, crop }));
  return out;
}

/** Compares our [1,C,crop,crop] output in [0,1] with PIL's uint8 HWC crop, pixel for pixel. */
function assertSamePixels(ours: Float32Array, pil: Uint8Array, crop: number, label: string) {
  let mismatches = 0;
  for (let y = 0; y < crop; y++) {
    for (let x = 0; x < crop; x++) {
      for (let c = 0; c < 3; c++) {
        const mine = Math.round(ours[c * crop * crop + y * crop + x] * 255);
        if (mine !== pil[(y * crop + x) * 3 + c]) mismatches++;
      }
    }
  }
  assert.equal(mismatches, 0, `${label}: ${mismatches} pixels differ from PIL`);
}

for (const [w, h, resize, crop] of [
  [900, 900, 329, 288],
  [800, 600, 329, 288],
  [100, 100, 329, 288],
  [1500, 2000, 329, 288],
  [37, 23, 20, 16],
  [31, 57, 13, 11],
]) {
  test(`resize ${w}×${h} → shorter side ${resize}, crop ${crop}: identical to torchvision/PIL`, async () => {
    const ours = await cropOf(patternImage(w, h), w, h, 3, resize, crop);
    assertSamePixels(ours, golden(`pipeline/crop_${w}x${h}_${resize}_${crop}.npy`).data as Uint8Array, crop, `${w}x${h}`);
  });
}

test('random noise image: identical to PIL', async () => {
  const input = golden('pipeline/noise_input.npy');
  const ours = await cropOf(input.data as Uint8Array, 61, 45, 3, 29, 24);
  assertSamePixels(ours, golden('pipeline/noise_crop_29_24.npy').data as Uint8Array, 24, 'noise');
});

test('a grey image replicated to RGB is resized like PIL', async () => {
  const grey = golden('pipeline/grey_input.npy').data as Uint8Array;
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb.fill(grey[i], i * 3, i * 3 + 3);
  const ours = await cropOf(rgb, 47, 33, 3, 20, 18);
  assertSamePixels(ours, golden('pipeline/grey_crop_20_18.npy').data as Uint8Array, 18, 'grey');
});

test('normalisation follows ToTensor + Normalize in float32', async () => {
  const [out] = await runGraph({ image: tensor('uint8', [1, 23, 37, 3], patternImage(37, 23)) }, (g, v) =>
    addPreprocess(g, v.image, { resize: 20, crop: 16, ...IMAGENET }),
  );
  const pil = golden('pipeline/crop_37x23_20_16.npy').data as Uint8Array;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 16 * 16; i++) {
      const u = Math.fround(pil[i * 3 + c] / 255);
      const expected = Math.fround(Math.fround(u - Math.fround(IMAGENET.mean[c])) / Math.fround(IMAGENET.std[c]));
      assert.ok(Math.abs(out[c * 256 + i] - expected) <= 1e-6, `channel ${c} pixel ${i}: ${out[c * 256 + i]} vs ${expected}`);
    }
  }
});

test('a batch of images of one size is processed image by image', async () => {
  const a = patternImage(37, 23);
  const b = a.map((v) => 255 - v);
  const both = new Uint8Array(a.length * 2);
  both.set(a);
  both.set(b, a.length);
  const [out] = await runGraph({ image: tensor('uint8', [2, 23, 37, 3], both) }, (g, v) => addPreprocess(g, v.image, { resize: 20, crop: 16 }));
  const single = await cropOf(b, 37, 23, 3, 20, 16);
  assert.deepEqual(Array.from(out.subarray(3 * 256)), Array.from(single));
});

test('crop larger than resize is refused with a clear error', async () => {
  await assert.rejects(
    runGraph({ image: tensor('uint8', [1, 4, 4, 3], new Uint8Array(48)) }, (g, v) => addPreprocess(g, v.image, { resize: 10, crop: 12 })),
    /resize >= crop/,
  );
});
