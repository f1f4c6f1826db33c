/**
 * Resize-shorter-side + centre-crop + normalise as ONNX nodes, bit-exact with torchvision's
 * `Resize(329)` on a PIL image (PIL's antialiased bilinear with 22-bit fixed-point coefficients and
 * uint8 rounding after each pass) followed by `CenterCrop(288)`, `ToTensor` and `Normalize`. The
 * other fits of `image.fit` (images/fit.ts) use the same resampler with other target sizes and
 * offsets: 'squash' is PIL `img.resize((crop, crop), BILINEAR)`, 'letterbox' is
 * `ImageOps.pad(img, (crop, crop), BILINEAR, mean colour)` (golden/fit/, reference/golden_fit.py).
 *
 * Sizes are dynamic: the coefficient matrices are computed inside the graph from the input's H and
 * W, so the same graph serves any image size (and the exported model). Only the cropped output
 * rows and columns are computed, each from the taps of its filter window. The coefficients are
 * computed in float64 as PIL computes them, the resampling in float32 on integer digits of the
 * fixed-point weights, exactly as PIL's fixed point (addResamplePass).
 */
import type { GraphBuilder } from '../onnx/builder.js';
import { f32 } from '../onnx/tensor.js';
import { IMAGE_FITS, type ImageFit, type TileSpec, tileGrid } from './fit.js';

/**
 * The preprocessing of `addPreprocess`: torchvision's Resize(resize) + CenterCrop(crop) (or another
 * `fit` of the image to the crop×crop frame), then Normalize(mean, std) with the backbone's statistics.
 * @example
 * const opts: PreprocessOptions = { resize: 329, crop: 288, mean: backbone.mean, std: backbone.std };
 */
export interface PreprocessOptions {
  /** Target length of the shorter side before cropping (torchvision `Resize(int)`). */
  resize: number;
  /** Side of the centre crop: the square frame every fit fills. */
  crop: number;
  /** How the image fills the crop×crop frame (images/fit.ts); absent: 'crop'. */
  fit?: ImageFit;
  /** Fit 'tile': tile rows and columns (resolved; images/fit.ts `tileGrid`). */
  tiles?: TileSpec;
  /** Per-channel mean/std on [0,1] pixels; omit for masks (output stays in [0,1]). */
  mean?: readonly number[];
  /** Per-channel standard deviation on [0,1] pixels, with `mean`. */
  std?: readonly number[];
}

const PRECISION_BITS = 22;

/**
 * PIL `precompute_coeffs` for the bilinear filter, restricted to output indices
 * [offset, offset+count), as taps: `index` int64 [count, K] (input positions, clamped into the
 * image) and `weight` int32 [count, K] (22-bit fixed point, 0 for positions outside PIL's window),
 * K = 2·ceil(support) + 1 as in PIL. With `padded`, rows outside [0, outSize) (letterbox padding,
 * where offset < 0) have all-zero weights.
 */
function addResizeTaps(g: GraphBuilder, inSize: string, outSize: string, offset: string, count: number, padded = false): Taps {
  const scale = g.op('Div', [inSize, outSize]);
  const filterScale = g.op('Max', [scale, g.scalarF64(1)]);
  const invFilterScale = g.op('Div', [g.scalarF64(1), filterScale]);
  const outIdx = g.op('Add', [g.op('Range', [g.scalarF64(0), g.scalarF64(count), g.scalarF64(1)]), offset]);
  const center = g.op('Mul', [g.op('Add', [outIdx, g.scalarF64(0.5)]), scale]);
  const centerCol = g.op('Unsqueeze', [center, g.ints([1])]);
  // PIL: xmin = max((int)(center − support + 0.5), 0), and no window is longer than K, so the
  // taps start..start+K−1 hold every non-zero weight of the dense row.
  const start = g.op('Max', [g.op('Floor', [g.op('Add', [g.op('Sub', [center, filterScale]), g.scalarF64(0.5)])]), g.scalarF64(0)]);
  const k = g.op('Add', [g.op('Mul', [g.op('Ceil', [filterScale]), g.scalarF64(2)]), g.scalarF64(1)]);
  const taps = g.op('Add', [g.op('Unsqueeze', [start, g.ints([1])]), g.op('Unsqueeze', [g.op('Range', [g.scalarF64(0), k, g.scalarF64(1)]), g.ints([0])])]);
  // ((j − center) + 0.5) · ss, in PIL's order of operations.
  const t = g.op('Mul', [g.op('Add', [g.op('Sub', [taps, centerCol]), g.scalarF64(0.5)]), invFilterScale]);
  const inImage = g.op('Less', [taps, inSize]);
  const w = g.op('Where', [inImage, g.op('Relu', [g.op('Sub', [g.scalarF64(1), g.op('Abs', [t])])]), g.scalarF64(0)]);
  const total = g.op('ReduceSum', [w, g.ints([1])], { keepdims: 1 });
  let fixed = g.op('Floor', [g.op('Add', [g.op('Mul', [g.op('Div', [w, total]), g.scalarF64(2 ** PRECISION_BITS)]), g.scalarF64(0.5)])]);
  // Padding rows have no input weight at all (0/0 above): Where, not a product, clears them.
  if (padded) fixed = g.op('Where', [g.op('Unsqueeze', [addInside(g, outIdx, outSize), g.ints([1])]), fixed, g.scalarF64(0)]);
  const index = g.cast(g.op('Min', [taps, g.op('Sub', [inSize, g.scalarF64(1)])]), 'int64');
  return { index, weight: g.cast(fixed, 'int32') };
}

