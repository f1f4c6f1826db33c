/**
 * Scores a dataset's test split through the one scoring path and computes the metrics. Maps and
 * masks for pixel metrics are kept in flat typed arrays (83 bottle images = 6.9 M pixels).
 */
import type { AnomalyDataset, Sample } from '../datasets/dataset.js';
import { decodeImage } from '../images/decode.js';
import { MaskLoader } from '../images/maskLoader.js';
import { aupro, averagePrecision, f1Max, rocAuc } from '../metrics/index.js';
import type { ImageScores, Scorer } from '../scoring/scorer.js';
import { type Reporter, silentReporter } from '../cli/progress.js';

export interface Metrics {
  image_auroc: number | null;
  image_ap: number | null;
  image_f1_max: number | null;
  image_f1_threshold: number | null;
  pixel_auroc: number | null;
  pixel_aupro: number | null;
  pixel_ap: number | null;
  pixel_f1_max: number | null;
  n_images: number;
  n_defective: number;
  n_good: number;
  /** Why a metric is null (one class only, no masks). */
  notes: string[];
}

export interface ImagePrediction {
  path: string;
  label: 0 | 1;
  defectType: string;
  /** Raw image score. */
  score: number;
  /** The scorer's calibrated score (0.5 = threshold) and decision (1 = anomalous). */
  scoreNormalized: number;
  predLabel: 0 | 1;
}

export interface Evaluation {
  metrics: Metrics;
  predictions: ImagePrediction[];
  seconds: number;
}

function tryMetric(notes: string[], name: string, f: () => number): number | null {
  try {
    return f();
  } catch (e) {
    notes.push(`${name}: ${(e as Error).message}`);
    return null;
  }
}

export async function evaluate(
  scorer: Scorer,
  dataset: AnomalyDataset,
  opts: {
    image: { resize: number; crop: number };
    reporter?: Reporter;
    label?: string;
    /** Called with every scored image, in order (report writers stream maps to disk from here). */
    onImage?: (sample: Sample, result: ImageScores) => Promise<void>;
  },
): Promise<Evaluation> {
  const reporter = opts.reporter ?? silentReporter;
  const samples: Sample[] = dataset.test;
  if (samples.length === 0) throw new Error(`${dataset.root}/${dataset.category}: the test split is empty`);
  const pixelsPerMap = scorer.mapSize * scorer.mapSize;
  const withMasks = dataset.hasMasks && samples.every((s) => s.label === 0 || s.maskPath);
  const maps = withMasks ? new Float32Array(samples.length * pixelsPerMap) : undefined;
  const masks = withMasks ? new Uint8Array(samples.length * pixelsPerMap) : undefined;
  const maskLoader = withMasks ? await MaskLoader.create(opts.image) : undefined;
  const scores = new Float32Array(samples.length);
  const normalized = new Float32Array(samples.length);
  const predLabels = new Uint8Array(samples.length);
  const labels = new Uint8Array(samples.length);
  const start = Date.now();
  const bar = reporter.bar(opts.label ?? 'testing', samples.length);
  try {
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i];
      const image = await decodeImage(s.path);
      const r = await scorer.score([image]);
      scores[i] = r.scores[0];
      normalized[i] = r.normalized[0];
      predLabels[i] = r.labels[0];
      labels[i] = s.label;
      await opts.onImage?.(s, r);
      if (maps && masks && maskLoader) {
        maps.set(r.maps, i * pixelsPerMap);
        if (s.maskPath) {
          const m = await maskLoader.load([s.maskPath, ...(s.extraMaskPaths ?? [])], { width: image.width, height: image.height });
          if (m.resized) reporter.line(`warning: ${s.maskPath}: mask size differs from its image; resized to match`);
          masks.set(m.mask, i * pixelsPerMap);
        }
      }
      bar.tick();
    }
  } finally {
    await maskLoader?.release();
  }
  bar.done();
  const notes: string[] = [];
  const nDefective = labels.reduce((a, b) => a + b, 0);
  let f1Threshold: number | null = null;
  const metrics: Metrics = {
    image_auroc: tryMetric(notes, 'image_auroc', () => rocAuc(scores, labels)),
    image_ap: tryMetric(notes, 'image_ap', () => averagePrecision(scores, labels)),
    image_f1_max: tryMetric(notes, 'image_f1_max', () => {
      const best = f1Max(scores, labels);
      f1Threshold = best.threshold;
      return best.f1;
    }),
    image_f1_threshold: null,
    pixel_auroc: null,
    pixel_aupro: null,
    pixel_ap: null,
    pixel_f1_max: null,
    n_images: samples.length,
    n_defective: nDefective,
    n_good: samples.length - nDefective,
    notes,
  };
  metrics.image_f1_threshold = f1Threshold;
  if (maps && masks) {
    metrics.pixel_auroc = tryMetric(notes, 'pixel_auroc', () => rocAuc(maps, masks));
    metrics.pixel_aupro = tryMetric(notes, 'pixel_aupro', () =>
      aupro(maps, masks, { width: scorer.mapSize, height: scorer.mapSize, fprLimit: 0.3 }),
    );
    metrics.pixel_ap = tryMetric(notes, 'pixel_ap', () => averagePrecision(maps, masks));
    metrics.pixel_f1_max = tryMetric(notes, 'pixel_f1_max', () => f1Max(maps, masks).f1);
  } else {
    notes.push('pixel metrics: the dataset has no ground-truth masks');
  }
  const predictions: ImagePrediction[] = samples.map((s, i) => ({
    path: s.path,
    label: s.label,
    defectType: s.defectType,
    score: scores[i],
    scoreNormalized: normalized[i],
    predLabel: predLabels[i] ? 1 : 0,
  }));
  return { metrics, predictions, seconds: (Date.now() - start) / 1000 };
}
