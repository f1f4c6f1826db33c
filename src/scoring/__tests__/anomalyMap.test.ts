import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, golden } from '../../testing/golden.js';
import { runGraph } from '../../testing/runGraph.js';
import { addAnomalyMap, DEFAULT_ANOMALY_MAP } from '../anomalyMap.js';
import { gaussianKernel1d, gaussianMatrix, reflectIndex } from '../gaussian.js';

test('scipy reflect mode repeats the edge sample (d c b a | a b c d)', () => {
  assert.deepEqual(
    [-3, -2, -1, 0, 3, 4, 5, 6].map((i) => reflectIndex(i, 4)),
    [2, 1, 0, 0, 3, 3, 2, 1],
  );
});

test('σ=4, truncate 4 gives a 33-tap kernel that sums to 1', () => {
  const k = gaussianKernel1d(4);
  assert.equal(k.length, 33);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

for (const sigma of [4, 2]) {
  test(`Gaussian filter σ=${sigma} matches scipy.ndimage.gaussian_filter`, () => {
    const x = golden('pipeline/gauss_input.npy');
    const [h, w] = x.dims;
    const gh = gaussianMatrix(h, sigma);
    const gw = gaussianMatrix(w, sigma);
    const src = x.data as Float32Array;
    const tmp = new Float64Array(h * w);
    for (let y = 0; y < h; y++) for (let k = 0; k < h; k++) for (let j = 0; j < w; j++) tmp[y * w + j] += gh[y * h + k] * src[k * w + j];
    const out = new Float64Array(h * w);
    for (let y = 0; y < h; y++) for (let j = 0; j < w; j++) for (let k = 0; k < w; k++) out[y * w + j] += gw[j * w + k] * tmp[y * w + k];
    assertClose(out, golden(`pipeline/gauss_sigma${sigma}.npy`).data as Float32Array, { label: `σ=${sigma}` });
  });
}

test('anomaly map (bilinear 36→288, then σ=4) matches the reference', async () => {
  const scores = golden('pipeline/map_scores.npy');
  const [map] = await runGraph({ s: scores }, (g, v) => addAnomalyMap(g, v.s, { height: 36, width: 36 }, DEFAULT_ANOMALY_MAP));
  assertClose(map, golden('pipeline/map_288.npy').data as Float32Array, { rtol: 1e-5, label: 'map' });
});

test("transform 'sigmoid' maps σ(score) before upsampling and smoothing, not σ of the map", async () => {
  const scores = golden('pipeline/map_scores.npy');
  const src = scores.data as Float32Array;
  const squashed = { ...scores, data: src.map((v) => 1 / (1 + Math.exp(-v))) };
  const grid = { height: 36, width: 36 };
  const [viaTransform] = await runGraph({ s: scores }, (g, v) => addAnomalyMap(g, v.s, grid, { ...DEFAULT_ANOMALY_MAP, transform: 'sigmoid' }));
  const [ofSquashed] = await runGraph({ s: squashed }, (g, v) => addAnomalyMap(g, v.s, grid, DEFAULT_ANOMALY_MAP));
  assertClose(viaTransform, ofSquashed, { rtol: 1e-5, label: 'σ first' });
  const [plain] = await runGraph({ s: scores }, (g, v) => addAnomalyMap(g, v.s, grid, DEFAULT_ANOMALY_MAP));
  const sigmoidOfMap = plain.map((v) => 1 / (1 + Math.exp(-v)));
  assert.ok(
    viaTransform.some((v, i) => Math.abs(v - sigmoidOfMap[i]) > 1e-3),
    'smoothing probabilities differs from squashing the smoothed scores',
  );
  assert.ok(
    viaTransform.every((v) => v >= 0 && v <= 1),
    'a smoothed probability stays in [0, 1]',
  );
});
