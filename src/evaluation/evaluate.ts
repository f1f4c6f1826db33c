/**
 * Scores a dataset's test split through the one scoring path and computes the metrics. Maps and
 * masks for pixel metrics are kept in flat typed arrays (83 bottle images = 6.9 M pixels).
 */
import type { AnomalyDataset, Sample } from '../datasets/dataset.js';
import type { ImageGeometry } from '../images/fit.js';
import { MaskLoader } from '../images/maskLoader.js';
import { aupro, binaryMetrics, proCurve } from '../metrics/index.js';
import { pixelCalibration, type ScoreStats, scoreStats, strictThresholdBelow } from '../model/calibration.js';
import type { Scorer } from '../scoring/scorer.js';
import { type ImageResult, scoreAll } from '../scoring/scoreImages.js';
import { atThreshold, f1At } from './atThreshold.js';
import { type Reporter, silentReporter } from '../core/progress.js';

/**
 * The metrics of one test split: threshold-free ranking metrics for images and pixels (AUROC,
 * AP, F1-max, AUPRO up to 30 % false positives), the thresholds in force and how they do, and the
 * counts. A metric is null when it cannot be computed (one class only, no masks); `notes` say why.
 * @example
 * const { metrics } = await detector.evaluate({ format: 'mvtec', root: 'mvtec_ad', category: 'bottle' });
 * console.log(metrics.image_auroc, metrics.pixel_aupro, metrics.notes);
 */
export interface Metrics {
  /** Area under the ROC curve of the image scores. */
  image_auroc: number | null;
  /** Average precision of the image scores. */
  image_ap: number | null;
  /** The best F1 over all image thresholds. */
  image_f1_max: number | null;
  /** Raw image score achieving image F1-max (predict anomalous when score >= it). */
  image_f1_threshold: number | null;
  /** Area under the ROC curve over every pixel of every map. */
  pixel_auroc: number | null;
  /** Area under the per-region-overlap curve up to a false-positive rate of 0.3, normalised. */
  pixel_aupro: number | null;
  /** Average precision over every pixel. */
  pixel_ap: number | null;
  /** The best F1 over all pixel thresholds. */
  pixel_f1_max: number | null;
  /** Raw map value achieving pixel F1-max (predict defect when map >= it). */
  pixel_f1_threshold: number | null;
  /** The scorer's thresholds (the model's, unless overridden) and how they do on this split. */
  image_threshold: number;
  /** The raw pixel threshold of the maps. */
  pixel_threshold: number;
  /** Share of images labelled anomalous that are defective. */
  image_precision_at_threshold: number | null;
  /** Share of defective images labelled anomalous. */
  image_recall_at_threshold: number | null;
  /** F1 of the image labels at the threshold. */
  image_f1_at_threshold: number | null;
  /** Share of good images labelled anomalous. */
  image_fpr_at_threshold: number | null;
  /** F1 of the pixels above the pixel threshold against the masks. */
  pixel_f1_at_threshold: number | null;
  /** Raw scores of the good test images (what can be measured without defects). */
  good_scores: ScoreStats | null;
  /** Test images scored. */
  n_images: number;
  /** Of them, defective (label 1). */
  n_defective: number;
  /** Of them, good (label 0). */
  n_good: number;
  /** Why a metric is null (one class only, no masks). */
  notes: string[];
}

/**
 * One test image as evaluated: its ground truth, raw score and the model's decision.
 * @example
 * const { predictions } = await detector.evaluate(spec);
 * const missed = predictions.filter((p) => p.label === 1 && p.predLabel === 0).map((p) => p.path);
 */
export interface ImagePrediction {
  /** The image file. */
  path: string;
  /** Ground truth: 1 = defective. */
  label: 0 | 1;
  /** The dataset's defect folder name ('good' for good images). */
  defectType: string;
  /** Raw image score. */
  score: number;
  /** The scorer's calibrated score (0.5 = threshold) and decision (1 = anomalous). */
  scoreNormalized: number;
  /** The model's decision: 1 = anomalous (score > threshold). */
  predLabel: 0 | 1;
}

/**
 * Points for plots (thinned), present when `evaluate` is asked for them (`curves: true`).
 * @example
 * const { curves } = await detector.evaluate(spec, { curves: true });
 * if (curves?.imageRoc) plot(curves.imageRoc.fpr, curves.imageRoc.tpr);
 */
export interface Curves {
  /** Image-level ROC curve. */
  imageRoc?: { fpr: number[]; tpr: number[] };
  /** Pixel-level ROC curve (with masks). */
  pixelRoc?: { fpr: number[]; tpr: number[] };
  /** Per-region-overlap against false-positive rate (with masks). */
  pro?: { fpr: number[]; pro: number[] };
}

/**
 * What `Detector.evaluate` gives for a test split: the metrics, every image's prediction, how long
 * scoring took and the test-split oracle thresholds.
 * @example
 * const ev: Evaluation = await detector.evaluate({ format: 'mvtec', root: 'mvtec_ad', category: 'bottle' });
 * console.log(formatMetrics(ev.metrics), `${(ev.predictions.length / ev.seconds).toFixed(1)} images/s`);
 */
