/**
 * Synthetic *training* defects (`train.syntheticFakes`), deliberately of another kind than
 * validation's (syntheticDefects.ts): there, a Perlin region filled with foreign texture (the
 * image's own grid cells, shuffled); here, one to three hard-edged ellipses whose pixels keep their
 * own texture but change colour and brightness (a stain, a discolouration, a dent catching the
 * light), plus sensor-like pixel noise. Validation then still measures defects the model never
 * trained on, so it can choose between models trained with and without these (docs/studies/fast-convergence.md, "Image-level
 * fakes"). Everything comes from the seeded Rng: a seed gives the same stains on every machine.
 */
import type { Rng } from '../core/rng.js';
import type { DecodedImage } from '../images/decode.js';
import { frameBox, type ImageGeometry } from '../images/fit.js';
import type { SyntheticDefect } from './syntheticDefects.js';

/** Area of the stain as a share of the frame the model sees: log-uniform between these. */
export const STAIN_AREA = [0.002, 0.1] as const;

/**
 * 1–3 ellipses inside the model's frame (clipped to the image), together about a drawn share of it.
 * @example const mask = stainMask(900, 900, { resize: 288, crop: 288, fit: 'squash' }, new Rng(0));
 */
export function stainMask(width: number, height: number, g: ImageGeometry, rng: Rng): Uint8Array {
  const box = frameBox(width, height, g);
  const x0 = Math.max(0, box.x0);
  const y0 = Math.max(0, box.y0);
  const x1 = Math.min(width, box.x0 + box.width);
  const y1 = Math.min(height, box.y0 + box.height);
  const w = x1 - x0;
  const h = y1 - y0;
  const share = STAIN_AREA[0] * (STAIN_AREA[1] / STAIN_AREA[0]) ** rng.nextFloat();
  const count = 1 + rng.nextInt(3);
  const mask = new Uint8Array(width * height);
  for (let k = 0; k < count; k++) {
    // Each ellipse takes its share of the area; aspect up to 4:1, any rotation.
    const area = (share / count) * w * h;
    const aspect = 1 + 3 * rng.nextFloat();
    const a = Math.sqrt((area * aspect) / Math.PI);
    const b = a / aspect;
    const angle = Math.PI * rng.nextFloat();
    const cx = x0 + w * (0.1 + 0.8 * rng.nextFloat());
    const cy = y0 + h * (0.1 + 0.8 * rng.nextFloat());
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const r = Math.ceil(a);
    for (let y = Math.max(Math.floor(y0), Math.floor(cy - r)); y < Math.min(Math.ceil(y1), Math.ceil(cy + r) + 1); y++) {
      for (let x = Math.max(Math.floor(x0), Math.floor(cx - r)); x < Math.min(Math.ceil(x1), Math.ceil(cx + r) + 1); x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const u = (dx * cos + dy * sin) / a;
        const v = (-dx * sin + dy * cos) / b;
        if (u * u + v * v <= 1) mask[y * width + x] = 1;
      }
    }
  }
  // A tiny ellipse can fall between pixel centres: its centre pixel at least.
  if (!mask.includes(1)) mask[Math.min(height - 1, Math.floor(y0 + h / 2)) * width + Math.min(width - 1, Math.floor(x0 + w / 2))] = 1;
  return mask;
}

/**
 * A stained copy of `image` and its mask: inside the mask each channel is scaled by its own gain,
 * all darker (0.2–0.8) or all brighter (1.25–2.5), shifted by up to ±30 levels, noised (σ 8 levels)
 * and blended with the original at 0.4–1.
 * @example const { image: stained, mask } = synthesizeStain(image, config.image, new Rng(1));
 */
export function synthesizeStain(image: DecodedImage, g: ImageGeometry, rng: Rng): SyntheticDefect {
  const { width, height, channels } = image;
  const mask = stainMask(width, height, g, rng);
  const darker = rng.nextFloat() < 0.5;
  const gains = Array.from({ length: channels }, () => (darker ? 0.2 + 0.6 * rng.nextFloat() : 1.25 + 1.25 * rng.nextFloat()));
  const shift = 60 * (rng.nextFloat() - 0.5);
  const alpha = 0.4 + 0.6 * rng.nextFloat();
  const data = image.data.slice();
  for (let p = 0; p < width * height; p++) {
    if (!mask[p]) continue;
    for (let c = 0; c < channels; c++) {
      const i = p * channels + c;
      const stained = gains[c] * image.data[i] + shift + 8 * rng.normal();
      data[i] = Math.min(255, Math.max(0, Math.round((1 - alpha) * image.data[i] + alpha * stained)));
    }
  }
  return { image: { ...image, data }, mask };
}