/** One axis's resampling taps (see addResizeTaps). */
interface Taps {
  index: string;
  weight: string;
}

/**
 * Bits of each fixed-point weight in the low digit (see addResamplePass): with 7, every partial sum
 * of the low digits stays below 2²⁴ − 2²¹ for up to 453 taps, the high digits' below 2²³.
 */
const LOW_BITS = 7;

// addResamplePass is exact for up to K = 453 taps per output: 255 · 127 · K + 2²¹ < 2²⁴. Bilinear
// windows have K = 2·ceil(scale) + 1 taps, hence images/fit.ts `MAX_EXACT_DOWNSCALE` = 226 (kept
// there so that the web app can check images without this graph code; fit.test.ts checks the bound).

/**
 * One resampling pass of PIL's ImagingResample along axis 1 of x [B, L, M] → [B, count, M]: each
 * output the fixed-point sum of its K taps, then clip8; x and the result are float32 holding
 * integers 0..255. PIL's sums reach 255·2²², beyond float32's 2²⁴ exact integers, so each 22-bit
 * weight is split into digits w = hi·2⁷ + lo and the two sums are one small MatMul over the taps
 * ([count, 2, K] × [B, count, K, M]), every partial sum an integer below 2²⁴ (up to 453 taps) and so
 * exact in any order. clip8 then recombines them without leaving that range: with
 * q = floor((S_lo + 2²¹) / 2⁷), floor((S_hi·2⁷ + S_lo + 2²¹) / 2²²) = floor((S_hi + q) / 2¹⁵), since the
 * dropped remainder (< 2⁷) cannot carry across a multiple of 2²². onnxruntime runs this float MatMul
 * faster than the int32 Cast · Mul · ReduceSum it replaces (900×900 → 288², one thread: 13.5 → 11.9
 * ms). Gathering K taps instead of multiplying by the dense [count, L] matrix does the work of the
 * filter's support, not of the whole row; the resampled axis is kept outside the last one so that
 * every gathered block is a contiguous row of M.
 */
function addResamplePass(g: GraphBuilder, x: string, taps: Taps): string {
  const gathered = g.op('Gather', [x, taps.index], { axis: 1 });
  const hi = g.op('Div', [taps.weight, g.scalarI32(2 ** LOW_BITS)]);
  const lo = g.op('Sub', [taps.weight, g.op('Mul', [hi, g.scalarI32(2 ** LOW_BITS)])]);
  const digits = g.cast(g.op('Concat', [g.op('Unsqueeze', [hi, g.ints([1])]), g.op('Unsqueeze', [lo, g.ints([1])])], { axis: 1 }), 'float32');
  const sums = g.op('MatMul', [digits, gathered]);
  const digit = (i: number) => g.op('Squeeze', [g.op('Slice', [sums, g.ints([i]), g.ints([i + 1]), g.ints([2])]), g.ints([2])]);
  const carry = g.op('Floor', [g.op('Mul', [g.op('Add', [digit(1), g.scalarF32(2 ** (PRECISION_BITS - 1))]), g.scalarF32(2 ** -LOW_BITS)])]);
  const shifted = g.op('Floor', [g.op('Mul', [g.op('Add', [digit(0), carry]), g.scalarF32(2 ** (LOW_BITS - PRECISION_BITS))])]);
  // Bilinear weights are non-negative, so only the upper clamp of PIL's clip8 can bite.
  return g.op('Min', [shifted, g.scalarF32(255)]);
}

/** 0 <= index < size, elementwise (the frame rows that hold image rather than padding). */
function addInside(g: GraphBuilder, index: string, size: string): string {
  return g.op('And', [g.op('GreaterOrEqual', [index, g.scalarF64(0)]), g.op('Less', [index, size])]);
}

/** One axis of the fit: the resized length and the resized index at frame index 0. */
interface AxisFit {
  size: string;
  offset: string;
}

