/**
 * "Training" the knn head (issue 13's nearest-neighbour baseline, PatchCore-style): the training
 * images' patch features are extracted exactly as for SimpleNet (trainingFeatures.ts), projected
 * to `knn.projectionDim` dimensions by a seeded Gaussian matrix, and a greedy k-center coreset of
 * `knn.coresetFraction` of the rows is chosen on the projection (heads/coreset.ts). The chosen rows
 * of the full features are the memory bank; a patch's score is its distance to the nearest bank
 * row (heads/knn.ts), inside the one scoring graph. No epochs, no optimiser.
 */
import { type Reporter, silentReporter } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import type { FeatureCache } from '../embedding/featureCache.js';
import { kCenterGreedy, projectionModel, randomProjection } from '../heads/coreset.js';
import { KNN_BANK, type KnnParams } from '../heads/knn.js';
import { GraphBuilder } from '../onnx/builder.js';
import { ortTensor, Session } from '../onnx/session.js';
import type { HostTensor } from '../onnx/tensor.js';
import { knnSettings } from '../model/config.js';
import { UNCALIBRATED } from '../model/calibration.js';
import { calibrateFromCache } from './calibrate.js';
import type { TrainOptions, TrainResult } from './trainer.js';
import { extractTrainingFeatures, resolveTrainingTiles } from './trainingFeatures.js';

/** Images per onnxruntime run when projecting and gathering cached features. */
const IMAGES_PER_RUN = 16;

/** The given rows of a run of images' cached features, as float32. */
function buildGatherModel(cache: FeatureCache): Uint8Array {
  const g = new GraphBuilder('knn_gather');
  let x = g.input('features', cache.plan.dtype, ['rows', cache.dim]);
  if (cache.plan.dtype === 'float16') x = g.cast(x, 'float32');
  const rows = g.input('rows', 'int64', ['k']);
  g.output(g.op('Gather', [x, rows], { axis: 0 }), 'gathered', 'float32', ['k', cache.dim]);
  return g.toModel();
}

function imageRuns(nImages: number): number[][] {
  const runs: number[][] = [];
  for (let s = 0; s < nImages; s += IMAGES_PER_RUN) runs.push(Array.from({ length: Math.min(IMAGES_PER_RUN, nImages - s) }, (_, k) => s + k));
  return runs;
}

/** The memory bank: the coreset's rows of the full features, in row order. */
async function gatherBank(cache: FeatureCache, indices: Int32Array): Promise<HostTensor<'float32'>> {
  const sorted = Int32Array.from(indices).sort();
  const bank = new Float32Array(sorted.length * cache.dim);
  const session = await Session.create(buildGatherModel(cache), 'knn memory bank');
  try {
    let k = 0;
    for (const run of imageRuns(cache.nImages)) {
      const first = run[0] * cache.rowsPerImage;
      const end = (run[run.length - 1] + 1) * cache.rowsPerImage;
      const start = k;
      while (k < sorted.length && sorted[k] < end) k++;
      if (k === start) continue;
      const rows = BigInt64Array.from(sorted.subarray(start, k), (r) => BigInt(r - first));
      const out = await session.run({ features: cache.batch(run), rows: ortTensor('int64', [rows.length], rows) });
      bank.set(out.gathered.data as Float32Array, start * cache.dim);
    }
  } finally {
    await session.release();
  }
  return { dtype: 'float32', dims: [sorted.length, cache.dim], data: bank };
}

/**
 * Extracts the training features and chooses the memory bank (see the module comment). The
 * result's calibration is 'train-max' (every training patch's distance to the bank); trainToDir
 * replaces it with thresholds from held-out good images when there are any.
 */
export async function trainKnn(opts: TrainOptions): Promise<TrainResult<KnnParams>> {
  const { dataset, backbone } = opts;
  const reporter: Reporter = opts.reporter ?? silentReporter;
  const knn = knnSettings(opts.config);
  const resolved = await resolveTrainingTiles(opts.config, dataset.train, reporter);
  // Its maps are of its distances, which are no log-odds (scoring/fullScoringModel.ts): say so in the model.
  const config = { ...resolved, knn, map: { ...resolved.map, transform: 'none' as const } };
  const { seed } = config.train;
  const started = Date.now();
  const { extractor, cache, seconds: featureSeconds } = await extractTrainingFeatures(dataset.train, backbone, config, { reporter, signal: opts.signal });
  try {
    const rng = new Rng(seed);
    const projection = randomProjection(cache.dim, knn.projectionDim, rng);
    const trainRows = cache.nImages * cache.rowsPerImage;
    const start = rng.nextInt(trainRows);
    const count = Math.max(1, Math.floor(trainRows * knn.coresetFraction));
    const coresetStarted = Date.now();
    const chunks: Float32Array[] = [];
    const project = await Session.create(projectionModel(cache.plan.dtype, projection), 'knn projection');
    try {
      for (const run of imageRuns(cache.nImages)) {
        opts.signal?.throwIfAborted();
        chunks.push((await project.run({ features: cache.batch(run) })).projected.data as Float32Array);
      }
    } finally {
      await project.release();
    }
    const { indices, refreshes } = await kCenterGreedy({ chunks, dim: knn.projectionDim }, { count, start, reporter, signal: opts.signal });
    const params: KnnParams = { [KNN_BANK]: await gatherBank(cache, indices) };
    const coresetSeconds = (Date.now() - coresetStarted) / 1000;
    reporter.line(
      `knn memory bank: ${count} of ${trainRows} patch features (${(100 * knn.coresetFraction).toFixed(3).replace(/\.?0+$/, '')} %), ` +
        `greedy k-center on a ${knn.projectionDim}-d projection in ${coresetSeconds.toFixed(1)} s (${refreshes} full passes)`,
    );
    // The 'train-max' fallback scores every training patch against the bank (slow for a large
    // bank): only when no good images were held out, since trainToDir calibrates on those instead.
    const calibration = opts.validation?.length
      ? UNCALIBRATED
      : await calibrateFromCache(cache, params, { bnEps: config.head.bnEps, leakySlope: config.head.leakySlope });
    return {
      config,
      params,
      extractor,
      calibration,
      training: {
        dataset: { format: dataset.format, root: dataset.root, category: dataset.category, nTrain: dataset.train.length },
        epochs: 0,
        seed,
        steps: 0,
        seconds: (Date.now() - started) / 1000,
        featureSeconds,
        log: [],
        coreset: { bankRows: count, trainRows, start, projectionDim: knn.projectionDim, refreshes, seconds: coresetSeconds },
      },
    };
  } catch (e) {
    await extractor.release();
    throw e;
  } finally {
    cache.release();
  }
}
