/**
 * Scores a dataset's test split through the one scoring path and computes the metrics. Maps and
 * masks for pixel metrics are kept in flat typed arrays (83 bottle images = 6.9 M pixels).
 */
import type { AnomalyDataset, Sample } from '../datasets/dataset.js';
import { MaskLoader } from '../images/maskLoader.js';
import { aupro, binaryMetrics, proCurve } from '../metrics/index.js';
import { pixelCalibration, type ScoreStats, scoreStats, strictThresholdBelow } from '../model/calibration.js';
import type { Scorer } from '../scoring/scorer.js';
import { type ImageResult, scoreAll } from '../scoring/scoreImages.js';
import { atThreshold, f1At } from './atThreshold.js';
import { type Reporter, silentReporter } from '../core/progress.js';

export interface Metrics {
  image_auroc: number | null;
  image_ap: number | null;
  image_f1_max: number | null;
  image_f1_threshold: number | null;
  pixel_auroc: number | null;
  pixel_aupro: number | null;
  pixel_ap: number | null;
  pixel_f1_max: number | null;
  /** Raw map value achieving pixel F1-max (predict defect when map >= it). */
  pixel_f1_threshold: number | null;
  /** The scorer's thresholds (the model's, unless overridden) and how they do on this split. */
  image_threshold: number;
  pixel_threshold: number;
  image_precision_at_threshold: number | null;
  image_recall_at_threshold: number | null;
  image_f1_at_threshold: number | null;
  /** Share of good images labelled anomalous. */
  image_fpr_at_threshold: number | null;
  pixel_f1_at_threshold: number | null;
  /** Raw scores of the good test images (what can be measured without defects). */
  good_scores: ScoreStats | null;
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

/** Points for plots (thinned), present when `evaluate` is asked for them. */
export interface Curves {
  imageRoc?: { fpr: number[]; tpr: number[] };
  pixelRoc?: { fpr: number[]; tpr: number[] };
  pro?: { fpr: number[]; pro: number[] };
}

export interface Evaluation {
  metrics: Metrics;
  predictions: ImagePrediction[];
  seconds: number;
  curves?: Curves;
  /** Test-split F1-max thresholds, for `--threshold-from test` (an oracle; never the default). */
  oracle: OracleThresholds;
}

/** Thresholds that reproduce F1-max with the graph's strict `x > threshold` (the test-split oracle). */
export interface OracleThresholds {
  image: number | null;
  pixel: number | null;
}

function tryMetric(notes: string[], name: string, f: () => number): number | null {
  try {
    return f();
  } catch (e) {
    notes.push(`${name}: ${(e as Error).message}`);
    return null;
  }
}

export interface EvaluateOptions {
  /** The model's resize and crop (masks go through the same geometry). */
  image: { resize: number; crop: number };
  reporter?: Reporter;
  label?: string;
  /** Called with every scored image, in order (report writers stream maps to disk from here). */
  onImage?: (sample: Sample, result: ImageResult, mask?: Uint8Array) => Promise<void>;
  /** Also compute curve points for plots. */
  curves?: boolean;
}

/**
 * Scores the test split through the one scoring loop and computes image and pixel metrics.
 * @throws the first image's decode or scoring error, naming it.
 */
export async function evaluate(scorer: Scorer, dataset: AnomalyDataset, opts: EvaluateOptions): Promise<Evaluation> {
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
  let oracle: OracleThresholds = { image: null, pixel: null };
  const start = Date.now();
  const bar = reporter.bar(opts.label ?? 'testing', samples.length);
  try {
    let i = 0;
    for await (const { item: s, image, result: r } of scoreAll(scorer, samples, { source: (s) => s.path, prefetch: 2 })) {
      scores[i] = r.score;
      normalized[i] = r.scoreNormalized;
      predLabels[i] = r.label;
      labels[i] = s.label;
      let mask: Uint8Array | undefined;
      if (maps && masks && maskLoader) {
        maps.set(r.map, i * pixelsPerMap);
        if (s.maskPath) {
          const m = await maskLoader.load([s.maskPath, ...(s.extraMaskPaths ?? [])], { width: image.width, height: image.height });
          if (m.resized) reporter.warn(`${s.maskPath}: mask size differs from its image; resized to match`);
          masks.set(m.mask, i * pixelsPerMap);
          mask = m.mask;
        }
      }
      await opts.onImage?.(s, r, mask);
      bar.tick();
      i++;
    }
  } finally {
    await maskLoader?.release();
  }
  bar.done();
  const notes: string[] = [];
  const nDefective = labels.reduce((a, b) => a + b, 0);
  const nGood = samples.length - nDefective;
  const pixel = pixelCalibration(scorer.calibration);
  const image = binaryMetrics(scores, labels, { curve: opts.curves });
  for (const n of image.notes) notes.push(`image metrics: ${n}`);
  const metrics: Metrics = {
    image_auroc: image.rocAuc,
    image_ap: image.averagePrecision,
    image_f1_max: image.f1Max?.f1 ?? null,
    image_f1_threshold: image.f1Max?.threshold ?? null,
    pixel_auroc: null,
    pixel_aupro: null,
    pixel_ap: null,
    pixel_f1_max: null,
    pixel_f1_threshold: null,
    image_threshold: scorer.calibration.imageThreshold,
    pixel_threshold: pixel.threshold,
    ...atThreshold(predLabels, labels),
    pixel_f1_at_threshold: null,
    good_scores:
      nGood > 0
        ? scoreStats(
            scores.filter((_, i) => labels[i] === 0),
            0.995,
          )
        : null,
    n_images: samples.length,
    n_defective: nDefective,
    n_good: nGood,
    notes,
  };
  if (nDefective === 0) notes.push('no defective test images: AUROC, AP and F1 need defects; good_scores and image_fpr_at_threshold are what can be measured');
  const curves: Curves | undefined = opts.curves ? {} : undefined;
  if (curves && image.rocCurve) curves.imageRoc = image.rocCurve;
  if (maps && masks) {
    const size = { width: scorer.mapSize, height: scorer.mapSize, fprLimit: 0.3 };
    const px = binaryMetrics(maps, masks, { curve: opts.curves });
    for (const n of px.notes) notes.push(`pixel metrics: ${n}`);
    metrics.pixel_auroc = px.rocAuc;
    metrics.pixel_ap = px.averagePrecision;
    metrics.pixel_f1_max = px.f1Max?.f1 ?? null;
    metrics.pixel_f1_threshold = px.f1Max?.threshold ?? null;
    metrics.pixel_aupro = tryMetric(notes, 'pixel_aupro', () => aupro(maps, masks, size));
    metrics.pixel_f1_at_threshold = tryMetric(notes, 'pixel_f1_at_threshold', () => f1At(maps, masks, pixel.threshold));
    if (curves && px.rocCurve) curves.pixelRoc = px.rocCurve;
    if (curves && metrics.pixel_aupro !== null) curves.pro = proCurve(maps, masks, size);
  } else {
    notes.push('pixel metrics: the dataset has no ground-truth masks');
  }
  oracle = {
    image: metrics.image_f1_threshold === null ? null : strictThresholdBelow(scores, metrics.image_f1_threshold),
    pixel: metrics.pixel_f1_threshold === null || !maps ? null : strictThresholdBelow(maps, metrics.pixel_f1_threshold),
  };
  const predictions: ImagePrediction[] = samples.map((s, i) => ({
    path: s.path,
    label: s.label,
    defectType: s.defectType,
    score: scores[i],
    scoreNormalized: normalized[i],
    predLabel: predLabels[i] ? 1 : 0,
  }));
  return { metrics, predictions, seconds: (Date.now() - start) / 1000, curves, oracle };
}
