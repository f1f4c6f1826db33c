/**
 * What issue 16's memory settings cost a training step, paired so that the machine's load falls on
 * both alike: steps alternate between the old way (a batch from the in-memory cache, a step session
 * with onnxruntime's memory pattern) and the new (the batch read back from the unlinked disk file,
 * the page cache serving it once written; no memory pattern). Each has its own step session,
 * started from the same weights and seed. Not a test:
 *   node dist/scripts/cache-step-bench.js [images=40] [steps=12]
 * Full size: 8 images × 1296 patches × 1536 dims per batch, as bottle at 288² trains.
 */
import { performance } from 'node:perf_hooks';
import { Rng } from '../src/core/rng.js';
import { FeatureCache } from '../src/embedding/featureCache.js';
import { DEFAULT_HEAD_CONFIG } from '../src/heads/config.js';
import { initHeadParams } from '../src/heads/params.js';
import { TrainStep } from '../src/heads/trainStep.js';
import { ortTensor } from '../src/onnx/session.js';

const images = Number(process.argv[2] ?? 40);
const steps = Number(process.argv[3] ?? 12);
const rows = 1296;
const dim = DEFAULT_HEAD_CONFIG.featureDim;
const batchSize = 8;
const rng = new Rng(0);
const caches = {
  memory: new FeatureCache({ dtype: 'float32', storage: 'memory', bytes: 0 }, images, rows, dim),
  disk: new FeatureCache({ dtype: 'float32', storage: 'disk', bytes: 0 }, images, rows, dim),
};
for (let i = 0; i < images; i++) {
  const data = new Float32Array(rows * dim);
  for (let j = 0; j < data.length; j++) data[j] = rng.nextFloat();
  caches.memory.put(i, ortTensor('float32', [rows, dim], data));
  caches.disk.put(i, ortTensor('float32', [rows, dim], data));
}
const params = initHeadParams(DEFAULT_HEAD_CONFIG, rng);
const sessions = {
  memory: await TrainStep.create(DEFAULT_HEAD_CONFIG, params, { noise: { seed: 0 }, memoryPattern: true }),
  disk: await TrainStep.create(DEFAULT_HEAD_CONFIG, params, { noise: { seed: 0 }, memoryPattern: false }),
};
const totals = { memory: { batch: 0, step: 0 }, disk: { batch: 0, step: 0 } };
const losses = { memory: [] as number[], disk: [] as number[] };
const order = Array.from({ length: images }, (_, i) => i);
// Warm-up: each session plans its memory on its first runs.
for (const kind of ['memory', 'disk'] as const) await sessions[kind].step(caches[kind].batch(order.slice(0, batchSize)));
for (let s = 0; s < steps; s++) {
  rng.shuffle(order);
  // Alternate which goes first, so neither always follows the other.
  const kinds = s % 2 === 0 ? (['memory', 'disk'] as const) : (['disk', 'memory'] as const);
  for (const kind of kinds) {
    let t = performance.now();
    const batch = caches[kind].batch(order.slice(0, batchSize));
    totals[kind].batch += performance.now() - t;
    t = performance.now();
    losses[kind].push((await sessions[kind].step(batch)).loss);
    totals[kind].step += performance.now() - t;
  }
}
for (const kind of ['memory', 'disk'] as const) {
  const { batch, step: stepMs } = totals[kind];
  const label = kind === 'memory' ? 'before (memory cache, memory pattern)' : 'after (disk cache, no memory pattern)';
  console.log(`${label}: batch ${(batch / steps).toFixed(1)} ms + step ${(stepMs / steps).toFixed(0)} ms per step (${steps} steps)`);
}
const m = totals.memory.batch + totals.memory.step;
const d = totals.disk.batch + totals.disk.step;
// Same features, weights and noise seed: the two runs must agree exactly, loss by loss.
console.log(`losses identical: ${losses.memory.every((l, i) => Object.is(l, losses.disk[i]))}`);
console.log(`after / before per step: ${(d / m).toFixed(3)}; batch read alone adds ${((totals.disk.batch - totals.memory.batch) / steps).toFixed(1)} ms`);
await sessions.memory.release();
await sessions.disk.release();
caches.memory.release();
caches.disk.release();