export interface Evaluation {
  /** The split's metrics. */
  metrics: Metrics;
  /** One entry per test image, in the dataset's order. */
  predictions: ImagePrediction[];
  /** Wall time of scoring and metrics. */
  seconds: number;
  /** With `curves: true`. */
  curves?: Curves;
  /** Test-split F1-max thresholds, for `--threshold-from test` (an oracle; never the default). */
  oracle: OracleThresholds;
}

/**
 * Thresholds that reproduce F1-max with the graph's strict `x > threshold` (the test-split oracle:
 * chosen with the test labels, so for study only, never the default).
 * @example
 * const { oracle } = await detector.evaluate(spec);
 * if (oracle.image !== null) console.log('test-split F1-max threshold', oracle.image);
 */
export interface OracleThresholds {
  /** Raw image-score threshold; null when image F1-max cannot be computed. */
  image: number | null;
  /** Raw pixel threshold; null without masks. */
  pixel: number | null;
}

/** The entries of `values` where `valid` is 1, in order. */
function keep<T extends Float32Array | Uint8Array>(values: T, valid: Uint8Array): T {
  let n = 0;
  for (let i = 0; i < valid.length; i++) n += valid[i];
  const out = new (values.constructor as new (n: number) => T)(n);
  for (let i = 0, j = 0; i < valid.length; i++) if (valid[i]) out[j++] = values[i];
  return out;
}

function tryMetric(notes: string[], name: string, f: () => number): number | null {
  try {
    return f();
  } catch (e) {
    notes.push(`${name}: ${(e as Error).message}`);
    return null;
  }
}

/**
 * How an evaluation runs. `Detector.evaluate` fills `image` from the model and takes the rest
 * (plus `onProgress`).
 * @example
 * const ev = await detector.evaluate(spec, { curves: true, onImage: async (sample, r) => console.log(sample.path, r.score) });
 */
export interface EvaluateOptions {
  /** The model's resize, crop and fit (masks go through the same geometry). */
  image: ImageGeometry;
  /** Progress of scoring; default: silent. */
  reporter?: Reporter;
  /** Names the split in progress bars. */
  label?: string;
  /** Called with every scored image, in order (report writers stream maps to disk from here). */
  onImage?: (sample: Sample, result: ImageResult, mask?: Uint8Array) => Promise<void>;
  /** Also compute curve points for plots. */
  curves?: boolean;
  /** Most images of one size per run of the scoring graph (default 1; scoreImages' `batch`). */
  batch?: number;
}

/**
 * Scores the test split through the one scoring loop and computes image and pixel metrics.
 * @throws the first image's decode or scoring error, naming it; RangeError when `batch` is not a positive integer.
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
  // Letterbox padding is not image: pixel metrics leave it out (metrics/aupro.ts `valid`).
  const valid = withMasks && opts.image.fit === 'letterbox' ? new Uint8Array(samples.length * pixelsPerMap) : undefined;
  const scores = new Float32Array(samples.length);
  const normalized = new Float32Array(samples.length);
  const predLabels = new Uint8Array(samples.length);
  const labels = new Uint8Array(samples.length);
  let oracle: OracleThresholds = { image: null, pixel: null };
  const start = Date.now();
  const bar = reporter.bar(opts.label ?? 'testing', samples.length);
  try {
    let i = 0;
    for await (const { item: s, image, result: r } of scoreAll(scorer, samples, { source: (s) => s.path, prefetch: 2, batch: opts.batch })) {
      scores[i] = r.score;
      normalized[i] = r.scoreNormalized;
      predLabels[i] = r.label;
      labels[i] = s.label;
      let mask: Uint8Array | undefined;
      if (maps && masks && maskLoader) {
        maps.set(r.map, i * pixelsPerMap);
        if (valid) valid.set(await maskLoader.inside(image.width, image.height), i * pixelsPerMap);
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
    const size = { width: scorer.mapSize, height: scorer.mapSize, fprLimit: 0.3, valid };
    // AUROC, AP and F1 need no geometry: they see the image pixels only; AUPRO takes `valid`.
    const [pxMaps, pxMasks] = valid ? [keep(maps, valid), keep(masks, valid)] : [maps, masks];
    if (valid) notes.push(`pixel metrics: letterbox padding left out (${pxMaps.length} of ${maps.length} map pixels are image)`);
    const px = binaryMetrics(pxMaps, pxMasks, { curve: opts.curves });
    for (const n of px.notes) notes.push(`pixel metrics: ${n}`);
    metrics.pixel_auroc = px.rocAuc;
    metrics.pixel_ap = px.averagePrecision;
    metrics.pixel_f1_max = px.f1Max?.f1 ?? null;
    metrics.pixel_f1_threshold = px.f1Max?.threshold ?? null;
    metrics.pixel_aupro = tryMetric(notes, 'pixel_aupro', () => aupro(maps, masks, size));
    metrics.pixel_f1_at_threshold = tryMetric(notes, 'pixel_f1_at_threshold', () => f1At(pxMaps, pxMasks, pixel.threshold));
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
