/**
 * Validation without test labels (issue 6): held-out good training images and synthetic-defect
 * copies of them, their features extracted once and cached, scored with the current head weights
 * after training epochs. Image AUROC (good vs synthetic) and patch AUROC (synthetic region vs the
 * rest, on the feature grid) measure the detector without looking at the test split; patch AUPRO
 * (each synthetic region's share found, on the same grid) is logged beside them, for checking
 * whether it ranks epochs as the test's AUPRO does (docs/studies/fast-convergence.md, "What validation sees of the gap").
 */
import type { Reporter } from '../core/progress.js';
import type { Sample } from '../datasets/dataset.js';
import type { FeatureExtractor } from '../embedding/featureExtractor.js';
import { addPatchScoresFromInputs } from '../heads/scoreHead.js';
import { type HeadParams, PARAM_NAMES } from '../heads/params.js';
import { Rng } from '../core/rng.js';
import { decodeImage } from '../images/decode.js';
import { aupro, binaryMetrics } from '../metrics/index.js';
import { GraphBuilder } from '../onnx/builder.js';
import { ortTensor, Session } from '../onnx/session.js';
import { FeatureCache, planCache } from '../embedding/featureCache.js';
import { type DefectDifficulty, patchLabels, synthesizeDefect } from './syntheticDefects.js';

export interface ValidationScores {
  imageAuroc: number;
  patchAuroc: number;
  /** AUPRO (up to FPR 0.3) of the synthetic images' patch scores on the feature grid; NaN without a region. Not in `score`. */
  patchAupro: number;
  /** The selection criterion: image AUROC + patch AUROC (GLASS's I + P, here on validation). */
  score: number;
}

/** Its own stream: the defects depend on the seed only, not on anything else drawn in training. */
export const DEFECT_STREAM = 0xdefec7;

export class SyntheticValidation {
  private constructor(
    private readonly cache: FeatureCache,
    private readonly session: Session,
    private readonly imageLabels: Uint8Array,
    private readonly patchLabelsAll: Uint8Array,
    private readonly grid: { height: number; width: number },
  ) {}

  get nImages(): number {
    return this.imageLabels.length;
  }

  /** Extracts features of every sample and of `perImage` synthetic-defect copies of each. */
  static async create(
    extractor: FeatureExtractor,
    samples: Sample[],
    opts: {
      seed: number;
      perImage?: number;
      /** How hard the synthetic defects are (default 'large'). */
      difficulty?: DefectDifficulty;
      featureDtype: 'float32' | 'float16';
      memoryMB: number;
      head: { featureDim: number; hiddenDim: number; bnEps: number; leakySlope: number };
      reporter: Reporter;
    },
  ): Promise<SyntheticValidation> {
    if (samples.length === 0) throw new RangeError('SyntheticValidation: no validation images');
    const perImage = opts.perImage ?? 1;
    const n = samples.length * (1 + perImage);
    const rows = extractor.patchesPerImage;
    const dim = opts.head.featureDim;
    const plan = planCache(n, rows, dim, { memoryMB: opts.memoryMB, dtype: opts.featureDtype });
    const cache = new FeatureCache(plan, n, rows, dim);
    const imageLabels = new Uint8Array(n);
    const labels = new Uint8Array(n * rows);
    const rng = new Rng(opts.seed ^ DEFECT_STREAM);
    const geometry = extractor.options.image;
    const bar = opts.reporter.bar('validation features (good + synthetic defects)', n);
    let k = 0;
    try {
      for (const s of samples) {
        const image = await decodeImage(s.path);
        cache.put(k++, await extractor.extract([image]));
        bar.tick();
        for (let j = 0; j < perImage; j++) {
          const d = synthesizeDefect(image, geometry, rng, opts.difficulty, extractor.grid.height * extractor.grid.width);
          imageLabels[k] = 1;
          labels.set(patchLabels(d.mask, image.width, image.height, geometry, extractor.grid), k * rows);
          cache.put(k++, await extractor.extract([d.image]));
          bar.tick();
        }
      }
    } catch (e) {
      cache.release();
      throw e;
    }
    bar.done();
    const g = new GraphBuilder('simplenet_validation_scores');
    let features = g.input('features', plan.dtype, ['rows', dim]);
    if (plan.dtype === 'float16') features = g.cast(features, 'float32');
    g.output(addPatchScoresFromInputs(g, features, opts.head, opts.head), 'scores', 'float32', ['rows']);
    const session = await Session.create(g.toModel(), 'validation scores');
    return new SyntheticValidation(cache, session, imageLabels, labels, extractor.grid);
  }

  /** Scores every cached image with `params`. */
  async evaluate(params: HeadParams): Promise<ValidationScores> {
    const rows = this.cache.rowsPerImage;
    const n = this.imageLabels.length;
    const patch = new Float32Array(n * rows);
    const weights: Record<string, ReturnType<typeof ortTensor>> = {};
    for (const name of PARAM_NAMES) weights[name] = ortTensor('float32', params[name].dims, params[name].data);
    const step = 8;
    for (let start = 0; start < n; start += step) {
      const idx = Array.from({ length: Math.min(step, n - start) }, (_, i) => start + i);
      const out = await this.session.run({ features: this.cache.batch(idx), ...weights });
      patch.set(out.scores.data as Float32Array, start * rows);
    }
    const imageScores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let m = -Infinity;
      for (let r = 0; r < rows; r++) m = Math.max(m, patch[i * rows + r]);
      imageScores[i] = m;
    }
    // Patch AUROC over the synthetic images only: where the defect is, not whether there is one.
    const synthetic = [...this.imageLabels.keys()].filter((i) => this.imageLabels[i] === 1);
    const ps = new Float32Array(synthetic.length * rows);
    const pl = new Uint8Array(synthetic.length * rows);
    synthetic.forEach((i, k) => {
      ps.set(patch.subarray(i * rows, (i + 1) * rows), k * rows);
      pl.set(this.patchLabelsAll.subarray(i * rows, (i + 1) * rows), k * rows);
    });
    const imageAuroc = binaryMetrics(imageScores, this.imageLabels).rocAuc ?? Number.NaN;
    const patchAuroc = binaryMetrics(ps, pl).rocAuc ?? Number.NaN;
    const patchAupro = pl.includes(1) && pl.includes(0) ? aupro(ps, pl, this.grid) : Number.NaN;
    const finite = (v: number) => (Number.isFinite(v) ? v : 0);
    return { imageAuroc, patchAuroc, patchAupro, score: finite(imageAuroc) + finite(patchAuroc) };
  }

  async release(): Promise<void> {
    this.cache.release();
    await this.session.release();
  }
}
