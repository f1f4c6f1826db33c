/**
 * Synthetic defects of content at the wrong scale: inside a mask, the image's own content magnified
 * or minified about a point. The patches keep looking like the part, so their features move along
 * the directions normal features vary in, where Gaussian noise almost never goes (docs/studies/fast-convergence.md, "Defects
 * of another kind": the nearest-neighbour baseline outranks the discriminator on such defects on
 * every seed). Training (`train.syntheticFakes: 'stains+rescaled'`) draws them in stain-like
 * ellipses, a shape validation never uses; the dev diagnostic `scripts/synthetic-split.ts` draws
 * them in validation's Perlin regions.
 */
import type { Rng } from '../core/rng.js';
import type { DecodedImage } from '../images/decode.js';
import type { ImageGeometry } from '../images/fit.js';
import { stainMask } from './stains.js';
import type { SyntheticDefect } from './syntheticDefects.js';

/** How the masked pixels take the rescaled content. */
export interface Rescale {
  /** Scale of the content: > 1 magnifies, < 1 minifies. */
  factor: number;
  /** The fixed point of the scaling, in pixels. */
  cx: number;
  cy: number;
  /** Weight of the rescaled content against the original, 0 … 1. */
  blend: number;
}

/**
 * A copy of `image` whose pixels inside `mask` show the content scaled by `factor` about
 * (cx, cy) (nearest pixel, clamped to the image), blended with the original.
 * @throws RangeError when the mask does not have one entry per pixel.
 * @example const out = rescaleContent(image, mask, { factor: 3, cx: 120, cy: 80, blend: 1 });
 */
export function rescaleContent(image: DecodedImage, mask: Uint8Array, r: Rescale): DecodedImage {
  const { width, height, channels } = image;
  if (mask.length !== width * height) throw new RangeError(`rescaleContent: mask has ${mask.length} entries, the image ${width}×${height} pixels`);
  const data = image.data.slice();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      const sx = Math.min(width - 1, Math.max(0, Math.round(r.cx + (x - r.cx) / r.factor)));
      const sy = Math.min(height - 1, Math.max(0, Math.round(r.cy + (y - r.cy) / r.factor)));
      for (let c = 0; c < channels; c++) {
        const i = (y * width + x) * channels + c;
        data[i] = Math.round((1 - r.blend) * image.data[i] + r.blend * image.data[(sy * width + sx) * channels + c]);
      }
    }
  }
  return { ...image, data };
}

/**
 * A training defect: 1–3 ellipses (`stainMask`) showing the content magnified or minified 2–4×
 * (either way equally likely) about a random point of the image, blended at 0.4–1.
 * @example const { image: copy, mask } = synthesizeRescaled(image, config.image, new Rng(1));
 */
export function synthesizeRescaled(image: DecodedImage, g: ImageGeometry, rng: Rng): SyntheticDefect {
  const mask = stainMask(image.width, image.height, g, rng);
  const size = 2 + 2 * rng.nextFloat();
  const factor = rng.nextFloat() < 0.5 ? size : 1 / size;
  const cx = image.width * (0.2 + 0.6 * rng.nextFloat());
  const cy = image.height * (0.2 + 0.6 * rng.nextFloat());
  const blend = 0.4 + 0.6 * rng.nextFloat();
  return { image: rescaleContent(image, mask, { factor, cx, cy, blend }), mask };
}
