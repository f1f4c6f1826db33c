import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/rng.js';
import { assertClose, golden, goldenJson } from '../../testing/golden.js';
import { runGraph } from '../../testing/runGraph.js';
import type { HostTensor } from '../../onnx/tensor.js';
import { kCenterGreedy, randomProjection } from '../coreset.js';
import { addKnnPatchScores, KNN_BANK } from '../knn.js';
import { addPatchScores } from '../scoreHead.js';

// golden/knn from reference/golden_knn.py: PatchCore's greedy coreset and nearest distances in numpy float64.
const features = golden('knn/features.npy') as HostTensor<'float32'>;
const projection = golden('knn/projection.npy') as HostTensor<'float32'>;
const queries = golden('knn/queries.npy') as HostTensor<'float32'>;
const expectedIndices = Array.from(golden('knn/expected_indices.npy').data as BigInt64Array, Number);
const expectedDistances = golden('knn/expected_distances.npy').data as Float64Array;
const { start, count } = goldenJson<{ start: number; count: number }>('knn/case.json');

async function project(): Promise<Float32Array> {
  const [p] = await runGraph({ features, projection }, (g, v) => g.op('MatMul', [v.features, v.projection]));
  return p;
}

/** Splits [n, dim] rows into chunks of `rows` rows (views, no copy). */
function chunked(data: Float32Array, dim: number, rows: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s < data.length; s += rows * dim) out.push(data.subarray(s, Math.min(data.length, s + rows * dim)));
  return out;
}

function bank(indices: readonly number[]): HostTensor<'float32'> {
  const [, d] = features.dims;
  const data = new Float32Array(indices.length * d);
  indices.forEach((r, k) => data.set(features.data.subarray(r * d, (r + 1) * d), k * d));
  return { dtype: 'float32', dims: [indices.length, d], data };
}

test('greedy coreset: the same rows, in the same order, as the reference for any candidate count and chunking', async () => {
  const projected = await project();
  const dim = projection.dims[1];
  assert.equal(count, 50);
  // One chunk with every row a candidate (no refresh after the first); few candidates (many refreshes)
  // over uneven chunks (the per-chunk top lists are merged).
  for (const [candidates, rows] of [
    [1024, 500],
    [4, 37],
    [1, 500],
    [16, 64],
  ] as const) {
    const r = await kCenterGreedy({ chunks: chunked(projected, dim, rows), dim }, { count, start, candidates });
    assert.deepEqual(Array.from(r.indices), expectedIndices, `candidates ${candidates}, chunks of ${rows} rows`);
    if (candidates < 50) assert.ok(r.refreshes > 1, `candidates ${candidates}: ${r.refreshes} refreshes`);
  }
});

test('nearest-neighbour distances inside the graph equal the reference (1e-5 relative), whole bank or chunked', async () => {
  const params = { [KNN_BANK]: bank(expectedIndices) };
  for (const chunkRows of [4096, 7]) {
    const [d] = await runGraph({ queries }, (g, v) => addKnnPatchScores(g, v.queries, params, { chunkRows }));
    assertClose(d, expectedDistances, { rtol: 1e-5, label: `distances, bank chunks of ${chunkRows}` });
  }
  // addPatchScores, which the one scoring graph calls, dispatches to the knn head.
  const [viaHead] = await runGraph({ queries }, (g, v) => addPatchScores(g, v.queries, params, { fold: true }));
  assertClose(viaHead, expectedDistances, { rtol: 1e-5, label: 'addPatchScores(knn)' });
});

test('greedy coreset on a larger random case equals a plain full-pass implementation', async () => {
  const rng = new Rng(5);
  const n = 3000;
  const dim = 8;
  const x = new Float32Array(n * dim);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal() * (1 + (i % 3));
  const k = 300;
  // The textbook algorithm in float64 (distances only compared to choose: squared is enough).
  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  const want: number[] = [];
  let next = 123;
  while (want.length < k) {
    want.push(next);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (x[i * dim + j] - x[next * dim + j]) ** 2;
      if (s < dist[i]) dist[i] = s;
    }
    let best = 0;
    for (let i = 1; i < n; i++) if (dist[i] > dist[best]) best = i;
    next = best;
  }
  const r = await kCenterGreedy({ chunks: chunked(x, dim, 700), dim }, { count: k, start: 123, candidates: 32 });
  assert.deepEqual(Array.from(r.indices), want);
  assert.ok(r.refreshes < k / 4, `${r.refreshes} full passes for ${k} steps`);
});

test('coreset arguments are checked; a projection is seeded and scaled by 1/√dim', async () => {
  const rows = { chunks: [new Float32Array(12)], dim: 3 };
  await assert.rejects(kCenterGreedy(rows, { count: 5, start: 0 }), /count must be in \[1, 4\]/);
  await assert.rejects(kCenterGreedy(rows, { count: 2, start: 4 }), /start must be in \[0, 4\)/);
  await assert.rejects(kCenterGreedy({ chunks: [new Float32Array(5)], dim: 3 }, { count: 1, start: 0 }), /not a whole number/);
  assert.deepEqual(Array.from((await kCenterGreedy(rows, { count: 1, start: 2 })).indices), [2]);
  const a = randomProjection(64, 16, new Rng(1));
  assert.deepEqual(a.dims, [64, 16]);
  assert.deepEqual(a.data, randomProjection(64, 16, new Rng(1)).data);
  const ms = a.data.reduce((s, v) => s + v * v, 0) / a.data.length;
  assert.ok(Math.abs(ms - 1 / 16) < 0.01, `mean square ${ms}`);
});
