/**
 * Seeded 2-D Perlin (gradient) noise, the mask source DRAEM, GLASS and SuperSimpleNet use for
 * realistic defect shapes: smooth blobs whose size follows the lattice resolution.
 */
import type { Rng } from '../core/rng.js';

const fade = (t: number) => t * t * t * (t * (t * 6 - 15) + 10);

/** Noise in about [−1, 1] on a width×height grid with `cellsX`×`cellsY` lattice cells. */
export function perlinNoise(width: number, height: number, cellsX: number, cellsY: number, rng: Rng): Float32Array {
  const gx = new Float64Array((cellsX + 1) * (cellsY + 1));
  const gy = new Float64Array(gx.length);
  for (let i = 0; i < gx.length; i++) {
    const a = 2 * Math.PI * rng.nextFloat();
    gx[i] = Math.cos(a);
    gy[i] = Math.sin(a);
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = (y / height) * cellsY;
    const cy = Math.min(cellsY - 1, Math.floor(fy));
    const ty = fy - cy;
    const v = fade(ty);
    for (let x = 0; x < width; x++) {
      const fx = (x / width) * cellsX;
      const cx = Math.min(cellsX - 1, Math.floor(fx));
      const tx = fx - cx;
      const dot = (i: number, j: number) => {
        const k = (cy + j) * (cellsX + 1) + cx + i;
        return gx[k] * (tx - i) + gy[k] * (ty - j);
      };
      const u = fade(tx);
      const top = dot(0, 0) + u * (dot(1, 0) - dot(0, 0));
      const bottom = dot(0, 1) + u * (dot(1, 1) - dot(0, 1));
      out[y * width + x] = Math.SQRT2 * (top + v * (bottom - top));
    }
  }
  return out;
}