/**
 * The resized sizes and offsets of each fit, from the input's H and W (float64 scalars).
 * 'crop': torchvision Resize(resize) + CenterCrop(crop). 'squash': both sides `crop`, offset 0.
 * 'letterbox': PIL ImageOps.contain + pad, centred: the longer side `crop`, the shorter
 * round(short / long · crop) (at least 1), offset −round((crop − size) / 2).
 */
function addFitAxes(
  g: GraphBuilder,
  h: string,
  w: string,
  resize: number,
  crop: number,
  fit: ImageFit,
  tiles: readonly [number, number],
): { x: AxisFit; y: AxisFit } {
  if (fit === 'squash' || fit === 'tile') {
    // 'tile' is 'squash' onto a canvas of rows × columns frames, cut into tiles afterwards.
    return { x: { size: g.scalarF64(tiles[1] * crop), offset: g.scalarF64(0) }, y: { size: g.scalarF64(tiles[0] * crop), offset: g.scalarF64(0) } };
  }
  const cropF = g.scalarF64(crop);
  if (fit === 'letterbox') {
    // ImageOps.contain: `round(image.height / image.width * size[0])`, Python's half-to-even like ONNX Round.
    const shorter = (a: string, b: string) => g.op('Max', [g.op('Round', [g.op('Mul', [g.op('Div', [a, b]), cropF])]), g.scalarF64(1)]);
    const newH = g.op('Where', [g.op('Greater', [w, h]), shorter(h, w), cropF]);
    const newW = g.op('Where', [g.op('Less', [w, h]), shorter(w, h), cropF]);
    const before = (size: string) => g.op('Neg', [g.op('Round', [g.op('Mul', [g.op('Sub', [cropF, size]), g.scalarF64(0.5)])])]);
    return { x: { size: newW, offset: before(newW) }, y: { size: newH, offset: before(newH) } };
  }
  // torchvision: the shorter side becomes `resize`, the longer int(resize · long / short).
  const target = g.scalarF64(resize);
  const wIsShort = g.op('LessOrEqual', [w, h]);
  const longH = g.op('Floor', [g.op('Div', [g.op('Mul', [target, h]), w])]);
  const longW = g.op('Floor', [g.op('Div', [g.op('Mul', [target, w]), h])]);
  const newH = g.op('Where', [wIsShort, longH, target]);
  const newW = g.op('Where', [wIsShort, target, longW]);
  // CenterCrop offset: int(round((size − crop) / 2)), Python rounds half to even like ONNX Round.
  const half = (size: string) => g.op('Round', [g.op('Div', [g.op('Sub', [size, cropF]), g.scalarF64(2)])]);
  return { x: { size: newW, offset: half(newW) }, y: { size: newH, offset: half(newH) } };
}

/**
 * Adds the preprocessing nodes. `image` is uint8 [N, H, W, C] (HWC as decoded); the result is
 * float32 [N, C, crop, crop], the image fitted to the frame as `fit` says ('crop' when absent);
 * for 'tile' with rows × columns tiles, [N·rows·columns, C, crop, crop], each image's tiles in
 * row-major order.
 * @throws RangeError when resize and crop are not integers with resize >= crop > 0, fit is not
 * one of IMAGE_FITS, tiles are unresolved or not positive integers, or mean and std differ in length.
 * @example
 * const image = g.input('image', 'uint8', ['N', 'H', 'W', 3]);
 * const pixels = addPreprocess(g, image, { resize: 329, crop: 288, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
 */
export function addPreprocess(g: GraphBuilder, image: string, opts: PreprocessOptions): string {
  return addPreprocessParts(g, image, opts).pixels;
}

/**
 * The preprocessing nodes, also exposing the fitted (resized and cropped, squashed or letterboxed)
 * image before normalisation (`crop`: float32 [N, C, crop, crop] holding PIL's uint8 values,
 * letterbox padding in the mean colour), which overlays are drawn on. For 'tile' `crop` is the
 * whole canvas [N, C, rows·crop, columns·crop], the tiles before they are cut apart.
 */
