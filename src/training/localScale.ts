/**
 * Per-patch σ factors for `head.noiseLocality` γ > 0 (HeadConfig.noiseLocality): f_i ∝
 * (d_i / mean d)^γ, d_i the distance from training patch i to the nearest patch of *other* training
 * images. A nearest-neighbour score calls a patch anomalous by how far it lies from normal patches
 * relative to how far normal patches lie from each other there; one σ for all puts the fakes of
 * patches in dense regions far outside their neighbourhood and those of rare normal patches inside
 * theirs. Scaled per patch, the fakes sit at a distance proportional to the local spacing.
 *
 * Cost is kept to seconds, as the knn baseline does for its coreset (training/knnTrainer.ts): the
 * distances are taken on a seeded Gaussian projection to `projectionDim` dimensions
 * (Johnson–Lindenstrauss), and against a seeded random sample of `bankRows` rows of the other half
 * of the images (images alternate between two halves, so no patch meets its own image). A sample
 * overstates every distance a little, and the factors are relative, so that bias mostly cancels.
 */
import { Rng } from '../core/rng.js';
import type { FeatureCache } from '../embedding/featureCache.js';
import { projectionModel, randomProjection } from '../heads/coreset.js';
import { float, GraphBuilder } from '../onnx/builder.js';
import { ortTensor, Session } from '../onnx/session.js';

export interface LocalScaleOptions {
  /** γ: 0 gives every factor 1; 1 makes σ proportional to the neighbour distance. */
  locality: number;
  /** Seeds the projection and the samples (its own stream: the training Rng is not touched). */
  seed: number;
  /** Default 128, the knn baseline's projection. */
  projectionDim?: number;
  /** Rows sampled from the other half of the images per half. Default 8192. */
  bankRows?: number;
}

export interface LocalScales {
  /** One factor per cached row, image-major (row r of image i at i · rowsPerImage + r); mean 1. */
  factors: Float32Array;
  /** The factors' 5th, 50th and 95th percentiles, for the log. */
  quantiles: [number, number, number];
  seconds: number;
}

/** The clamp on f_i before it is scaled to mean 1: no fake closer than a quarter or farther than 4× the mean σ. */
export const LOCAL_SCALE_RANGE = [0.25, 4] as const;
const IMAGES_PER_RUN = 16;

/** Each projected row's distance [rows] to the nearest row of `bank` [M, P]. */
function buildNearestModel(projectionDim: number): Uint8Array {
  const g = new GraphBuilder('simplenet_local_scale');
  const p = g.input('projected', 'float32', ['rows', projectionDim]);
  const bank = g.input('bank', 'float32', ['bank', projectionDim]);
  const pNorm = g.op('ReduceSum', [g.op('Mul', [p, p]), g.ints([1])], { keepdims: 0 });
  const bNorm = g.op('ReduceSum', [g.op('Mul', [bank, bank]), g.ints([1])], { keepdims: 0 });
  const cross = g.op('Gemm', [p, bank, bNorm], { transB: 1, alpha: float(-2), beta: float(1) }); // ‖b‖² − 2·p·b
  const nearest = g.op('Relu', [g.op('Add', [g.op('ReduceMin', [cross], { axes: [1], keepdims: 0 }), pNorm])]);
  g.output(g.op('Sqrt', [nearest]), 'distance', 'float32', ['rows']);
  return g.toModel();
}

/** The images of half `h` (0: even indices, 1: odd) in runs of IMAGES_PER_RUN. */
function runsOf(nImages: number, h: number): number[][] {
  const images = Array.from({ length: Math.ceil((nImages - h) / 2) }, (_, k) => 2 * k + h);
  const runs: number[][] = [];
  for (let s = 0; s < images.length; s += IMAGES_PER_RUN) runs.push(images.slice(s, s + IMAGES_PER_RUN));
  return runs;
}

