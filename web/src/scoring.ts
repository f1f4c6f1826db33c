/**
 * Scoring one image, either way: the service (`POST …/predict?map=layers`) or this browser
 * (browserScorer.ts). Both give the graph's own numbers and overlay layers; the page never
 * resizes, crops or normalises anything itself.
 */
import { request } from './api.js';
import type { ServerImage } from './types.js';

export type Mode = 'server' | 'browser';

export interface Scored {
  score: number;
  scoreNormalized: number;
  /** The model's own label (score > its threshold). */
  label: number;
  crop: Blob;
  heatmap: Blob;
  /** Side of the square crop and map. */
  size: number;
  /** Milliseconds the scoring took (request, or decode + graph run). */
  ms: number;
}

/** Types the service decodes; anything else is refused before it is sent. */
export const SERVER_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/tiff', 'image/bmp']);

function blobOf(b64: string): Blob {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: 'image/png' });
}

export async function scoreOnServer(model: string, file: File, mapSize: number): Promise<Scored> {
  if (!SERVER_TYPES.has(file.type)) throw new Error(`${file.name}: not an image the service reads (PNG, JPEG, WebP, TIFF or BMP)`);
  const t0 = performance.now();
  const r = await request(`v1/models/${encodeURIComponent(model)}/predict?map=layers`, { method: 'POST', body: file, headers: { 'content-type': file.type } });
  const img = ((await r.json()) as { images: ServerImage[] }).images[0];
  return {
    score: img.score,
    scoreNormalized: img.score_normalized,
    label: img.label,
    crop: blobOf(img.crop_png!),
    heatmap: blobOf(img.heatmap_png!),
    size: mapSize,
    ms: performance.now() - t0,
  };
}
