/**
 * `Detector`: a trained model folder as a Node developer uses it. It scores paths, encoded bytes
 * or decoded pixels through the one scoring graph and the one scoring loop
 * (scoring/scoreImages.ts), evaluates a dataset's test split, and exports the graph; `predict`,
 * `test`, `export` and the service are thin layers over it.
 */
import { eventReporter, type ProgressEvent, type Reporter, silentReporter } from '../core/progress.js';
import type { AnomalyDataset } from '../datasets/dataset.js';
import { type DatasetSpec, loadDataset } from '../datasets/load.js';
import { type Evaluation, type EvaluateOptions, evaluate } from '../evaluation/evaluate.js';
import { exportModelBytes } from '../export/exportModel.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type Calibration, pixelCalibration } from '../model/calibration.js';
import { loadModel, type SimpleNetModel } from '../model/modelDir.js';
import type { SessionOptions } from '../onnx/session.js';
import { resolveCalibration } from '../predict/calibration.js';
import type { Precision } from '../scoring/precision.js';
import { Scorer } from '../scoring/scorer.js';
import { type ImageResult, type ImageSource, perImage, scoreImages } from '../scoring/scoreImages.js';
import type { DecodedImage } from '../images/decode.js';
import { coverageWarner, type ImageFit, tileGrid } from '../images/fit.js';

/**
 * How `Detector.load` sets a detector up: the label threshold, whether results keep the crop, and
 * the onnxruntime session settings. Every field is optional.
 * @example
 * const detector = await Detector.load('runs/bottle', { threshold: 0.42, withCrop: true, session: { intraOpThreads: 2 } });
 */
export interface DetectorOptions {
  /** Raw image-score threshold for labels, instead of the model's (from its held-out images). */
  threshold?: number;
  /** Keep the resized, cropped RGB image with each result (for overlays). Default false. */
  withCrop?: boolean;
  /**
   * onnxruntime threads and optimisation level (default: one session on every core, lowest latency
   * for one image). `sideBySideSession(2)`: two runs side by side in worker threads, which
   * `scoreMany` and `evaluate` keep busy (more images per second; what `simplenet predict` and
   * `test` use).
   */
  session?: SessionOptions;
  /**
   * The backbone's arithmetic: 'fp32' (default) or 'int8', the static int8 twin built from the
   * folder's quantization.json (`simplenet quantize`; scoring/precision.ts). Applies to scoring and export.
   */
  precision?: Precision;
  /** Progress of the rare slow step at load (recalibrating a model saved before thresholds were stored). */
  onProgress?: (e: ProgressEvent) => void;
  /** A Reporter instead of `onProgress` (the CLI passes its stderr printer). */
  reporter?: Reporter;
}

/**
 * One scored image: the image score, its label against the threshold, and the anomaly map
 * (`width`×`height`, the crop frame, row-major), each also normalised so that 0.5 is the threshold.
 * @example
 * const r: ScoreResult = await detector.score('part.png');
 * if (r.label === 1) console.log(`${r.source}: anomalous (${r.score.toFixed(3)} > ${r.threshold.toFixed(3)})`);
 */
export interface ScoreResult {
  /** The path or label of the input. */
  source: string;
  /** Raw image score (the map's maximum; higher = more anomalous). */
  score: number;
  /** clamp((score − threshold) / range + 0.5, 0, 1): 0.5 is the threshold. */
  scoreNormalized: number;
  /** 1 = anomalous (score > threshold). */
  label: 0 | 1;
  /** The raw image-score threshold the label used. */
  threshold: number;
  /** Raw per-pixel anomaly scores, `width`×`height`, row-major. */
  anomalyMap: Float32Array;
  /** The map normalised like the score (0.5 = the pixel threshold). */
  anomalyMapNormalized: Float32Array;
  /** Map width in pixels (the model's crop size). */
  width: number;
  /** Map height in pixels (the model's crop size). */
  height: number;
  /** With `withCrop`: the resized, cropped RGB image, `width`×`height`×3. */
  crop?: Uint8Array;
}

