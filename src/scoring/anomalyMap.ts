/**
 * Patch scores → anomaly map (spec §7): bilinear upsampling of the patch grid to the crop size
 * (align_corners=False) followed by a Gaussian filter (σ=4, truncate 4, scipy 'reflect'). Both are
 * linear and separable, so per axis they fold into one [crop, grid] matrix A = G·U computed once in
 * float64, and the map is A_h · S · A_wᵀ: two small matrix products per image.
 */
import { bilinearMatrix } from '../embedding/resample.js';
import type { GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';
import { gaussianMatrix } from './gaussian.js';

export interface AnomalyMapOptions {
  /** Side of the map (the crop size). */
  size: number;
  sigma: number;
  truncate: number;
}

export const DEFAULT_ANOMALY_MAP: AnomalyMapOptions = { size: 288, sigma: 4, truncate: 4 };

/** A = G·U as a float64 [size, grid] matrix; sigma 0 means no smoothing. */
export function mapOperator(grid: number, opts: AnomalyMapOptions): Float64Array {
  const u = bilinearMatrix(grid, opts.size);
  if (opts.sigma === 0) return u;
  const gm = gaussianMatrix(opts.size, opts.sigma, opts.truncate);
  const n = opts.size;
  const a = new Float64Array(n * grid);
  for (let o = 0; o < n; o++) {
    for (let k = 0; k < n; k++) {
      const gk = gm[o * n + k];
      if (gk === 0) continue;
      for (let j = 0; j < grid; j++) a[o * grid + j] += gk * u[k * grid + j];
    }
  }
  return a;
}

/** patchScores [B, gh, gw] → anomaly map [B, size, size]. */
export function addAnomalyMap(
  g: GraphBuilder,
  patchScores: string,
  grid: { height: number; width: number },
  opts: AnomalyMapOptions = DEFAULT_ANOMALY_MAP,
): string {
  const ah = mapOperator(grid.height, opts);
  const aw = mapOperator(grid.width, opts);
  const awT = new Float32Array(grid.width * opts.size);
  for (let o = 0; o < opts.size; o++) for (let j = 0; j < grid.width; j++) awT[j * opts.size + o] = aw[o * grid.width + j];
  const rows = g.op('MatMul', [patchScores, g.constant(f32([grid.width, opts.size], awT), 'map_w')]);
  return g.op('MatMul', [g.constant(f32([opts.size, grid.height], ah), 'map_h'), rows]);
}
