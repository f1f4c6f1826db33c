/**
 * SimpleNet's local feature aggregation (spec §2.3) as ONNX nodes: per layer a 3×3 zero-padded
 * unfold, adaptive average pooling of each flattened patch (channel-major, kernel-minor: index
 * c·9 + ki·3 + kj) to `pretrainDim`, bilinear upsampling of coarser layers to the first layer's grid,
 * then pooling of the concatenated per-layer vectors to `targetDim`.
 *
 * Pooling and bilinear upsampling act on different axes and are both linear, so pooling a coarse
 * layer before upsampling it is the same computation as the reference order (upsample every
 * (channel, ki, kj) plane, then pool) at a sixth of the cost; only float rounding differs.
 */
import type { GraphBuilder } from '../onnx/builder.js';
import { f32, i64 } from '../onnx/tensor.js';
import { adaptivePoolBins, bilinearMatrix } from './resample.js';

/**
 * The shape of one backbone layer's output for one image (C, H, W), measured by
 * `FeatureExtractor.create` and stored in the model's manifest.
 * @example const shapes: LayerShape[] = [{ channels: 512, height: 36, width: 36 }, { channels: 1024, height: 18, width: 18 }];
 */
export interface LayerShape {
  /** Feature channels C. */
  channels: number;
  /** Feature-map height H. */
  height: number;
  /** Feature-map width W. */
  width: number;
}

/**
 * How backbone features are aggregated into one vector per patch (Liu et al., CVPR 2023: local
 * feature aggregation): the neighbourhood size and the two pooled dimensions. The model's values
 * are its config's `embed`.
 * @example const opts: PatchEmbedOptions = { patchSize: 3, pretrainDim: 1536, targetDim: 1536 };
 */
export interface PatchEmbedOptions {
  /** Side of the neighbourhood around each patch; odd. Default 3. */
  patchSize: number;
  /** Each layer's patch vector is average-pooled to this length. Default 1536. */
  pretrainDim: number;
  /** The concatenated layers are pooled to this length: the feature dimension. Default 1536. */
  targetDim: number;
}

/**
 * The paper's patch-embedding settings (3×3 neighbourhood, 1536 dimensions), the config's defaults.
 * @example const features = addPatchEmbedding(g, layers, shapes, DEFAULT_PATCH_EMBED);
 */
export const DEFAULT_PATCH_EMBED: PatchEmbedOptions = { patchSize: 3, pretrainDim: 1536, targetDim: 1536 };

/** adaptive_avg_pool1d along axis 1 of x [B, L, P] → [B, O, P]. */
export function addAdaptivePool(g: GraphBuilder, x: string, inLength: number, outLength: number): string {
  if (inLength % outLength === 0) {
    const r = g.op('Reshape', [x, g.ints([0, outLength, inLength / outLength, -1])]);
    return g.op('ReduceMean', [r], { axes: [2], keepdims: 0 });
  }
  const { start, end, maxCount } = adaptivePoolBins(inLength, outLength);
  let sum = '';
  for (let t = 0; t < maxCount; t++) {
    const idx = new Array<number>(outLength);
    const keep = new Array<number>(outLength);
    for (let k = 0; k < outLength; k++) {
      idx[k] = Math.min(start[k] + t, end[k] - 1);
      keep[k] = start[k] + t < end[k] ? 1 : 0;
    }
    let part = g.op('Gather', [x, g.constant(i64([outLength], idx), 'pool_idx')], { axis: 1 });
    if (keep.some((v) => v === 0)) part = g.op('Mul', [part, g.constant(f32([1, outLength, 1], keep), 'pool_keep')]);
    sum = sum ? g.op('Add', [sum, part]) : part;
  }
  const counts = Array.from(end, (e, k) => e - start[k]);
  return g.op('Div', [sum, g.constant(f32([1, outLength, 1], counts), 'pool_count')]);
}

