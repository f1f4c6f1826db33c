/**
 * Dev-time diagnostic (docs/studies/fast-convergence.md, "What validation sees of the gap"): a model's own held-out good
 * images and synthetic-defect copies of them, made by validation's generator ('graded', its seeded
 * stream), written as an MVTec-layout category, so that `simplenet test` scores any model on
 * validation-style defects with every test metric (AUPRO included). Usage:
 *   node dist/scripts/synthetic-split.js <model-dir> <out-dir> [copies per image, default 3]
 *   node dist/src/cli/main.js test --model <model-dir> --data <out-dir> --category <category> --json m.json
 * The held-out images are symlinked, the copies and masks written as PNG; <out-dir> must not exist.
 * With one copy per image the defects are validation's own; with more, the same stream continues.
 */
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../src/core/rng.js';
import { stitchedGrid } from '../src/embedding/stitchTiles.js';
import { type ImageGeometry, tileGrid } from '../src/images/fit.js';
import { type DecodedImage, decodeImage } from '../src/images/decode.js';
import { defectMask, type SyntheticDefect, synthesizeDefect } from '../src/validation/syntheticDefects.js';
import { rescaleContent } from '../src/validation/rescaledContent.js';
import { DEFECT_STREAM } from '../src/validation/syntheticValidation.js';

/** A graded region (validation's mask) showing the image magnified 2–4× about a random point, blended at 0.25–1. */
function rescaledDefect(image: DecodedImage, g: ImageGeometry, r: Rng, cells: number): SyntheticDefect {
  const mask = defectMask(image.width, image.height, g, r, 'graded', cells);
  const factor = 2 + 2 * r.nextFloat();
  const cx = image.width * (0.2 + 0.6 * r.nextFloat());
  const cy = image.height * (0.2 + 0.6 * r.nextFloat());
  const blend = 0.25 + 0.75 * r.nextFloat();
  return { image: rescaleContent(image, mask, { factor, cx, cy, blend }), mask };
}
// Its own stream, so the rescaled split never repeats validation's draws (the README's figures used it).
const RESCALED_STREAM = 0x7113;
const [modelDir, out, copiesArg, kindArg, streamArg] = process.argv.slice(2);
if (!modelDir || !out) throw new Error('usage: synthetic-split.js <model-dir> <out-dir> [copies per image] [shuffled|rescaled] [stream]');
const kind = kindArg ?? 'shuffled';
if (kind !== 'shuffled' && kind !== 'rescaled') throw new RangeError(`kind must be 'shuffled' or 'rescaled', got ${kindArg}`);
const stream = streamArg === undefined ? (kind === 'shuffled' ? DEFECT_STREAM : RESCALED_STREAM) : Number(streamArg);
if (!Number.isInteger(stream)) throw new RangeError(`stream must be an integer, got ${streamArg}`);
const copies = Number(copiesArg ?? 3);
if (!Number.isInteger(copies) || copies < 1) throw new RangeError(`copies per image must be an integer ≥ 1, got ${copiesArg}`);
const manifest = JSON.parse(readFileSync(join(modelDir, 'simplenet.json'), 'utf8'));
const images: string[] = manifest.training?.validation?.images ?? [];
if (images.length === 0) throw new Error(`${modelDir}: the model records no held-out images`);
const category: string = manifest.training.dataset.category || 'synthetic';
// Not recursive for the root: an existing folder is refused, never written into.
mkdirSync(out);
const root = join(out, category);
for (const d of ['train/good', 'test/good', 'test/synthetic', 'ground_truth/synthetic']) mkdirSync(join(root, d), { recursive: true });
const rng = new Rng(manifest.training.seed ^ stream);
// The patch grid (the smallest defect covers about two of its cells), as FeatureExtractor.grid has it.
const [first] = manifest.backbone.layerShapes as { height: number; width: number }[];
const grid = stitchedGrid({ height: first.height, width: first.width }, tileGrid(manifest.config.image));
const gridCells = grid.height * grid.width;
let k = 0;
for (const path of images) {
  const source = resolve(path);
  // The loader wants a training folder; the held-out images stand in (test never reads them).
  symlinkSync(source, join(root, 'train/good', basename(path)));
  symlinkSync(source, join(root, 'test/good', basename(path)));
  const image = await decodeImage(source);
  for (let j = 0; j < copies; j++) {
    const d =
      kind === 'shuffled'
        ? synthesizeDefect(image, manifest.config.image, rng, 'graded', gridCells)
        : rescaledDefect(image, manifest.config.image, rng, gridCells);
    const name = String(k++).padStart(3, '0');
    const raw = { width: image.width, height: image.height };
    await sharp(Buffer.from(d.image.data), { raw: { ...raw, channels: image.channels } })
      .png()
      .toFile(join(root, 'test/synthetic', `${name}.png`));
    await sharp(Buffer.from(d.mask.map((v) => v * 255)), { raw: { ...raw, channels: 1 } })
      .png()
      .toFile(join(root, 'ground_truth/synthetic', `${name}_mask.png`));
  }
}
console.log(`${root}: ${images.length} good, ${k} synthetic`);
