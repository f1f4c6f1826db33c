/**
 * How an image of any aspect fills the model's crop×crop frame (`image.fit`, issue 13 "Whole-image
 * coverage"): the paper's resize-shorter-side + centre crop keeps 77 % of a square image at 329/288
 * and far less of an elongated one, and a defect outside the crop can never be found. The pixels
 * are resampled in one place, the preprocessing graph (preprocess.ts); this file holds the names
 * and the host-side description of the same geometry that messages and synthetic defects need.
 */
import type { Reporter } from '../core/progress.js';

/**
 * The fits `image.fit` accepts: 'crop' (the paper: resize the shorter side to `resize`, centre
 * crop), 'squash' (resize both axes to `crop`, nothing discarded, aspect not kept), 'letterbox'
 * (resize the longer side to `crop` keeping aspect, pad to a square with the backbone's mean colour),
 * 'tile' (resize to `tiles` rows × columns of crop×crop tiles, each scored by the backbone, their
 * patch grids stitched into one grid over the whole image: an elongated or large image keeps its
 * aspect and resolution; with one tile it is 'squash' exactly).
 * @example if (!IMAGE_FITS.includes(name as ImageFit)) throw new RangeError(`fit: expected one of ${IMAGE_FITS.join(', ')}`);
 */
export const IMAGE_FITS = ['crop', 'squash', 'letterbox', 'tile'] as const;

/**
 * One of `IMAGE_FITS`.
 * @example const fit: ImageFit = 'squash';
 */
export type ImageFit = (typeof IMAGE_FITS)[number];

/**
 * The geometry of the preprocessing: resize length, frame side and fit (absent: 'crop', what every
 * model saved before `image.fit` existed was trained with).
 * @example const geometry: ImageGeometry = { resize: 329, crop: 288, fit: 'squash' };
 */
export interface ImageGeometry {
  /** Shorter side after resizing, used by 'crop' only (torchvision `Resize(int)`). */
  resize: number;
  /** Side of the square frame the model sees. */
  crop: number;
  /** How the image fills the frame; absent: 'crop'. */
  fit?: ImageFit;
  /**
   * Fit 'tile' only: tile rows and columns, or 'auto' (one row or column of square tiles along
   * the longer side of the training images, `resolveTiles`); absent: one tile.
   */
  tiles?: TileSpec;
}

/**
 * `image.tiles`: [rows, columns] of crop×crop tiles, or 'auto' until training resolves it.
 * @example const tiles: TileSpec = [1, 3]; // a 3:1 image as three square tiles
 */
export type TileSpec = 'auto' | [number, number];

/**
 * Most tiles along one side that 'auto' chooses (a 1:8 strip already costs eight backbone runs).
 * @example resolveTiles({ resize: 329, crop: 288, fit: 'tile', tiles: 'auto' }, 100, 5000).tiles; // [MAX_AUTO_TILES, 1]
 */
export const MAX_AUTO_TILES = 8;

/**
 * The tile grid a geometry scores with: [1, 1] for every fit but 'tile'.
 * @throws RangeError when fit is 'tile' and `tiles` is still 'auto' (training resolves it with
 * `resolveTiles` before any graph is built) or not two positive integers.
 * @example const [rows, cols] = tileGrid({ resize: 329, crop: 288, fit: 'tile', tiles: [1, 3] }); // 1, 3
 */
export function tileGrid(g: ImageGeometry): readonly [number, number] {
  if (g.fit !== 'tile' || g.tiles === undefined) return [1, 1];
  if (g.tiles === 'auto') throw new RangeError("image.tiles: 'auto' must be resolved from the training images (resolveTiles) before a graph is built");
  const [r, c] = g.tiles;
  if (!(Number.isInteger(r) && Number.isInteger(c) && r > 0 && c > 0))
    throw new RangeError(`image.tiles: expected two positive integers, got [${g.tiles.join(', ')}]`);
  return [r, c];
}