/**
 * What `Detector.scoreMany` yields for each input: the result, or the error that image met (a bad
 * file does not stop the others). `input` is the item as it was passed in.
 * @example
 * for await (const o of detector.scoreMany(['a.png', 'b.png'])) console.log(o.input, o.ok ? o.result.score : o.error.message);
 */
export type ScoreOutcome<T> = { ok: true; input: T; result: ScoreResult } | { ok: false; input: T; error: Error };

/**
 * What a model is, for people and for `GET /v1/models/{name}`: where it was loaded from, how it was
 * trained and the thresholds in force. From `detector.info`.
 * @example
 * const { backbone, epochs, imageThreshold } = detector.info;
 * console.log(`${backbone.name}, ${epochs} epochs, threshold ${imageThreshold}`);
 */
export interface DetectorInfo {
  /** The model folder. */
  dir: string;
  /** The backbone the features come from (name, layers, weights hash). */
  backbone: SimpleNetModel['manifest']['backbone']['identity'];
  /** The configuration preset training started from. */
  preset: string;
  /** Epochs trained. */
  epochs: number;
  /** The training seed. */
  seed: number;
  /** Which epoch's head was kept, when training selected one. */
  selected?: { by: 'final' | 'validation'; epoch: number; score?: number };
  /** Raw image-score threshold the labels use. */
  imageThreshold: number;
  /** Raw pixel-score threshold of the anomaly map. */
  pixelThreshold: number;
  /** Where the thresholds came from (e.g. the held-out good images, or the caller). */
  thresholdSource: string;
  /** Side of the square anomaly map, in pixels (the crop size). */
  mapSize: number;
  /** How images fill the model's square frame (`image.fit`: 'crop', 'squash', 'letterbox' or 'tile'). */
  fit: ImageFit;
  /** Tile rows and columns the backbone scores each image as ([1, 1] for every fit but 'tile'). */
  tiles: readonly [number, number];
  /** Fit 'crop': the shorter side's length after resizing, before the centre crop (`image.resize`). */
  resize: number;
  /** When the model was written (ISO 8601). */
  createdAt: string;
}

/**
 * A trained SimpleNet model (Liu et al., CVPR 2023) ready to score images: the backbone, the
 * feature adaptor and the discriminator run as one onnxruntime graph that gives an image score
 * and an anomaly map. Load it from a folder written by `train`; close it when done.
 * @example
 * await using detector = await Detector.load('runs/bottle');
 * const r = await detector.score('part.png');
 * console.log(r.score, r.label);
 */
export class Detector {
  private scorer: Scorer | undefined;
  private scorerReady: Promise<Scorer> | undefined;
  private closed = false;
  /** Warns once (on the reporter) when the model's fit discards part of a scored image (issue 13). */
  private readonly noteCoverage: (source: string, width: number, height: number) => void;

  private constructor(
    /** The loaded model folder (manifest, config, backbone, head weights). */
    readonly model: SimpleNetModel,
    /** The thresholds and normalisation in force (the model's, or overridden). */
    readonly calibration: Calibration,
    private readonly options: DetectorOptions,
  ) {
    const reporter = options.reporter ?? (options.onProgress ? eventReporter(options.onProgress) : silentReporter);
    this.noteCoverage = coverageWarner(model.config.image, reporter);
  }

  /**
   * Loads a model folder written by `train` (or `simplenet train`). The scoring session is built on
   * first use.
   * @throws ModelLoadError naming the file when the folder is not a complete simplenet model.
   * @example const detector = await Detector.load('runs/bottle');
   */
  static async load(dir: string, opts: DetectorOptions = {}): Promise<Detector> {
    const model = await loadModel(dir);
    const reporter: Reporter = opts.reporter ?? (opts.onProgress ? eventReporter(opts.onProgress) : silentReporter);
    const calibration = await resolveCalibration(model, { threshold: opts.threshold, reporter });
    return new Detector(model, calibration, opts);
  }

  /**
   * A detector over an already loaded model with the given thresholds, as they are (no
   * recalibration: `test` scores a model saved before thresholds were stored this way).
   * @example const detector = Detector.fromModel(await loadModel('runs/bottle'), calibration);
   */
  static fromModel(model: SimpleNetModel, calibration: Calibration, opts: DetectorOptions = {}): Detector {
    return new Detector(model, calibration, opts);
  }