/** Percentile q ∈ [0, 1] of sorted values (nearest rank). */
function nearestRank(sorted: Float32Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * The σ factors of every cached training row (see the module comment). With fewer than two images
 * there is no other image to measure against, and every factor is 1.
 * @throws RangeError when locality is outside [0, 2] or projectionDim / bankRows are not positive integers.
 * @example const { factors } = await localNoiseScales(cache, { locality: 1, seed: 0 });
 */
export async function localNoiseScales(cache: FeatureCache, opts: LocalScaleOptions): Promise<LocalScales> {
  const started = Date.now();
  const { locality } = opts;
  const projectionDim = opts.projectionDim ?? 128;
  const bankRows = opts.bankRows ?? 8192;
  if (!(locality >= 0 && locality <= 2)) throw new RangeError(`localNoiseScales: locality must be in [0, 2], got ${locality}`);
  for (const [k, v] of [
    ['projectionDim', projectionDim],
    ['bankRows', bankRows],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`localNoiseScales: ${k} must be a positive integer, got ${v}`);
  }
  const rowsPer = cache.rowsPerImage;
  const total = cache.nImages * rowsPer;
  const factors = new Float32Array(total).fill(1);
  const done = (): LocalScales => ({ factors, quantiles: [1, 1, 1], seconds: (Date.now() - started) / 1000 });
  if (locality === 0 || cache.nImages < 2) return done();

  const rng = new Rng(opts.seed ^ 0x10ca1);
  const projection = randomProjection(cache.dim, projectionDim, rng);
  // Every row projected once, image-major (the knn baseline's projection graph).
  const projected = new Float32Array(total * projectionDim);
  const project = await Session.create(projectionModel(cache.plan.dtype, projection), 'local noise scale projection');
  try {
    for (let h = 0; h < 2; h++) {
      for (const run of runsOf(cache.nImages, h)) {
        const p = (await project.run({ features: cache.batch(run) })).projected.data as Float32Array;
        run.forEach((img, k) => projected.set(p.subarray(k * rowsPer * projectionDim, (k + 1) * rowsPer * projectionDim), img * rowsPer * projectionDim));
      }
    }
  } finally {
    await project.release();
  }
  const distance = new Float32Array(total);
  const session = await Session.create(buildNearestModel(projectionDim), 'local noise scale');
  try {
    for (let h = 0; h < 2; h++) {
      // The bank: a seeded sample of the other half's rows (partial Fisher–Yates over their indices).
      const others = runsOf(cache.nImages, 1 - h).flat();
      const pool = new Int32Array(others.length * rowsPer);
      others.forEach((img, k) => {
        for (let r = 0; r < rowsPer; r++) pool[k * rowsPer + r] = img * rowsPer + r;
      });
      const m = Math.min(bankRows, pool.length);
      const bank = new Float32Array(m * projectionDim);
      for (let j = 0; j < m; j++) {
        const pick = j + rng.nextInt(pool.length - j);
        [pool[j], pool[pick]] = [pool[pick], pool[j]];
        bank.set(projected.subarray(pool[j] * projectionDim, (pool[j] + 1) * projectionDim), j * projectionDim);
      }
      const bankTensor = ortTensor('float32', [m, projectionDim], bank);
      // Each image's rows are contiguous in `projected`: no second read of the cache.
      for (const img of runsOf(cache.nImages, h).flat()) {
        const rows = projected.subarray(img * rowsPer * projectionDim, (img + 1) * rowsPer * projectionDim);
        const out = await session.run({ projected: ortTensor('float32', [rowsPer, projectionDim], rows), bank: bankTensor });
        distance.set(out.distance.data as Float32Array, img * rowsPer);
      }
    }
  } finally {
    await session.release();
  }
  let mean = 0;
  for (let i = 0; i < total; i++) mean += distance[i];
  mean /= total;
  if (!(mean > 0)) return done(); // every feature alike: nothing to scale by
  const [lo, hi] = LOCAL_SCALE_RANGE;
  let sum = 0;
  for (let i = 0; i < total; i++) {
    const f = Math.min(hi, Math.max(lo, (distance[i] / mean) ** locality));
    factors[i] = f;
    sum += f;
  }
  const norm = total / sum;
  for (let i = 0; i < total; i++) factors[i] *= norm;
  const sorted = Float32Array.from(factors).sort();
  return { factors, quantiles: [nearestRank(sorted, 0.05), nearestRank(sorted, 0.5), nearestRank(sorted, 0.95)], seconds: (Date.now() - started) / 1000 };
}

/**
 * The factors of a batch's rows, in the order `FeatureCache.batch(images)` lays them out.
 * @example const scale = batchFactors(scales.factors, [3, 0], cache.rowsPerImage);
 */
export function batchFactors(factors: Float32Array, images: readonly number[], rowsPerImage: number): Float32Array {
  const out = new Float32Array(images.length * rowsPerImage);
  images.forEach((img, k) => out.set(factors.subarray(img * rowsPerImage, (img + 1) * rowsPerImage), k * rowsPerImage));
  return out;
}