/**
 * Resolves `image.tiles: 'auto'` for an image of width × height (training uses its first image):
 * square tiles along the longer side, as many as the aspect rounds to (at most MAX_AUTO_TILES), so
 * each tile sees the image at close to its own aspect; a square image gets one tile ('squash').
 * Other geometries come back unchanged.
 * @example resolveTiles({ resize: 329, crop: 288, fit: 'tile', tiles: 'auto' }, 1600, 500).tiles; // [1, 3]
 */
export function resolveTiles<G extends ImageGeometry>(g: G, width: number, height: number): G {
  if (g.fit !== 'tile' || (g.tiles !== undefined && g.tiles !== 'auto')) return g;
  const n = Math.min(MAX_AUTO_TILES, Math.max(1, Math.round(Math.max(width, height) / Math.min(width, height))));
  return { ...g, tiles: width >= height ? [1, n] : [n, 1] };
}

/**
 * The geometry of the frame that maps, masks and overlays are given in: the fit itself, except
 * 'tile', whose stitched maps cover the whole image as 'squash' does (crop×crop, the aspect not
 * kept), so every consumer of a map handles one square frame whatever the fit.
 * @example frameGeometry({ resize: 329, crop: 288, fit: 'tile', tiles: [1, 3] }); // { resize: 329, crop: 288, fit: 'squash' }
 */
export function frameGeometry(g: ImageGeometry): ImageGeometry {
  if (g.fit !== 'tile') return g;
  return { resize: g.resize, crop: g.crop, fit: 'squash' };
}

/**
 * Where the model's crop×crop frame lies in the original image, in original pixels: its top-left
 * corner and size. 'crop' gives a centred square inside the image; 'squash' the whole image;
 * 'letterbox' a square around it (the part outside the image is padding). The same arithmetic as
 * the preprocessing graph up to its integer rounding of the resized sizes (sub-pixel).
 * @example const box = frameBox(800, 600, { resize: 329, crop: 288 }); // { x0: 62.3, y0: 37.3, width: 525.3, height: 525.3 }
 */
export function frameBox(width: number, height: number, g: ImageGeometry): { x0: number; y0: number; width: number; height: number } {
  const fit = g.fit ?? 'crop';
  // 'tile' covers the whole image as 'squash' does, and its maps are given in squash's frame.
  if (fit === 'squash' || fit === 'tile') return { x0: 0, y0: 0, width, height };
  // 'crop': the frame is crop/resize of the shorter side; 'letterbox': the longer side is the frame.
  const side = fit === 'crop' ? (g.crop * Math.min(width, height)) / g.resize : Math.max(width, height);
  return { x0: (width - side) / 2, y0: (height - side) / 2, width: side, height: side };
}

/**
 * The share of an image's area that the model sees: 1 for 'squash', 'letterbox' and 'tile'; for 'crop',
 * crop² over the resized image's area (torchvision's integer sizes, as the graph computes them).
 * @example keptShare(900, 900, { resize: 329, crop: 288 }); // 0.766
 */
export function keptShare(width: number, height: number, g: ImageGeometry): number {
  if ((g.fit ?? 'crop') !== 'crop') return 1;
  const [w, h] = resizedSize(width, height, g);
  return Math.min(1, (g.crop * g.crop) / (w * h));
}

/**
 * The image's size once resized, before it is cropped, padded or cut into tiles, with the graph's
 * integer sizes (images/preprocess.ts `addFitAxes`): 'crop' torchvision's Resize(resize);
 * 'letterbox' the longer side `crop`; 'squash' and 'tile' the whole canvas.
 */