  /**
   * What the model is: its folder, backbone, training run and the thresholds in force.
   * @example console.log(detector.info.imageThreshold, detector.info.thresholdSource);
   */
  get info(): DetectorInfo {
    const { manifest } = this.model;
    return {
      dir: this.model.dir,
      backbone: manifest.backbone.identity,
      preset: manifest.preset,
      epochs: manifest.training.epochs,
      seed: manifest.training.seed,
      ...(manifest.training.selected ? { selected: manifest.training.selected } : {}),
      imageThreshold: this.calibration.imageThreshold,
      pixelThreshold: pixelCalibration(this.calibration).threshold,
      thresholdSource: this.calibration.thresholdSource,
      mapSize: this.model.config.image.crop,
      fit: this.model.config.image.fit,
      tiles: tileGrid(this.model.config.image),
      resize: this.model.config.image.resize,
      createdAt: manifest.createdAt,
    };
  }

  /**
   * The same model with other thresholds (e.g. chosen by a person) or options; it gets its own
   * session, built on first use.
   * @example const strict = detector.withCalibration({ ...detector.calibration, imageThreshold: 0.4, thresholdSource: 'user' });
   */
  withCalibration(calibration: Calibration, opts: DetectorOptions = this.options): Detector {
    return new Detector(this.model, calibration, opts);
  }

  /** The scorer behind this detector (built once, on first use). */
  private async session(): Promise<Scorer> {
    if (this.closed) throw new Error(`${this.model.dir}: this Detector is closed`);
    this.scorerReady ??= Scorer.fromModel(this.model, {
      calibration: this.calibration,
      withCrop: this.options.withCrop,
      session: this.options.session,
      precision: this.options.precision,
    }).then((s) => {
      this.scorer = s;
      return s;
    });
    return this.scorerReady;
  }

  /**
   * Scores one image: a path, encoded bytes (PNG, JPEG, WebP, TIFF, BMP, GIF) or decoded pixels.
   * @throws ImageDecodeError / ImageTooLargeError naming the input; ImageFitError when the fit would shrink it beyond exact resampling; NonFiniteScoreError when the model gives NaN.
   * @example const r = await detector.score('part.png'); console.log(r.score, r.label);
   */
  async score(input: ImageSource, opts: { label?: string } = {}): Promise<ScoreResult> {
    for await (const r of this.scoreMany([input], { labels: opts.label ? [opts.label] : undefined })) {
      if (!r.ok) throw r.error;
      return r.result;
    }
    throw new Error('unreachable: one input gives one result');
  }

  /**
   * Scores many images in order with bounded memory: `concurrency` images are decoded ahead of the
   * ones being scored, and with `batch` > 1 up to `batch` consecutive images of one size share a
   * run of the graph (default 1). A failed image is an `{ ok: false }` entry; the others are still
   * scored.
   * @throws RangeError when `batch` is not a positive integer; the signal's reason once it aborts.
   * @example for await (const r of detector.scoreMany(paths, { concurrency: 2, batch: 4 })) if (r.ok) console.log(r.input, r.result.score);
   */
  async *scoreMany<T extends ImageSource>(
    inputs: Iterable<T> | AsyncIterable<T>,
    opts: { concurrency?: number; batch?: number; signal?: AbortSignal; labels?: readonly string[] } = {},
  ): AsyncGenerator<ScoreOutcome<T>> {
    const scorer = await this.session();
    const label = (item: T, i: number) => opts.labels?.[i] ?? (typeof item === 'string' ? item : `image ${i + 1}`);
    let i = 0;
    const loop = { source: (x: T) => x, label, prefetch: opts.concurrency ?? 2, batch: opts.batch, signal: opts.signal };
    for await (const r of scoreImages(scorer, inputs, loop)) {
      const source = label(r.item, i++);
      if (r.ok) this.noteCoverage(source, r.image.width, r.image.height);
      yield r.ok ? { ok: true, input: r.item, result: this.result(source, r.result) } : { ok: false, input: r.item, error: r.error };
    }
  }

