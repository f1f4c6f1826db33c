/**
 * `npm run parity` (dev-time; needs Debian's python3-torch and python3-torchvision): a full-size
 * random WideResNet-50-2 written by PyTorch is loaded by our loader, and `simplenet embed` of one
 * image is compared with the PyTorch reference embedding. Prints the max relative error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { REPO_ROOT } from '../src/testing/golden.js';
import { decodeNpy } from '../src/io/npy.js';
import { patternImage } from '../src/testing/patterns.js';

const python = process.env.PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'simplenet-parity-'));
try {
  let image = join(REPO_ROOT, '..', 'shared', 'data', 'mvtec_ad', 'bottle', 'test', 'broken_large', '000.png');
  if (!existsSync(image)) {
    image = join(dir, 'pattern.png');
    await sharp(Buffer.from(patternImage(900, 700)), { raw: { width: 900, height: 700, channels: 3 } })
      .png()
      .toFile(image);
  }
  console.log(`image: ${image}`);
  execFileSync(python, [join(REPO_ROOT, 'reference', 'parity_embed.py'), dir, image], { stdio: 'inherit' });
  const ours = join(dir, 'ours.npy');
  const t0 = Date.now();
  execFileSync(
    process.execPath,
    [
      join(REPO_ROOT, 'dist/src/cli/main.js'),
      'embed',
      '--backbone',
      'wide_resnet50_2',
      '--weights',
      join(dir, 'wide_resnet50_2.safetensors'),
      '--image',
      image,
      '--out',
      ours,
    ],
    { stdio: 'inherit' },
  );
  const seconds = (Date.now() - t0) / 1000;
  const a = decodeNpy(readFileSync(ours)).data as Float32Array;
  const b = decodeNpy(readFileSync(join(dir, 'reference_embedding.npy'))).data as Float32Array;
  if (a.length !== b.length) throw new Error(`shape mismatch: ${a.length} vs ${b.length} values`);
  let maxErr = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  const rel = maxErr / scale;
  console.log(
    `wide_resnet50_2 embedding [${b.length / 1536} × 1536]: max abs error ${maxErr.toExponential(3)}, ` +
      `max relative error (to max |ref|) ${rel.toExponential(3)}; simplenet embed took ${seconds.toFixed(1)} s`,
  );
  if (!(rel <= 1e-4)) {
    console.error('PARITY FAILED: relative error above 1e-4');
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
