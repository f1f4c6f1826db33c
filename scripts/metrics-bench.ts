/**
 * Pixel-metric speed at VisA scale: `node dist/scripts/metrics-bench.js [megapixels=100]` scores
 * random smooth-ish maps with blob masks (288×288 images) and times pixel AUROC, AP, F1-max and
 * AUPRO, separately and as `test` runs them (one sort for AUROC/AP/F1), printing seconds and peak
 * RSS. A benchmark, not a test.
 */
import { aupro, averagePrecision, binaryMetrics, f1Max, rocAuc } from '../src/metrics/index.js';

const mp = Number(process.argv[2] ?? 100);
const size = 288;
const plane = size * size;
const images = Math.round((mp * 1e6) / plane);
const n = images * plane;
const maps = new Float32Array(n);
const masks = new Uint8Array(n);
let seed = 12345;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
for (let k = 0; k < images; k++) {
  const o = k * plane;
  const defective = k % 3 === 0;
  const cx = 40 + rand() * 200;
  const cy = 40 + rand() * 200;
  const r = 5 + rand() * 30;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = defective && (x - cx) ** 2 + (y - cy) ** 2 < r * r;
      masks[o + y * size + x] = inside ? 1 : 0;
      maps[o + y * size + x] = Math.fround(rand() + (inside ? 0.6 : 0) + 0.2 * Math.sin(x / 9) * Math.cos(y / 7));
    }
  }
}
console.log(`${images} images of ${size}×${size} = ${(n / 1e6).toFixed(1)} M pixels`);
const time = (name: string, f: () => number) => {
  const t = Date.now();
  const v = f();
  console.log(`${name.padEnd(12)} ${v.toFixed(6)}  ${((Date.now() - t) / 1000).toFixed(1)} s`);
};
time('pixel AUROC', () => rocAuc(maps, masks));
time('pixel AP', () => averagePrecision(maps, masks));
time('pixel F1max', () => f1Max(maps, masks).f1);
time('all three', () => {
  const m = binaryMetrics(maps, masks);
  return (m.rocAuc ?? 0) + (m.averagePrecision ?? 0) + (m.f1Max?.f1 ?? 0);
});
time('AUPRO@0.3', () => aupro(maps, masks, { width: size, height: size }));
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (inputs ${((n * 5) / 2 ** 20).toFixed(0)} MB)`);
