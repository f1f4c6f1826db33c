/**
 * predict throughput (images/s: decode + the one scoring graph, as `simplenet predict` runs) with
 * the head folded and unfolded, per batch size and precision. Usage:
 *   node dist/scripts/predict-bench.js --model <model-dir> <images...> [--n 10] [--batch 1,4,8]
 *   node dist/scripts/predict-bench.js --random wrn50|mobilenet_v2 <images...>   (random head; wrn50 has random weights too)
 *     [--fit crop|squash|letterbox] (default crop, as the official code)  [--precision fp32|int8]
 *     [--calibrate <good-images-dir>] (int8: `simplenet quantize` on 16 of them)  [--folded-only]
 *     [--workers 0,2] (runs side by side in worker threads, onnx/sessionOptions.ts; default 0)
 * Prints one JSON line per (fold, batch). Reported, not asserted: the figures depend on the
 * machine and its load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { quantize } from '../src/api/quantize.js';
import { loadManifestBackbone } from '../src/backbones/manifest.js';
import type { Backbone } from '../src/backbones/types.js';
import { Rng } from '../src/core/rng.js';
import { FeatureExtractor } from '../src/embedding/featureExtractor.js';
import { initHeadParams } from '../src/heads/params.js';
import type { ImageFit } from '../src/images/fit.js';
import { defaultConfig } from '../src/model/config.js';
import { loadModel, saveModel, type SimpleNetModel } from '../src/model/modelDir.js';
import { sideBySideSession } from '../src/onnx/session.js';
import { expandInputs } from '../src/predict/inputs.js';
import { predictImages } from '../src/predict/predictImages.js';
import type { Precision } from '../src/scoring/precision.js';
import { Scorer } from '../src/scoring/scorer.js';
import { randomWrn50Backbone } from './randomWrn50.js';

/** A model folder with a random head over `backbone` (the cost of a trained one, not its scores). */
async function randomModel(backbone: Backbone, fit: ImageFit, dir: string): Promise<SimpleNetModel> {
  const config = defaultConfig();
  config.image.fit = fit;
  const extractor = await FeatureExtractor.create(backbone, { image: config.image, embed: config.embed });
  const layerShapes = extractor.layerShapes;
  await extractor.release();
  const rng = new Rng(0);
  await saveModel(dir, {
    config,
    backbone,
    layerShapes,
    params: initHeadParams({ featureDim: config.embed.targetDim, hiddenDim: config.head.hiddenDim }, rng),
    training: { dataset: { format: 'none', root: '', category: '', nTrain: 0 }, epochs: 0, seed: 0, steps: 0, seconds: 0, featureSeconds: 0, log: [] },
    scoring: { imageThreshold: 0, min: 0, max: 1, thresholdSource: 'none' },
  });
  return loadModel(dir);
}

const args = process.argv.slice(2);
const take = (flag: string) => {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const [, v] = args.splice(i, 2);
  return v;
};
const random = take('--random');
const fit = (take('--fit') ?? 'crop') as ImageFit;
const precision = (take('--precision') ?? 'fp32') as Precision;
const calibrate = take('--calibrate');
const foldedOnly = args.includes('--folded-only');
if (foldedOnly) args.splice(args.indexOf('--folded-only'), 1);
const modelDir = take('--model');
const n = Number(take('--n') ?? 10);
const batches = (take('--batch') ?? '1').split(',').map(Number);
const workerCounts = (take('--workers') ?? '0').split(',').map(Number);
if (batches.some((b) => !Number.isInteger(b) || b < 1)) throw new Error('--batch must be a comma-separated list of positive integers');
const scratch = random ? mkdtempSync(join(tmpdir(), 'simplenet-bench-')) : undefined;
const backbone = random === 'wrn50' ? randomWrn50Backbone() : random ? await loadManifestBackbone(resolve(`backbones/${random}.json`)) : undefined;
const model = backbone ? await randomModel(backbone, fit, join(scratch!, 'model')) : await loadModel(modelDir!);
if (precision === 'int8') {
  if (!calibrate && random) throw new Error('--precision int8 with --random needs --calibrate <good images>');
  const q = await quantize(model.dir, { images: calibrate ? [calibrate] : undefined, count: 16 });
  console.error(`int8 ranges: ${q.tensors} tensors from ${q.images} images in ${q.seconds.toFixed(1)} s`);
}
const inputs = expandInputs(args).slice(0, n);
for (const [fold, workers] of (foldedOnly ? [true] : [true, false]).flatMap((f) => workerCounts.map((w) => [f, w] as const))) {
  const t0 = Date.now();
  const scorer = await Scorer.fromModel(model, { fold, precision, session: workers > 0 ? sideBySideSession(workers) : undefined });
  const build = (Date.now() - t0) / 1000;
  for (const batch of batches) {
    // One untimed group per worker first: onnxruntime plans memory for a new input shape on its first run.
    for await (const r of predictImages(scorer, inputs.slice(0, batch * scorer.runs), { batch })) if (!r.ok) throw r.error;
    let count = 0;
    const start = Date.now();
    for await (const r of predictImages(scorer, inputs, { batch })) {
      if (!r.ok) throw r.error;
      count++;
    }
    const seconds = (Date.now() - start) / 1000;
    console.log(
      JSON.stringify({
        backbone: random ?? (model.backbone.identity.kind === 'builtin' ? model.backbone.identity.name : 'onnx manifest'),
        precision,
        fit: model.config.image.fit,
        fold,
        workers,
        batch,
        images: count,
        seconds,
        imagesPerSecond: Number((count / seconds).toFixed(3)),
        sessionSeconds: build,
      }),
    );
  }
  await scorer.release();
}
if (scratch) rmSync(scratch, { recursive: true, force: true });