export function addPreprocessParts(g: GraphBuilder, image: string, opts: PreprocessOptions): { pixels: string; crop: string } {
  const { resize, crop } = opts;
  if (!(Number.isInteger(resize) && Number.isInteger(crop) && crop > 0 && resize >= crop)) {
    throw new RangeError(`preprocess: need integers resize >= crop > 0, got resize ${resize}, crop ${crop}`);
  }
  const fit = opts.fit ?? 'crop';
  if (!IMAGE_FITS.includes(fit)) throw new RangeError(`preprocess: fit must be one of ${IMAGE_FITS.join(', ')}, got '${fit}'`);
  const shape = g.op('Shape', [image]);
  const dim = (axis: number) => g.cast(g.op('Gather', [shape, g.scalarI64(axis)], { axis: 0 }), 'float64');
  const h = dim(1);
  const w = dim(2);
  const tiles = tileGrid({ resize, crop, fit, tiles: opts.tiles });
  const axes = addFitAxes(g, h, w, resize, crop, fit, tiles);
  const padded = fit === 'letterbox';
  const [outH, outW] = [tiles[0] * crop, tiles[1] * crop];
  const tx = addResizeTaps(g, w, axes.x.size, axes.x.offset, outW, padded);
  const ty = addResizeTaps(g, h, axes.y.size, axes.y.offset, outH, padded);

  // PIL resamples horizontally first, rounding to uint8, then vertically, each pass on planes
  // [N·C, L, M] whose rows are the resampled axis: [N·C, W, H] → [N·C, crop, H], transposed (a
  // quarter of the image or less) → [N·C, crop, crop]. The Reshape between the two transposes
  // keeps onnxruntime from merging them into one NHWC → NCWH transpose, which is ten times slower
  // than the two (900×900, one thread: 63 ms against 6 ms).
  const nchw = g.op('Transpose', [image], { perm: [0, 3, 1, 2] });
  const planes = g.op('Reshape', [nchw, g.op('Concat', [g.ints([-1]), g.op('Slice', [shape, g.ints([1]), g.ints([3])])], { axis: 0 })]);
  const horizontal = addResamplePass(g, g.cast(g.op('Transpose', [planes], { perm: [0, 2, 1] }), 'float32'), tx);
  const resampled = addResamplePass(g, g.op('Transpose', [horizontal], { perm: [0, 2, 1] }), ty);
  const channels = g.op('Slice', [shape, g.ints([3]), g.ints([4])]);
  const vertical = g.op('Reshape', [resampled, g.op('Concat', [g.ints([-1]), channels, g.ints([outH, outW])], { axis: 0 })]);
  const unit = g.op('Div', [vertical, g.scalarF32(255)]);
  if (!opts.mean || !opts.std) return { pixels: cutTiles(g, unit, crop, tiles), crop: vertical };
  const c = opts.mean.length;
  if (opts.std.length !== c) throw new RangeError('preprocess: mean and std need the same length');
  const mean = g.constant(f32([1, c, 1, 1], opts.mean), 'mean');
  const std = g.constant(f32([1, c, 1, 1], opts.std), 'std');
  const pixels = g.op('Div', [g.op('Sub', [unit, mean]), std]);
  if (!padded) return { pixels: cutTiles(g, pixels, crop, tiles), crop: vertical };
  // Letterbox padding is the backbone's mean colour: exactly 0 after normalisation, the value the
  // backbone's own first convolution pads its input with, so the border reads as "nothing here".
  // The uint8 crop shows the nearest colour (round(mean · 255)), as ImageOps.pad(color=...) would.
  const inside = (axis: AxisFit) => addInside(g, g.op('Add', [g.op('Range', [g.scalarF64(0), g.scalarF64(crop), g.scalarF64(1)]), axis.offset]), axis.size);
  const image2d = g.op('And', [g.op('Unsqueeze', [inside(axes.y), g.ints([1])]), g.op('Unsqueeze', [inside(axes.x), g.ints([0])])]);
  const padColour = g.constant(
    f32(
      [1, c, 1, 1],
      opts.mean.map((m) => Math.round(m * 255)),
    ),
    'pad_colour',
  );
  return { pixels: g.op('Where', [image2d, pixels, g.scalarF32(0)]), crop: g.op('Where', [image2d, vertical, padColour]) };
}

/**
 * [N, C, rows·crop, columns·crop] → [N·rows·columns, C, crop, crop], each image's tiles row-major
 * (the order `addStitchTiles` in embedding/stitchTiles.ts undoes). One tile: the input itself.
 */
function cutTiles(g: GraphBuilder, x: string, crop: number, tiles: readonly [number, number]): string {
  const [rows, cols] = tiles;
  if (rows === 1 && cols === 1) return x;
  const channels = g.op('Slice', [g.op('Shape', [x]), g.ints([1]), g.ints([2])]);
  const split = g.op('Reshape', [x, g.op('Concat', [g.ints([-1]), channels, g.ints([rows, crop, cols, crop])], { axis: 0 })]);
  const tileMajor = g.op('Transpose', [split], { perm: [0, 2, 4, 1, 3, 5] });
  return g.op('Reshape', [tileMajor, g.op('Concat', [g.ints([-1]), channels, g.ints([crop, crop])], { axis: 0 })]);
}
