/**
 * predict's per-image files under --out: `<name>.png`, the JET heatmap over the resized and
 * cropped image on one colour scale for all images (the model's normalisation, 0.5 = threshold),
 * and `<name>.npy`, the raw anomaly map (float32 [crop, crop]). Names follow the inputs' relative
 * paths; a name already used in this run gets a numeric suffix.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { encodeNpy } from '../io/npy.js';
import { overlayJet } from './colormap.js';
import type { Prediction } from './predictImages.js';

export class OutputNamer {
  private readonly used = new Set<string>();

  constructor(private readonly dir: string) {}

  /** The output path stem for an input's relative path (extension dropped, made unique). */
  stem(relativePath: string): string {
    const base = relativePath.replace(/\.[^./]*$/, '').replace(/^(\.\.\/)+/, '');
    let stem = base;
    for (let k = 2; this.used.has(stem); k++) stem = `${base}_${k}`;
    this.used.add(stem);
    return join(this.dir, stem);
  }
}

export async function writePredictionFiles(p: Prediction, stem: string): Promise<{ overlay: string; map: string }> {
  if (!p.crop) throw new Error('writePredictionFiles: the scorer was built without image crops');
  await mkdir(dirname(stem), { recursive: true });
  const size = p.mapSize;
  const overlay = `${stem}.png`;
  const map = `${stem}.npy`;
  const rgb = overlayJet(p.crop, p.mapNormalized);
  await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toFile(overlay);
  await writeFile(map, encodeNpy({ dtype: 'float32', dims: [size, size], data: p.map }));
  return { overlay, map };
}
