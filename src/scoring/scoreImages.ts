/**
 * The one decode → score loop. `test`'s evaluation, threshold calibration, `predict`, the
 * Detector facade and the service all score many images through it, so they decode alike, fail
 * alike and prefetch alike: up to `prefetch` images are decoded while the current one is scored,
 * and a result is handed out before more are read, so memory stays bounded however many images
 * there are.
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
  /** Images decoded ahead of the one being scored (default 1). */
  prefetch?: number;
  /** Stops before the next image; the generator then throws the signal's reason. */
  signal?: AbortSignal;
}

const isDecoded = (s: ImageSource): s is DecodedImage => typeof s === 'object' && !(s instanceof Uint8Array);

/**
 * Scores items one by one; an item that cannot be decoded or scored yields `{ ok: false }` and the
 * rest are still scored.
 * @example for await (const r of scoreImages(scorer, paths, { source: (p) => p })) if (r.ok) console.log(r.result.score);
 */
export async function* scoreImages<T>(scorer: Scorer, items: Iterable<T> | AsyncIterable<T>, opts: ScoreImagesOptions<T>): AsyncGenerator<Scored<T>> {
  const prefetch = Math.max(1, opts.prefetch ?? 1);
  const decode = async (item: T, index: number): Promise<{ image: DecodedImage } | { error: Error }> => {
    try {
      const src = opts.source(item);
      if (isDecoded(src)) return { image: src };
      const label = opts.label?.(item, index) ?? (typeof src === 'string' ? src : `image ${index + 1}`);
      return { image: await decodeImage(src, { label }) };
    } catch (error) {
      return { error: error as Error };
    }
  };
  const queue: { item: T; decoded: Promise<{ image: DecodedImage } | { error: Error }> }[] = [];
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
  await fill();
  while (queue.length > 0) {
    opts.signal?.throwIfAborted();
    const { item, decoded } = queue.shift()!;
    await fill();
    const d = await decoded;
    if ('error' in d) {
      yield { ok: false, item, error: d.error };
      continue;
    }
    let result: ImageResult;
    try {
      result = perImage(await scorer.score([d.image]))[0];
    } catch (error) {
      yield { ok: false, item, error: error as Error };
      continue;
    }
    yield { ok: true, item, image: d.image, result };
  }
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