function resizedSize(width: number, height: number, g: ImageGeometry): [number, number] {
  const fit = g.fit ?? 'crop';
  if (fit === 'crop') {
    const long = (a: number, b: number) => Math.floor((g.resize * a) / b);
    return width <= height ? [g.resize, long(height, width)] : [long(width, height), g.resize];
  }
  if (fit === 'letterbox') {
    // Python's round() halves to even; off by one only at exact halves, far below the limit's margin.
    const short = (a: number, b: number) => Math.max(1, Math.round((a / b) * g.crop));
    return width >= height ? [g.crop, short(height, width)] : [short(width, height), g.crop];
  }
  const [rows, cols] = tileGrid(g);
  return [cols * g.crop, rows * g.crop];
}

/**
 * The most an axis may shrink for the preprocessing graph's resampling to be bit-exact with PIL
 * (227× and more can be off by one grey level in a few pixels; the bound, 453 taps, is derived in
 * images/preprocess.ts above addResamplePass and checked in fit.test.ts). Scoring refuses images beyond it (`exactFitProblem`).
 * @example if (fitDownscale(width, height, model.config.image) > MAX_EXACT_DOWNSCALE) console.warn('use image.fit tile');
 */
export const MAX_EXACT_DOWNSCALE = 226;

/**
 * The most an image of width × height is shrunk along either axis to fill the frame (input pixels
 * per resized pixel; below 1 when it is enlarged), with the graph's integer sizes. The preprocessing
 * is bit-exact with PIL up to `MAX_EXACT_DOWNSCALE`.
 * @throws RangeError when fit is 'tile' with unresolved tiles (see `tileGrid`).
 * @example fitDownscale(900, 900, { resize: 329, crop: 288 }); // 2.74
 */
export function fitDownscale(width: number, height: number, g: ImageGeometry): number {
  const [w, h] = resizedSize(width, height, g);
  return Math.max(width / w, height / h);
}

/**
 * Why an image of width × height cannot be scored exactly under geometry `g` (one line naming
 * `source`), or undefined when its fit shrinks no axis more than `MAX_EXACT_DOWNSCALE`. The one
 * wording behind scoring/scorer.ts `checkExactFit` and the web app's in-browser check.
 * @throws RangeError when fit is 'tile' with unresolved tiles (see `tileGrid`).
 * @example const problem = exactFitProblem(70000, 8, { resize: 329, crop: 288, fit: 'squash' }, 'strip.png'); // 'strip.png: 70000×8 would shrink 244×…'
 */
export function exactFitProblem(width: number, height: number, g: ImageGeometry, source = 'image'): string | undefined {
  const factor = fitDownscale(width, height, g);
  if (factor <= MAX_EXACT_DOWNSCALE) return undefined;
  // A tiled model already keeps the aspect: only more tiles (a model trained so) shrink it less.
  const remedy = g.fit === 'tile' ? 'a model with more tiles (image.tiles)' : "image.fit 'tile'";
  return `${source}: ${width}×${height} would shrink ${Math.ceil(factor)}× to fit image.fit '${g.fit ?? 'crop'}', beyond the ${MAX_EXACT_DOWNSCALE}× up to which the resampling is exact; use ${remedy} or a smaller image`;
}

/**
 * A function that warns once, on the first image whose fit discards part of it, naming the file
 * and the share kept (one line; `train`, `predict` and the Detector call it for each image).
 * @example
 * const note = coverageWarner(config.image, reporter);
 * note('bottle/000.png', 900, 900); // warning: image.fit 'crop' keeps 77 % of bottle/000.png (900×900) ...
 */
export function coverageWarner(g: ImageGeometry, reporter: Pick<Reporter, 'warn'>): (source: string, width: number, height: number) => void {
  let warned = false;
  return (source, width, height) => {
    if (warned) return;
    const share = keptShare(width, height, g);
    if (share >= 0.9995) return;
    warned = true;
    reporter.warn(
      `image.fit 'crop' keeps ${(share * 100).toFixed(0)} % of ${source} (${width}×${height}): defects outside the centre crop cannot be found; image.fit 'squash', 'letterbox' or 'tile' covers the whole image (warned once)`,
    );
  };
}
