/**
 * The one decode → score loop. `test`'s evaluation, threshold calibration, `predict`, the
 * Detector facade and the service all score many images through it, so they decode alike, fail
 * alike and prefetch alike: up to `prefetch` images are decoded while the current ones are scored,
 * consecutive images of one size are scored `batch` at a time in one run of the graph, up to `runs`
 * runs are in flight at once (a scorer whose session has worker threads), and results are handed
 * out in input order before more are read, so memory stays bounded however many images there are.
 */
import { type DecodedImage, decodeImage } from '../images/decode.js';
import type { ImageScores, Scorer } from './scorer.js';

/**
 * One image's outputs from the scoring graph (scoring/fullScoringModel.ts); `Detector` turns it
 * into a `ScoreResult`, and an evaluation's `onImage` receives it. The arrays may be views into a
 * batch's arrays (no copies).
 * @example
 * await detector.evaluate(spec, { onImage: async (sample, r: ImageResult) => console.log(sample.path, r.score, r.label) });
 */
export interface ImageResult {
  /** Raw image score: the maximum patch score. */
  score: number;
  /** The score normalised so that 0.5 is the image threshold, in [0, 1]. */
  scoreNormalized: number;
  /** 1 = anomalous (score above the threshold). */
  label: 0 | 1;
  /** Raw anomaly map [mapSize, mapSize] in the crop frame. */
  map: Float32Array;
  /** The map with the model's normalisation (0.5 = threshold). */
  mapNormalized: Float32Array;
  /** The resized, cropped RGB image [mapSize, mapSize, 3] when the scorer keeps crops. */
  crop?: Uint8Array;
  /** Side of the square map in pixels (the crop size). */
  mapSize: number;
}

/** The batch's outputs image by image (views into the batch's arrays, no copies). */
export function perImage(r: ImageScores): ImageResult[] {
  const n = r.scores.length;
  const px = r.mapSize * r.mapSize;
  return Array.from({ length: n }, (_, i) => ({
    score: r.scores[i],
    scoreNormalized: r.normalized[i],
    label: r.labels[i] ? 1 : 0,
    map: r.maps.subarray(i * px, (i + 1) * px),
    mapNormalized: r.mapsNormalized.subarray(i * px, (i + 1) * px),
    ...(r.crops ? { crop: r.crops.subarray(i * px * 3, (i + 1) * px * 3) } : {}),
    mapSize: r.mapSize,
  }));
}

export type Scored<T> = { ok: true; item: T; image: DecodedImage; result: ImageResult } | { ok: false; item: T; error: Error };

/**
 * Where an item's pixels come from: a path, encoded bytes (named by `label`), or decoded pixels.
 * @example
 * const inputs: ImageSource[] = ['part.png', await readFile('other.jpg'), await decodeImage('third.webp')];
 */
export type ImageSource = string | Uint8Array | DecodedImage;

export interface ScoreImagesOptions<T> {
  source: (item: T) => ImageSource;
  /** Names bytes in errors; default: the path, or "image <n>". */
  label?: (item: T, index: number) => string;
  /** Images decoded ahead of the ones being scored (default 1; never fewer than `batch` · `runs`). */
  prefetch?: number;
  /**
   * Runs of the graph in flight at once (default: the scorer's `runs`, its session's worker
   * threads, else 1). More than the session's workers only queues runs behind them.
   */
  runs?: number;
  /**
   * Most images per run of the graph (default 1). Only consecutive images of one size share a run
   * (the graph takes one size per batch); results still come one per item, in input order.
   */
  batch?: number;
  /** Stops before the next image; the generator then throws the signal's reason. */
  signal?: AbortSignal;
}

const isDecoded = (s: ImageSource): s is DecodedImage => typeof s === 'object' && !(s instanceof Uint8Array);

type Decoded = { image: DecodedImage } | { error: Error };

/**
 * Scores items in input order; an item that cannot be decoded or scored yields `{ ok: false }` and
 * the rest are still scored.
 * @throws RangeError when `batch` or `runs` is not a positive integer; the signal's reason once it aborts.
 * @example for await (const r of scoreImages(scorer, paths, { source: (p) => p, batch: 4 })) if (r.ok) console.log(r.result.score);
 */
