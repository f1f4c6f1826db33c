/**
 * Times the training step at full size (not a test): `node dist/scripts/train-step-bench.js [rows] [steps] [given]`.
 * Defaults: R = 10368 (8 images × 1296 patches), D = 1536, Hd = 1024, in-graph noise; `given` > 0
 * feeds that many given fakes per step (the stains: about 250 of bottle's 10368 rows).
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_HEAD_CONFIG } from '../src/heads/config.js';
import { initHeadParams } from '../src/heads/params.js';
import { Rng } from '../src/core/rng.js';
import { TrainStep } from '../src/heads/trainStep.js';
import { foldHead } from '../src/heads/scoreHead.js';

const rows = Number(process.argv[2] ?? 10368);
const steps = Number(process.argv[3] ?? 3);
const given = Number(process.argv[4] ?? 0);
const cfg = DEFAULT_HEAD_CONFIG;
const rng = new Rng(0);
let t0 = performance.now();
const params = initHeadParams(cfg, rng);
console.error(`init ${(performance.now() - t0).toFixed(0)} ms`);
t0 = performance.now();
const ts = await TrainStep.create(cfg, params, { noise: { seed: 0 }, givenFakes: given > 0 });
console.error(`session ${(performance.now() - t0).toFixed(0)} ms`);
const x = new Float32Array(rows * cfg.featureDim);
for (let i = 0; i < x.length; i++) x[i] = rng.nextFloat();
const features = { dtype: 'float32' as const, dims: [rows, cfg.featureDim], data: x };
// Every (rows / given)-th row takes a given fake, as stains spread over a batch's images.
const givenFakes =
  given > 0
    ? {
        rows: Int32Array.from({ length: given }, (_, i) => Math.floor((i * rows) / given)),
        offsets: Float32Array.from({ length: given * cfg.featureDim }, () => rng.nextFloat() - 0.5),
      }
    : undefined;
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  t0 = performance.now();
  const r = await ts.step(features, givenFakes ? { givenFakes } : {});
  times.push(performance.now() - t0);
  console.error(`step ${i + 1}: ${times[i].toFixed(0)} ms  loss ${r.loss.toFixed(4)} p_true ${r.pTrue.toFixed(3)} p_fake ${r.pFake.toFixed(3)}`);
}
t0 = performance.now();
await foldHead(ts.params());
console.error(`foldHead ${(performance.now() - t0).toFixed(0)} ms`);
console.error(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
// The first step allocates Adam's state and plans memory (as the harness's warm-up call does).
const timed = times.slice(1).sort((a, b) => a - b);
const median = timed.length ? timed[Math.floor(timed.length / 2)] : times[0];
console.log(JSON.stringify({ rows, steps, given, stepSeconds: median / 1000, stepsSeconds: times.map((t) => t / 1000) }));