  /**
   * Scores decoded images in one run of the graph when they share a size (what a server's
   * micro-batcher sends); images of mixed sizes are run one by one (Scorer.score). Results in input order.
   * @throws NonFiniteScoreError naming the image; an error for an image that is not RGB.
   * @example const [a, b] = await detector.scoreBatch([await decodeImage('a.png'), await decodeImage('b.png')]);
   */
  async scoreBatch(images: readonly DecodedImage[]): Promise<ScoreResult[]> {
    const scorer = await this.session();
    const results = perImage(await scorer.score(images));
    return results.map((r, i) => {
      const source = images[i].source ?? `image ${i + 1}`;
      this.noteCoverage(source, images[i].width, images[i].height);
      return this.result(source, r);
    });
  }

  /**
   * Scores a dataset's test split and computes the metrics (`simplenet test`), through the same loop
   * (`batch`: images per run of the graph, default 1).
   * @throws the first image's decode or scoring error, naming it; RangeError when `batch` is not a positive integer.
   * @example const { metrics } = await detector.evaluate({ format: 'mvtec', root, category: 'bottle' }, { batch: 4 });
   */
  async evaluate(
    data: DatasetSpec | AnomalyDataset,
    opts: Omit<EvaluateOptions, 'image'> & { onProgress?: (e: ProgressEvent) => void } = {},
  ): Promise<Evaluation> {
    // The folder format's held-out good test images are the ones training left out: same seed.
    const spec = (s: DatasetSpec): DatasetSpec => (s.format === 'folder' ? { seed: this.model.manifest.training.seed, ...s } : s);
    const dataset = 'test' in data ? data : await loadDataset(spec(data));
    const reporter = opts.reporter ?? (opts.onProgress ? eventReporter(opts.onProgress) : silentReporter);
    return evaluate(await this.session(), dataset, { ...opts, reporter, image: this.model.config.image });
  }

  /**
   * The whole scoring pipeline as one self-contained ONNX model (bytes).
   * @throws Error naming the model when its weights are not finite.
   * @example const onnx = await detector.exportBytes({ batch: 1 });
   */
  async exportBytes(opts: { batch?: number | 'dynamic'; fp16?: boolean; withCrop?: boolean } = {}): Promise<Uint8Array> {
    return exportModelBytes(this.model, {
      calibration: this.calibration,
      batch: opts.batch ?? 'dynamic',
      fp16: opts.fp16,
      withCrop: opts.withCrop,
      precision: this.options.precision,
    });
  }

  /**
   * Writes the exported model to `path` (atomically; an existing file is replaced only if it is an
   * ONNX model simplenet wrote).
   * @throws OutputRefusedError when `path` holds something else.
   * @example await detector.export('bottle.onnx', { batch: 'dynamic' });
   */
  async export(path: string, opts: { batch?: number | 'dynamic'; fp16?: boolean } = {}): Promise<{ path: string; bytes: number }> {
    const bytes = await this.exportBytes(opts);
    await writeFileAtomic(path, bytes, 'onnx');
    return { path, bytes: bytes.length };
  }

  /**
   * Releases the onnxruntime session; the Detector cannot score afterwards (scoring throws).
   * Closing twice is harmless.
   * @example
   * const detector = await Detector.load('runs/bottle');
   * try { console.log((await detector.score('part.png')).score); } finally { await detector.close(); }
   */
  async close(): Promise<void> {
    this.closed = true;
    const s = this.scorer ?? (this.scorerReady ? await this.scorerReady.catch(() => undefined) : undefined);
    this.scorer = undefined;
    this.scorerReady = undefined;
    await s?.release();
  }

  /**
   * `close()`, for `await using`.
   * @example
   * await using detector = await Detector.load('runs/bottle');
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private result(source: string, r: ImageResult): ScoreResult {
    return {
      source,
      score: r.score,
      scoreNormalized: r.scoreNormalized,
      label: r.label,
      threshold: this.calibration.imageThreshold,
      anomalyMap: r.map,
      anomalyMapNormalized: r.mapNormalized,
      width: r.mapSize,
      height: r.mapSize,
      ...(r.crop ? { crop: r.crop } : {}),
    };
  }
}
