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
 * (resize the longer side to `crop` keeping aspect, pad to a square with the backbone's mean colour).
 * @example if (!IMAGE_FITS.includes(name as ImageFit)) throw new RangeError(`fit: expected one of ${IMAGE_FITS.join(', ')}`);
 */
export const IMAGE_FITS = ['crop', 'squash', 'letterbox'] as const;

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
  if (fit === 'squash') return { x0: 0, y0: 0, width, height };
  // 'crop': the frame is crop/resize of the shorter side; 'letterbox': the longer side is the frame.
  const side = fit === 'crop' ? (g.crop * Math.min(width, height)) / g.resize : Math.max(width, height);
  return { x0: (width - side) / 2, y0: (height - side) / 2, width: side, height: side };
}

/**
 * The share of an image's area that the model sees: 1 for 'squash' and 'letterbox'; for 'crop',
 * crop² over the resized image's area (torchvision's integer sizes, as the graph computes them).
 * @example keptShare(900, 900, { resize: 329, crop: 288 }); // 0.766
 */
export function keptShare(width: number, height: number, g: ImageGeometry): number {
  if ((g.fit ?? 'crop') !== 'crop') return 1;
  const short = Math.min(width, height);
  const long = Math.floor((g.resize * Math.max(width, height)) / short);
  return Math.min(1, (g.crop * g.crop) / (g.resize * long));
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
      `image.fit 'crop' keeps ${(share * 100).toFixed(0)} % of ${source} (${width}×${height}): defects outside the centre crop cannot be found; image.fit 'squash' or 'letterbox' covers the whole image (warned once)`,
    );
  };
}
