/**
 * One gallery picture per test image, three panels side by side: the input as the model sees it (image.fit); the
 * JET heatmap over it on the model's one colour scale (0.5 = pixel threshold, so good images stay
 * cool); the input with the ground-truth contour (green) and the predicted contour (red: map above
 * the pixel threshold).
 */
import sharp from 'sharp';
import { overlayJet } from '../images/colormap.js';

const GAP = 4;
const GT_COLOUR = [0, 230, 0];
const PRED_COLOUR = [255, 40, 40];

/** Pixels of `mask` with a 4-neighbour outside it (the frame counts as outside), thickened to 2 px. */
export function contour(mask: Uint8Array, size: number): Uint8Array {
  const edge = new Uint8Array(size * size);
  const inside = (x: number, y: number) => x >= 0 && y >= 0 && x < size && y < size && mask[y * size + x] > 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!inside(x, y)) continue;
      if (!inside(x - 1, y) || !inside(x + 1, y) || !inside(x, y - 1) || !inside(x, y + 1)) edge[y * size + x] = 1;
    }
  }
  const thick = edge.slice();
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!edge[y * size + x]) continue;
      if (x + 1 < size && mask[y * size + x + 1] === 0) thick[y * size + x + 1] = 1;
      if (y + 1 < size && mask[(y + 1) * size + x] === 0) thick[(y + 1) * size + x] = 1;
    }
  }
  return thick;
}

export interface GalleryInput {
  /** RGB crop [size, size, 3]. */
  crop: Uint8Array;
  /** Normalised map in [0, 1] (0.5 = pixel threshold). */
  mapNormalized: Float32Array;
  /** Raw map and the pixel threshold for the predicted region. */
  map: Float32Array;
  pixelThreshold: number;
  /** Ground truth (1 = defect); absent for good images or datasets without masks. */
  mask?: Uint8Array;
  size: number;
}

/** The three panels as one RGB image [size, 3·size + 2·GAP, 3]. */
export function galleryPixels(g: GalleryInput): { data: Uint8Array; width: number; height: number } {
  const { size } = g;
  const width = 3 * size + 2 * GAP;
  const out = new Uint8Array(width * size * 3).fill(255);
  const overlay = overlayJet(g.crop, g.mapNormalized);
  const predicted = new Uint8Array(size * size);
  for (let i = 0; i < predicted.length; i++) predicted[i] = g.map[i] > g.pixelThreshold ? 1 : 0;
  const predEdge = contour(predicted, size);
  const gtEdge = g.mask ? contour(g.mask, size) : undefined;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const src = 3 * p;
      const row = y * width;
      const marked = gtEdge?.[p] ? GT_COLOUR : predEdge[p] ? PRED_COLOUR : undefined;
      for (let c = 0; c < 3; c++) {
        out[3 * (row + x) + c] = g.crop[src + c];
        out[3 * (row + size + GAP + x) + c] = overlay[src + c];
        out[3 * (row + 2 * (size + GAP) + x) + c] = marked ? marked[c] : g.crop[src + c];
      }
    }
  }
  return { data: out, width, height: size };
}

/** The full-size PNG and a half-size JPEG (for embedding in report.html). */
export async function encodeGallery(g: GalleryInput): Promise<{ png: Buffer; thumbnail: Buffer }> {
  const { data, width, height } = galleryPixels(g);
  const raw = { raw: { width, height, channels: 3 as const } };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const png = await sharp(buf, raw).png().toBuffer();
  const thumbnail = await sharp(buf, raw)
    .resize(Math.round(width / 2))
    .jpeg({ quality: 80 })
    .toBuffer();
  return { png, thumbnail };
}
