/**
 * A small MVTec-layout copy of the real bottle category for queue tests: the first few images,
 * downscaled, written to a temp dir (the shared data set itself is never copied into the repo),
 * plus a second category made from it by turning every image grey, so a benchmark has two
 * categories without a second download.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from './golden.js';

/** Where the real MVTec AD lives (the shared data folder beside the repository, or $SIMPLENET_MVTEC_ROOT). */
export const MVTEC_ROOT = process.env.SIMPLENET_MVTEC_ROOT ?? join(REPO_ROOT, '..', 'shared', 'data', 'mvtec_ad');

/** Why bottle tests skip, or false when the data is there. */
export const BOTTLE_MISSING = existsSync(join(MVTEC_ROOT, 'bottle')) ? false : `MVTec AD bottle not found under ${MVTEC_ROOT} (set SIMPLENET_MVTEC_ROOT)`;

export interface BottleSubsetOptions {
  train?: number;
  test?: number;
  size?: number;
}

async function copyImages(from: string, to: string, n: number, size: number, grey: boolean, offset = 0): Promise<void> {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)
    .sort()
    .slice(offset, offset + n)) {
    let img = sharp(join(from, name)).resize(size, size);
    if (grey) img = img.grayscale();
    await img.png().toFile(join(to, name));
  }
}

/** Writes `<root>/<category>` with `train` good training images and `test` good + `test` broken_large test images (with masks). */
export async function makeBottleSubset(root: string, category: string, opts: BottleSubsetOptions & { grey?: boolean } = {}): Promise<void> {
  const src = join(MVTEC_ROOT, 'bottle');
  const dst = join(root, category);
  const size = opts.size ?? 96;
  const grey = opts.grey ?? false;
  await copyImages(join(src, 'train', 'good'), join(dst, 'train', 'good'), opts.train ?? 20, size, grey);
  await copyImages(join(src, 'test', 'good'), join(dst, 'test', 'good'), opts.test ?? 4, size, grey);
  await copyImages(join(src, 'test', 'broken_large'), join(dst, 'test', 'broken_large'), opts.test ?? 4, size, grey);
  // Masks stay masks (one channel), only smaller.
  await copyImages(join(src, 'ground_truth', 'broken_large'), join(dst, 'ground_truth', 'broken_large'), opts.test ?? 4, size, true);
}

/** `n` downscaled bottle training images in one folder (for scoring), named 000.png…; from image `offset` on. */
export async function bottleImages(dir: string, n: number, size = 64, offset = 0): Promise<void> {
  await copyImages(join(MVTEC_ROOT, 'bottle', 'train', 'good'), dir, n, size, false, offset);
}
