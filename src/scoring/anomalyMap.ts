/**
 * Patch scores → anomaly map (spec §7): bilinear upsampling of the patch grid to the crop size
 * (align_corners=False) followed by a Gaussian filter (σ=4, truncate 4, scipy 'reflect'). Both are
 * linear and separable, so per axis they fold into one [crop, grid] matrix A = G·U computed once in
 * float64, and the map is A_h · f(S) · A_wᵀ: two small matrix products per image, f the optional
 * transform of the patch scores (`MapTransform`; the paper's is none).
 */
import { bilinearMatrix } from '../embedding/resample.js';
import type { GraphBuilder } from '../onnx/builder.js';
import type { MapTransform } from '../model/config.js';
import { f32 } from '../onnx/tensor.js';
import { gaussianMatrix } from './gaussian.js';

/**
 * How patch scores become an anomaly map (Liu et al., CVPR 2023, inference and scoring): the map's size, the
 * patch scores' transform and the Gaussian smoothing. The model's values are its config's `image.crop` and `map`.
 * @example
 * const opts: AnomalyMapOptions = { size: config.image.crop, ...config.map };
 */
export interface AnomalyMapOptions {
  /** Side of the map (the crop size). */
  size: number;
  /** Gaussian σ in map pixels; 0 means no smoothing. Default 4. */
  sigma: number;
  /** The Gaussian kernel is cut at `truncate`·σ, as scipy's gaussian_filter. Default 4. */
  truncate: number;
  /** What the patch scores pass through first. Default 'none' (the paper). */
  transform?: MapTransform;
}

/**
 * The paper's map settings for the default 288-pixel crop: σ = 4, truncated at 4σ, no transform.
 * @example const map = addAnomalyMap(g, patchScores, { height: 36, width: 36 }, DEFAULT_ANOMALY_MAP);
 */
export const DEFAULT_ANOMALY_MAP: AnomalyMapOptions = { size: 288, sigma: 4, truncate: 4, transform: 'none' };

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

/**
 * Adds the anomaly-map step to a graph: patch scores [B, gh, gw] → map [B, size, size], transformed,
 * upsampled bilinearly and smoothed, as two constant matrix products. Returns the map's value name.
 * @example
 * const map = addAnomalyMap(g, perImage, { height: 36, width: 36 }, { size: 288, sigma: 4, truncate: 4 });
 * g.output(map, 'anomaly_map', 'float32', ['N', 288, 288]);
 */
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
  const scores = opts.transform === 'sigmoid' ? g.op('Sigmoid', [patchScores]) : patchScores;
  const rows = g.op('MatMul', [scores, g.constant(f32([grid.width, opts.size], awT), 'map_w')]);
  return g.op('MatMul', [g.constant(f32([opts.size, grid.height], ah), 'map_h'), rows]);
}
