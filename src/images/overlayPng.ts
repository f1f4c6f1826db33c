/**
 * Heatmap overlays and layers as PNG bytes (sharp): what `predict --out` writes and the service
 * returns. The colours come from colormap.ts, the one colour map the web app bundles too.
 */
import sharp from 'sharp';
import { jetRgb, overlayJet } from './colormap.js';

/** Raw [width × height × 3] RGB as PNG bytes. */
export async function rgbPng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * The heatmap over the image as PNG bytes: what `predict --out` writes and the service returns.
 * @example const png = await overlayPng(r.crop, r.anomalyMapNormalized, r.width, r.height);
 */
export async function overlayPng(rgb: Uint8Array, values: Float32Array, width: number, height: number, alpha = 0.5): Promise<Buffer> {
  return rgbPng(overlayJet(rgb, values, alpha), width, height);
}

/** The heatmap layer alone (jet of the normalised map) as PNG bytes, for a viewer that blends it itself. */
export async function heatmapPng(values: Float32Array, width: number, height: number): Promise<Buffer> {
  return rgbPng(jetRgb(values), width, height);
}