export async function* scoreImages<T>(scorer: Scorer, items: Iterable<T> | AsyncIterable<T>, opts: ScoreImagesOptions<T>): AsyncGenerator<Scored<T>> {
  const batch = opts.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`scoreImages: batch must be a positive integer, got ${batch}`);
  const runs = opts.runs ?? scorer.runs;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`scoreImages: runs must be a positive integer, got ${runs}`);
  // A batch can only fill from images already decoding, so read at least that far ahead.
  const prefetch = Math.max(batch * runs, opts.prefetch ?? 1);
  const decode = async (item: T, index: number): Promise<Decoded> => {
    try {
      const src = opts.source(item);
      if (isDecoded(src)) return { image: src };
      const label = opts.label?.(item, index) ?? (typeof src === 'string' ? src : `image ${index + 1}`);
      return { image: await decodeImage(src, { label }) };
    } catch (error) {
      return { error: error as Error };
    }
  };
  const queue: { item: T; decoded: Promise<Decoded> }[] = [];
  const iterator = (Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]()) as
    | AsyncIterator<T>
    | Iterator<T>;
  let index = 0;
  let exhausted = false;
  const fill = async () => {
    while (!exhausted && queue.length < prefetch) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const decoded = decode(next.value, index++);
      // A rejection is turned into a value above; this only keeps Node from flagging it unhandled.
      decoded.catch(() => undefined);
      queue.push({ item: next.value, decoded });
    }
  };
  // Rounds in input order: a decode failure, or one group's run (scoreGroup never rejects).
  const inFlight: Promise<Scored<T>[]>[] = [];
  await fill();
  while (queue.length > 0 || inFlight.length > 0) {
    // Hand out the oldest round once `runs` are in flight, or when nothing is left to start.
    if (inFlight.length >= runs || queue.length === 0) {
      yield* await inFlight.shift()!;
      continue;
    }
    opts.signal?.throwIfAborted();
    const head = queue.shift()!;
    await fill();
    const d = await head.decoded;
    if ('error' in d) {
      inFlight.push(Promise.resolve([{ ok: false, item: head.item, error: d.error }]));
      continue;
    }
    const group = [{ item: head.item, image: d.image }];
    // The group ends at a failed decode or a new size: that item heads the next round, in order.
    while (group.length < batch && queue.length > 0) {
      const next = await queue[0].decoded;
      if ('error' in next || next.image.width !== d.image.width || next.image.height !== d.image.height) break;
      group.push({ item: queue.shift()!.item, image: next.image });
      await fill();
    }
    inFlight.push(
      scoreGroup(
        scorer,
        group.map((g) => g.image),
      ).then((scored) =>
        group.map((g, i): Scored<T> => {
          const r = scored[i];
          return 'error' in r ? { ok: false, item: g.item, error: r.error } : { ok: true, item: g.item, image: g.image, result: r };
        }),
      ),
    );
  }
}

/**
 * One run for the group; when it throws (one image's NaN fails the whole run), each image again
 * alone, so the error names the image that caused it and the others still get their scores.
 */
async function scoreGroup(scorer: Scorer, images: DecodedImage[]): Promise<(ImageResult | { error: Error })[]> {
  try {
    return perImage(await scorer.score(images));
  } catch (error) {
    if (images.length === 1) return [{ error: error as Error }];
  }
  const out: (ImageResult | { error: Error })[] = [];
  for (const image of images) out.push(...(await scoreGroup(scorer, [image])));
  return out;
}

/**
 * The same loop for callers that need every image: the first failure is thrown.
 * @throws the first image's decode or scoring error.
 */
export async function* scoreAll<T>(
  scorer: Scorer,
  items: Iterable<T> | AsyncIterable<T>,
  opts: ScoreImagesOptions<T>,
): AsyncGenerator<{ item: T; image: DecodedImage; result: ImageResult }> {
  for await (const r of scoreImages(scorer, items, opts)) {
    if (!r.ok) throw r.error;
    yield r;
  }
}
