/**
 * The two layers of an overlay (the graph's cropped image and the jet heatmap of its normalised
 * map) as PNG blobs, and their blend on a canvas. The heatmap colours come from the project's own
 * colour map module (src/images/colormap.ts), the same one the CLI and the service use.
 */
import { jetRgb } from '../../src/images/colormap.js';

function rgbaOf(rgb: Uint8Array, n: number): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    out[4 * p] = rgb[3 * p];
    out[4 * p + 1] = rgb[3 * p + 1];
    out[4 * p + 2] = rgb[3 * p + 2];
    out[4 * p + 3] = 255;
  }
  return out;
}

async function png(rgb: Uint8Array, size: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(size, size);
  canvas.getContext('2d')!.putImageData(new ImageData(rgbaOf(rgb, size * size), size, size), 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** The crop and the heatmap (from anomaly_map_normalized) of one square map as PNG blobs. */
export async function layerPngs(crop: Uint8Array, mapNormalized: Float32Array, size: number): Promise<{ crop: Blob; heatmap: Blob }> {
  const [c, m] = await Promise.all([png(crop, size), png(jetRgb(mapNormalized), size)]);
  return { crop: c, heatmap: m };
}

/** Draws the crop, then the heatmap with weight `alpha` (the overlay convention: (1−α)·image + α·jet). */
export function drawOverlay(canvas: HTMLCanvasElement, crop: CanvasImageSource, heatmap: CanvasImageSource, size: number, alpha: number): void {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  ctx.globalAlpha = 1;
  ctx.drawImage(crop, 0, 0, size, size);
  ctx.globalAlpha = alpha;
  ctx.drawImage(heatmap, 0, 0, size, size);
  ctx.globalAlpha = 1;
}
