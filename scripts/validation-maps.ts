/**
 * Dev-time diagnostic (docs/studies/fast-convergence.md, "Probability maps, adopted" and "Less and
 * more smoothing"): pixel AUROC of a model's anomaly maps on its own validation, no test data. The
 * held-out good images of the model's seed get validation's synthetic defects (the same seeded
 * stream as training's validation, so its patch AUROC is the one the training log kept); the kept
 * head scores their patches, and the maps are made by the scoring graph's own map step
 * (`addAnomalyMap`) with each patch-score transform and σ asked for. A pixel is defective
 * where its 3×3 sample points are, as `patchLabels` counts a patch. Besides the pooled figure, each
 * size group of defects (≤ 1 %, 1–5 %, > 5 % of the frame) against every normal pixel, since pooled
 * pixel AUROC weighs a defect by its area. Usage:
 *   node dist/scripts/validation-maps.js <model-dir> <mvtec-root> <category> [σ list, default 4]
 * One JSON line: `patchAuroc` (the grid figure training kept) and, per `<transform>@<σ>`, the pooled
 * pixel AUROC and by size.
 */
import { concatTyped } from '../src/core/concat.js';
import { Rng } from '../src/core/rng.js';
import { loadMvtec } from '../src/datasets/mvtec.js';
import { FeatureExtractor } from '../src/embedding/featureExtractor.js';
import { isKnnParams } from '../src/heads/knn.js';
import { addPatchScoresFromInputs } from '../src/heads/scoreHead.js';
import { PARAM_NAMES } from '../src/heads/params.js';
import { decodeImage } from '../src/images/decode.js';
import { binaryMetrics } from '../src/metrics/index.js';
import { loadModel } from '../src/model/modelDir.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { ortTensor, Session } from '../src/onnx/session.js';
import { addAnomalyMap } from '../src/scoring/anomalyMap.js';
import { splitValidation } from '../src/training/validation.js';
import { DEFECT_HITS, patchHits, patchLabels, synthesizeDefect } from '../src/validation/syntheticDefects.js';
import { DEFECT_STREAM } from '../src/validation/syntheticValidation.js';

const [modelDir, root, category, sigmaArg] = process.argv.slice(2);
if (!modelDir || !root || !category) throw new Error('usage: validation-maps.js <model-dir> <mvtec-root> <category> [σ list, default 4]');
const sigmas = (sigmaArg ?? '4').split(',').map(Number);
if (sigmas.some((s) => !(s >= 0))) throw new RangeError(`σ list must be numbers ≥ 0, got ${sigmaArg}`);

const model = await loadModel(modelDir);
const c = model.config;
if (isKnnParams(model.params)) throw new TypeError(`${modelDir}: a knn model has no discriminator scores to transform`);
const params = model.params;
const seed = c.train.seed;
const { validation } = splitValidation((await loadMvtec(root, category)).train, c.threshold.validationFraction, seed);
const extractor = await FeatureExtractor.create(model.backbone, { image: c.image, embed: c.embed });
const grid = extractor.grid;
const g = new GraphBuilder('validation_patch_scores');
const hiddenDim = params['discriminator.fc1.weight'].dims[0];
const dims = { featureDim: c.embed.targetDim, hiddenDim };
g.output(addPatchScoresFromInputs(g, g.input('features', 'float32', ['rows', dims.featureDim]), dims, c.head), 'scores', 'float32', ['rows']);
const session = await Session.create(g.toModel(), 'validation patch scores');
const weights = Object.fromEntries(PARAM_NAMES.map((n) => [n, ortTensor('float32', params[n].dims, params[n].data)]));

// Validation's defects, drawn as SyntheticValidation.create draws them (one stream, image by image).
const size = c.image.crop;
const rng = new Rng(seed ^ DEFECT_STREAM);
const scores: Float32Array[] = [];
const pixelLabels: Uint8Array[] = [];
const gridLabels: Uint8Array[] = [];
for (const s of validation) {
  const image = await decodeImage(s.path);
  for (let j = 0; j < c.validation.syntheticPerImage; j++) {
    const d = synthesizeDefect(image, c.image, rng, c.validation.defects, grid.height * grid.width);
    const out = await session.run({ features: await extractor.extract([d.image]), ...weights });
    scores.push(new Float32Array(out.scores.data as Float32Array));
    gridLabels.push(patchLabels(d.mask, image.width, image.height, c.image, grid));
    pixelLabels.push(patchHits(d.mask, image.width, image.height, c.image, { height: size, width: size }).map((h) => (h >= DEFECT_HITS ? 1 : 0)));
  }
}
await session.release();
await extractor.release();

const result: Record<string, unknown> = {
  model: modelDir,
  seed,
  defects: scores.length,
  patchAuroc: binaryMetrics(concatTyped(Float32Array, scores), concatTyped(Uint8Array, gridLabels)).rocAuc,
};
const labels = concatTyped(Uint8Array, pixelLabels);
const area = pixelLabels.map((l) => l.reduce((a, b) => a + b, 0) / l.length);
// Each size group's defect pixels with every normal pixel, chosen once for every map.
const groups = Object.entries({ small: [0, 0.01], mid: [0.01, 0.05], large: [0.05, 1] } as const).map(([name, [lo, hi]]) => {
  const keep: number[] = [];
  labels.forEach((l, i) => {
    const a = area[Math.floor(i / (size * size))];
    if (l === 0 || (a > lo && a <= hi)) keep.push(i);
  });
  return { name, keep, labels: Uint8Array.from(keep, (i) => labels[i]), defects: area.filter((a) => a > lo && a <= hi).length };
});
const patchScores = ortTensor('float32', [scores.length, grid.height, grid.width], concatTyped(Float32Array, scores));
for (const sigma of sigmas) {
  for (const transform of ['none', 'sigmoid'] as const) {
    // The scoring graph's own map step (scoring/anomalyMap.ts), so these maps are the ones users get.
    const mg = new GraphBuilder('validation_maps');
    const map = addAnomalyMap(mg, mg.input('scores', 'float32', ['N', grid.height, grid.width]), grid, { size, sigma, truncate: c.map.truncate, transform });
    mg.output(map, 'map', 'float32', ['N', size, size]);
    const mapSession = await Session.create(mg.toModel(), 'validation maps');
    const maps = (await mapSession.run({ scores: patchScores })).map.data as Float32Array;
    await mapSession.release();
    const entry: Record<string, number | null> = { pooled: binaryMetrics(maps, labels).rocAuc };
    for (const gr of groups) {
      entry[gr.name] = gr.labels.includes(1)
        ? binaryMetrics(
            Float32Array.from(gr.keep, (i) => maps[i]),
            gr.labels,
          ).rocAuc
        : null;
      entry[`${gr.name}Defects`] = gr.defects;
    }
    result[`${transform}@${sigma}`] = entry;
  }
}
console.log(JSON.stringify(result));
