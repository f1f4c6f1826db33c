/**
 * Test fixtures built on the fly: a tiny MVTec-layout dataset of generated PNGs (good images are
 * smooth gradients, defects add a bright square; masks mark it) and a tiny two-layer convolutional
 * backbone behind a JSON manifest, so CLI tests train in seconds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { float, GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';
import type { DecodedImage } from '../images/decode.js';
import type { Sample } from '../datasets/dataset.js';

function image(size: number, seed: number, defect?: { x: number; y: number; s: number }): Buffer {
  const px = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inDefect = defect && x >= defect.x && x < defect.x + defect.s && y >= defect.y && y < defect.y + defect.s;
      for (let c = 0; c < 3; c++) {
        const base = 60 + ((x * (2 + c) + y * 3 + seed * 7) % 90);
        px[(y * size + x) * 3 + c] = inDefect ? 250 - c * 40 : base;
      }
    }
  }
  return px;
}

async function png(path: string, px: Buffer, size: number, channels: 1 | 3): Promise<void> {
  await sharp(px, { raw: { width: size, height: size, channels } })
    .png()
    .toFile(path);
}

export interface TinyDatasetOptions {
  nTrain?: number;
  size?: number;
}

/** Writes <root>/<category>/{train/good, test/good, test/spot, ground_truth/spot}. */
export async function makeTinyDataset(root: string, category = 'widget', opts: TinyDatasetOptions = {}): Promise<void> {
  const size = opts.size ?? 40;
  const n = opts.nTrain ?? 6;
  const dir = join(root, category);
  for (const d of ['train/good', 'test/good', 'test/spot', 'ground_truth/spot']) mkdirSync(join(dir, d), { recursive: true });
  for (let i = 0; i < n; i++) await png(join(dir, 'train/good', `${String(i).padStart(3, '0')}.png`), image(size, i), size, 3);
  for (let i = 0; i < 2; i++) await png(join(dir, 'test/good', `${String(i).padStart(3, '0')}.png`), image(size, 100 + i), size, 3);
  for (let i = 0; i < 3; i++) {
    const defect = { x: 6 + i * 5, y: 10 + i * 3, s: 10 };
    const name = String(i).padStart(3, '0');
    await png(join(dir, 'test/spot', `${name}.png`), image(size, 200 + i, defect), size, 3);
    const mask = Buffer.alloc(size * size);
    for (let y = defect.y; y < defect.y + defect.s; y++) mask.fill(255, y * size + defect.x, y * size + defect.x + defect.s);
    await png(join(dir, 'ground_truth/spot', `${name}_mask.png`), mask, size, 1);
  }
}

/** A tiny ONNX feature extractor ('fine' at stride 4, 'coarse' at stride 8) and its manifest. */
export function makeTinyBackbone(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const g = new GraphBuilder('tiny_backbone');
  const x = g.input('pixels', 'float32', ['N', 3, 'H', 'W']);
  let s = 1;
  const w = (o: number, i: number, k: number) => {
    const t = f32([o, i, k, k]);
    for (let j = 0; j < t.data.length; j++) t.data[j] = Math.sin(++s * 12.9898) * 0.5;
    return g.constant(t, 'w');
  };
  const fine = g.op('Relu', [g.op('Conv', [x, w(8, 3, 4)], { strides: [4, 4] })]);
  const coarse = g.op('LeakyRelu', [g.op('Conv', [fine, w(12, 8, 2)], { strides: [2, 2] })], { alpha: float(0.1) });
  g.output(fine, 'fine', 'float32');
  g.output(coarse, 'coarse', 'float32');
  writeFileSync(join(dir, 'tiny.onnx'), g.toModel());
  const manifest = join(dir, 'tiny.json');
  writeFileSync(manifest, JSON.stringify({ onnx: 'tiny.onnx', input: 'pixels', mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], layers: ['fine', 'coarse'] }));
  return manifest;
}

/** A config small enough to train in seconds on the tiny fixtures. */
export const TINY_CONFIG = {
  image: { resize: 36, crop: 32 },
  embed: { pretrainDim: 24, targetDim: 16 },
  head: { hiddenDim: 8, noiseStd: 0.1 },
  train: { epochs: 3, batchSize: 2 },
};

/**
 * Writes `images` as `<dir>/<i>.png` and returns them as good training samples, in order (for tests
 * that extract features of a few synthetic images).
 * @example const train = await writeTrainingImages(testTempDir('x-'), [image(96, 80)]);
 */
export async function writeTrainingImages(dir: string, images: readonly DecodedImage[]): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const [i, img] of images.entries()) {
    const path = join(dir, `${i}.png`);
    await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: img.channels } })
      .png()
      .toFile(path);
    out.push({ path, label: 0, defectType: 'good' });
  }
  return out;
}
