/**
 * Synthetic defects for validation without labelled defects: a binarised Perlin-noise region of a
 * good image is replaced by a blend of the same image with its grid cells shuffled (foreign
 * texture from the part itself, no external dataset), at a random strength. Everything is drawn
 * from a seeded Rng, so a seed gives the same defects on every machine. The region lies inside the
 * part of the image the model sees (the centre crop for fit 'crop', the whole image for 'squash'
 * and 'letterbox': images/fit.ts), and is never empty.
 */
import type { Rng } from '../core/rng.js';
import type { DecodedImage } from '../images/decode.js';
import { frameBox, type ImageGeometry } from '../images/fit.js';
import { perlinNoise } from './perlin.js';

/** Resize, frame side and fit (config.image). */
export type CropGeometry = ImageGeometry;

export interface SyntheticDefect {
  image: DecodedImage;
  /** 1 = synthetic defect, in the original image frame [height × width]. */
  mask: Uint8Array;
}

/** The centre crop's box in original-image pixels (inverse of resize-shorter-side + centre crop). */
export function cropBox(width: number, height: number, g: CropGeometry): { x0: number; y0: number; size: number; scale: number } {
  const scale = Math.min(width, height) / g.resize;
  const size = g.crop * scale;
  return { x0: (width - size) / 2, y0: (height - size) / 2, size, scale };
}

/** The part of the image the model sees, in original pixels: the frame clipped to the image. */
function visibleBox(width: number, height: number, g: CropGeometry): { x0: number; y0: number; width: number; height: number } {
  if ((g.fit ?? 'crop') === 'crop') {
    const b = cropBox(width, height, g);
    return { x0: b.x0, y0: b.y0, width: b.size, height: b.size };
  }
  return { x0: 0, y0: 0, width, height };
}

const MIN_AREA = 0.005;
const MAX_AREA = 0.35;
/** 'graded': down to about two feature-grid patches of a 36×36 grid (1/1296 of the crop each). */
const MIN_GRADED_AREA = 0.0015;

/**
 * How hard the synthetic defects are: 'large' (0.5–35 % of the crop, blend 0.5–1: easy, the
 * issue-6 validation) or 'graded' (area log-uniform from about two patches to 35 %, blend 0.25–1),
 * so that small, faint defects like real ones are among them and validation keeps ranking models
 * after the large ones are all found.
 */
export type DefectDifficulty = 'large' | 'graded';

/** A Perlin region inside what the model sees, covering 0.5–35 % of it ('large': an ellipse after 20 tries) or a drawn share ('graded'). */
export function defectMask(width: number, height: number, g: CropGeometry, rng: Rng, difficulty: DefectDifficulty = 'large', gridCells = 1296): Uint8Array {
  const box = visibleBox(width, height, g);
  const bx0 = Math.max(0, Math.floor(box.x0));
  const by0 = Math.max(0, Math.floor(box.y0));
  // 'crop': the square crop, as before image.fit existed (the same draws per seed); else the image.
  const side = Math.min(Math.floor(box.width), width - bx0, height - by0);
  const square = (g.fit ?? 'crop') === 'crop';
  const bw = square ? side : width;
  const bh = square ? side : height;
  const mask = new Uint8Array(width * height);
  if (difficulty === 'graded') {
    // The threshold is the noise's (1 − share) quantile, so the drawn share is met exactly; small
    // shares are the neighbourhood of the noise's maximum, one compact blob.
    // Never under about two patches of the model's own grid, or a coarse grid labels no patch defective.
    const minShare = Math.min(MAX_AREA / 2, Math.max(MIN_GRADED_AREA, 2.5 / gridCells));
    const share = Math.exp(Math.log(minShare) + rng.nextFloat() * Math.log(MAX_AREA / minShare));
    const cells = 2 ** (1 + rng.nextInt(3));
    const noise = perlinNoise(bw, bh, cells, cells, rng);
    const sorted = Float32Array.from(noise).sort();
    const threshold = sorted[Math.min(sorted.length - 1, Math.floor((1 - share) * sorted.length))];
    for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) mask[(by0 + y) * width + bx0 + x] = noise[y * bw + x] >= threshold ? 1 : 0;
    return mask;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const cells = 2 ** (1 + rng.nextInt(3)); // 2, 4 or 8 lattice cells across the visible box
    const noise = perlinNoise(bw, bh, cells, cells, rng);
    const threshold = 0.3 + 0.3 * rng.nextFloat();
    let area = 0;
    for (const v of noise) if (v > threshold) area++;
    const share = area / noise.length;
    if (share < MIN_AREA || share > MAX_AREA) continue;
    for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) mask[(by0 + y) * width + bx0 + x] = noise[y * bw + x] > threshold ? 1 : 0;
    return mask;
  }
  const cx = bx0 + bw * (0.3 + 0.4 * rng.nextFloat());
  const cy = by0 + bh * (0.3 + 0.4 * rng.nextFloat());
  const r = Math.min(bw, bh) * 0.08;
  for (let y = by0; y < by0 + bh; y++) for (let x = bx0; x < bx0 + bw; x++) mask[y * width + x] = (x - cx) ** 2 + (y - cy) ** 2 < r * r ? 1 : 0;
  return mask;
}

