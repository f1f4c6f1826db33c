import { test } from 'node:test';
import { f32, type HostTensor } from '../../onnx/tensor.js';
import { assertClose, golden } from '../../testing/golden.js';
import { runGraph } from '../../testing/runGraph.js';
import { addAdaptivePool, addUnfold } from '../patchEmbed.js';
import { bilinearMatrix } from '../resample.js';

/** Applies the separable bilinear matrices to x [B, C, h, w] in float64. */
function resize(x: HostTensor, outH: number, outW: number): Float64Array {
  const [b, c, h, w] = x.dims;
  const mh = bilinearMatrix(h, outH);
  const mw = bilinearMatrix(w, outW);
  const src = x.data as Float32Array;
  const out = new Float64Array(b * c * outH * outW);
  for (let p = 0; p < b * c; p++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let s = 0;
        for (let y = 0; y < h; y++) {
          const wy = mh[oy * h + y];
          if (wy === 0) continue;
          for (let xx = 0; xx < w; xx++) s += wy * mw[ox * w + xx] * src[p * h * w + y * w + xx];
        }
        out[p * outH * outW + oy * outW + ox] = s;
      }
    }
  }
  return out;
}

test('bilinear matrices match F.interpolate(align_corners=False), up and down', () => {
  const x = golden('pipeline/bilinear_input.npy');
  assertClose(resize(x, 11, 13), golden('pipeline/bilinear_11x13.npy').data as Float32Array, { label: '5x7→11x13' });
  assertClose(resize(x, 3, 4), golden('pipeline/bilinear_3x4.npy').data as Float32Array, { label: '5x7→3x4' });
  const x18 = golden('pipeline/bilinear18_input.npy');
  assertClose(resize(x18, 36, 36), golden('pipeline/bilinear18_36.npy').data as Float32Array, { label: '18→36' });
});

for (const [len, out] of [
  [12, 4],
  [4608, 1536],
  [10, 4],
  [7, 3],
  [1728, 1536],
  [5184, 1536],
]) {
  test(`adaptive_avg_pool1d ${len} → ${out} matches PyTorch`, async () => {
    const input = golden(`pipeline/pool_${len}_${out}_input.npy`);
    const x = f32([2, len, 1], input.data as Float32Array);
    const [pooled] = await runGraph({ x }, (g, v) => addAdaptivePool(g, v.x, len, out));
    assertClose(pooled, golden(`pipeline/pool_${len}_${out}.npy`).data as Float32Array, { label: `pool ${len}→${out}` });
  });
}

test('3×3 unfold with zero padding is laid out as PyTorch patchify (c·9 + ki·3 + kj)', async () => {
  const x = golden('pipeline/unfold_input.npy'); // [2, 4, 5, 6]
  const [u] = await runGraph({ x }, (g, v) => addUnfold(g, v.x, { channels: 4, height: 5, width: 6 }, 3));
  // ours: [B, C·9, H·W]; reference: [B, H·W, C, 3, 3]
  const ref = golden('pipeline/unfold.npy').data as Float32Array;
  const reordered = new Float32Array(u.length);
  for (let b = 0; b < 2; b++) {
    for (let k = 0; k < 36; k++) for (let p = 0; p < 30; p++) reordered[b * 1080 + p * 36 + k] = u[b * 1080 + k * 30 + p];
  }
  assertClose(reordered, ref, { rtol: 0, label: 'unfold' });
});
