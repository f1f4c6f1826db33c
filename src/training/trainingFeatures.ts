/**
 * The training images' patch features, extracted once into the bounded feature cache: what
 * SimpleNet trains its heads on and what the knn head's coreset is chosen from (the same extractor,
 * the same cache, so both heads see the same features).
 */
import type { Backbone } from '../backbones/backbone.js';
import type { Reporter } from '../core/progress.js';
import type { Sample } from '../datasets/dataset.js';
import { cacheDiskFreeBytes, FeatureCache, planCache } from '../embedding/featureCache.js';
import { FeatureExtractor } from '../embedding/featureExtractor.js';
import { decodeImage } from '../images/decode.js';
import { coverageWarner, resolveTiles } from '../images/fit.js';
import type { SimpleNetConfig } from '../model/config.js';

export interface TrainingFeatures {
  extractor: FeatureExtractor;
  cache: FeatureCache;
  /** Seconds from the start of `extractTrainingFeatures` to the last image's features. */
  seconds: number;
}

/**
 * Extracts every image of `train` into a new cache (float32 in memory when it fits
 * config.train.cacheMemoryMB, else float32 in an unlinked temporary file; float16 only when asked
 * for or when the disk lacks room for float32). On failure the extractor and the cache are
 * released; on success the caller owns both.
 */
export async function extractTrainingFeatures(
  train: readonly Sample[],
  backbone: Backbone,
  config: SimpleNetConfig,
  opts: { reporter: Reporter; signal?: AbortSignal },
): Promise<TrainingFeatures> {
  const started = Date.now();
  const extractor = await FeatureExtractor.create(backbone, { image: config.image, embed: config.embed });
  let cache: FeatureCache | undefined;
  try {
    const rows = extractor.patchesPerImage;
    const plan = planCache(train.length, rows, config.embed.targetDim, {
      memoryMB: config.train.cacheMemoryMB,
      dtype: config.train.cacheDtype,
      diskFreeBytes: cacheDiskFreeBytes(),
    });
    await extractor.setFeatureDtype(plan.dtype);
    opts.reporter.line(
      `feature cache: ${train.length} images × ${rows} patches × ${config.embed.targetDim} ${plan.dtype} ` +
        `= ${(plan.bytes / 2 ** 20).toFixed(0)} MiB in ${plan.storage}`,
    );
    cache = new FeatureCache(plan, train.length, rows, config.embed.targetDim);
    const bar = opts.reporter.bar('extracting features', train.length);
    // Issue 13: say once when the fit hides part of the images (a defect there is never seen).
    const noteCoverage = coverageWarner(config.image, opts.reporter);
    for (let i = 0; i < train.length; i++) {
      opts.signal?.throwIfAborted();
      const image = await decodeImage(train[i].path);
      noteCoverage(train[i].path, image.width, image.height);
      cache.put(i, await extractor.extract([image]));
      bar.tick();
    }
    bar.done();
    return { extractor, cache, seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    cache?.release();
    await extractor.release();
    throw e;
  }
}

/**
 * `image.tiles: 'auto'` (fit 'tile') becomes the tile grid of the first training image's aspect,
 * said in one line; the trainers return the resolved configuration and the model stores it, so
 * scoring never depends on which images come first. Anything else comes back unchanged.
 */
export async function resolveTrainingTiles(config: SimpleNetConfig, train: readonly Sample[], reporter: Reporter): Promise<SimpleNetConfig> {
  if (config.image.fit !== 'tile' || config.image.tiles !== 'auto' || train.length === 0) return config;
  const first = train[0].path;
  const { width, height } = await decodeImage(first);
  const image = resolveTiles(config.image, width, height);
  const [rows, cols] = image.tiles as [number, number];
  reporter.line(`image.fit 'tile': ${rows}×${cols} tiles of ${image.crop}×${image.crop} (the aspect of ${first}, ${width}×${height})`);
  return { ...config, image };
}