/** The image with its crop box cut into grid×grid cells, the cells permuted. */
function shuffledCells(image: DecodedImage, g: CropGeometry, grid: number, rng: Rng): Uint8Array {
  const { width, height, channels } = image;
  const box = visibleBox(width, height, g);
  const cellW = box.width / grid;
  const cellH = box.height / grid;
  const perm = rng.shuffle(Array.from({ length: grid * grid }, (_, i) => i));
  const out = image.data.slice();
  for (let y = 0; y < height; y++) {
    const cyf = (y - box.y0) / cellH;
    if (cyf < 0 || cyf >= grid) continue;
    for (let x = 0; x < width; x++) {
      const cxf = (x - box.x0) / cellW;
      if (cxf < 0 || cxf >= grid) continue;
      const from = perm[Math.floor(cyf) * grid + Math.floor(cxf)];
      const sx = Math.min(width - 1, Math.max(0, Math.round(box.x0 + ((from % grid) + (cxf % 1)) * cellW)));
      const sy = Math.min(height - 1, Math.max(0, Math.round(box.y0 + (Math.floor(from / grid) + (cyf % 1)) * cellH)));
      for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = image.data[(sy * width + sx) * channels + c];
    }
  }
  return out;
}

export function synthesizeDefect(image: DecodedImage, g: CropGeometry, rng: Rng, difficulty: DefectDifficulty = 'large', gridCells = 1296): SyntheticDefect {
  const { width, height, channels } = image;
  const mask = defectMask(width, height, g, rng, difficulty, gridCells);
  const source = shuffledCells(image, g, 4 + rng.nextInt(5), rng);
  const beta = difficulty === 'graded' ? 0.25 + 0.75 * rng.nextFloat() : 0.5 + 0.5 * rng.nextFloat();
  const gain = 0.75 + 0.5 * rng.nextFloat();
  const data = image.data.slice();
  for (let p = 0; p < width * height; p++) {
    if (!mask[p]) continue;
    for (let c = 0; c < channels; c++) {
      const i = p * channels + c;
      data[i] = Math.min(255, Math.max(0, Math.round((1 - beta) * image.data[i] + beta * gain * source[i])));
    }
  }
  return { image: { ...image, data }, mask };
}

/** How many of a patch's 3×3 sample points a mask must cover for the patch to be defective (half of them). */
export const DEFECT_HITS = 5;

/**
 * Patch labels on the model's feature grid (gridH×gridW over the model's frame, images/fit.ts
 * `frameBox`): a patch is defective when the mask covers at least half of the 3×3 sample points
 * inside it (letterbox padding, outside the image, is never defective).
 */
export function patchLabels(mask: Uint8Array, width: number, height: number, g: CropGeometry, grid: { height: number; width: number }): Uint8Array {
  return patchHits(mask, width, height, g, grid).map((h) => (h >= DEFECT_HITS ? 1 : 0));
}

/** How many of each patch's 3×3 sample points the mask covers (0 … 9), on the grid `patchLabels` uses. */
export function patchHits(mask: Uint8Array, width: number, height: number, g: CropGeometry, grid: { height: number; width: number }): Uint8Array {
  const box = frameBox(width, height, g);
  const out = new Uint8Array(grid.height * grid.width);
  for (let i = 0; i < grid.height; i++) {
    for (let j = 0; j < grid.width; j++) {
      let hits = 0;
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          const fx = Math.floor(box.x0 + ((j + (b + 0.5) / 3) / grid.width) * box.width);
          const fy = Math.floor(box.y0 + ((i + (a + 0.5) / 3) / grid.height) * box.height);
          if (fx < 0 || fy < 0 || fx >= width || fy >= height) continue;
          hits += mask[fy * width + fx] ? 1 : 0;
        }
      }
      out[i * grid.width + j] = hits;
    }
  }
  return out;
}