/** Unfold with zero padding: x [B, C, H, W] → [B, C·p², H·W] in PyTorch's unfold order. */
export function addUnfold(g: GraphBuilder, x: string, shape: LayerShape, p: number): string {
  const pad = (p - 1) / 2;
  const padded = g.op('Pad', [x, g.ints([0, 0, pad, pad, 0, 0, pad, pad])], { mode: 'constant' });
  const slices: string[] = [];
  for (let ki = 0; ki < p; ki++) {
    for (let kj = 0; kj < p; kj++) {
      const s = g.op('Slice', [padded, g.ints([ki, kj]), g.ints([ki + shape.height, kj + shape.width]), g.ints([2, 3])]);
      slices.push(g.op('Unsqueeze', [s, g.ints([2])]));
    }
  }
  const stacked = g.op('Concat', slices, { axis: 2 });
  return g.op('Reshape', [stacked, g.ints([0, shape.channels * p * p, shape.height * shape.width])]);
}

/** Bilinear resize of x [B, O, h·w] from (h, w) to (H, W) as two matrix products. */
function addUpsample(g: GraphBuilder, x: string, from: LayerShape, to: LayerShape, channels: number): string {
  const grid = g.op('Reshape', [x, g.ints([0, channels, from.height, from.width])]);
  const mw = bilinearMatrix(from.width, to.width);
  const mh = bilinearMatrix(from.height, to.height);
  const mwT = new Float32Array(from.width * to.width);
  for (let o = 0; o < to.width; o++) for (let i = 0; i < from.width; i++) mwT[i * to.width + o] = mw[o * from.width + i];
  const rows = g.op('MatMul', [grid, g.constant(f32([from.width, to.width], mwT), 'upsample_w')]);
  const full = g.op('MatMul', [g.constant(f32([to.height, from.height], mh), 'upsample_h'), rows]);
  return g.op('Reshape', [full, g.ints([0, channels, to.height * to.width])]);
}

/**
 * Adds the patch embedding for backbone outputs `layers` (finest grid first) and returns a value
 * of shape [B·H·W, targetDim], row b·H·W + i·W + j on the first layer's grid.
 * @throws RangeError when `layers` is empty or does not match `shapes` one to one, or when
 * `patchSize` is even.
 * @example
 * const layers = shapes.map((s, i) => g.input(`layer${i}`, 'float32', ['N', s.channels, s.height, s.width]));
 * g.output(addPatchEmbedding(g, layers, shapes, DEFAULT_PATCH_EMBED), 'features', 'float32', ['patches', 1536]);
 */
export function addPatchEmbedding(
  g: GraphBuilder,
  layers: readonly string[],
  shapes: readonly LayerShape[],
  opts: PatchEmbedOptions = DEFAULT_PATCH_EMBED,
): string {
  if (layers.length === 0 || layers.length !== shapes.length) {
    throw new RangeError(`patch embedding: need one shape per layer, got ${layers.length} layers, ${shapes.length} shapes`);
  }
  const { patchSize: p, pretrainDim, targetDim } = opts;
  if (p % 2 !== 1) throw new RangeError(`patch embedding: patchSize must be odd, got ${p}`);
  const ref = shapes[0];
  const pooled = layers.map((layer, l) => {
    const shape = shapes[l];
    const unfolded = addUnfold(g, layer, shape, p);
    const pool = addAdaptivePool(g, unfolded, shape.channels * p * p, pretrainDim);
    const sameGrid = shape.height === ref.height && shape.width === ref.width;
    return sameGrid ? pool : addUpsample(g, pool, shape, ref, pretrainDim);
  });
  const stacked = pooled.length === 1 ? pooled[0] : g.op('Concat', pooled, { axis: 1 });
  const aggregated = addAdaptivePool(g, stacked, pretrainDim * layers.length, targetDim);
  const perPatch = g.op('Transpose', [aggregated], { perm: [0, 2, 1] });
  return g.op('Reshape', [perPatch, g.ints([-1, targetDim])]);
}
