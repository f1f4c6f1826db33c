/**
 * Decoding is the only image work done outside ONNX graphs: everything after the pixels (resize,
 * crop, normalisation) lives in the preprocessing graph so that every path scores the same way.
 *
 * Two checks come before any pixel is decoded. The file is opened first, so a file that cannot be
 * read is reported as what it is (permission denied, a folder, missing) instead of "unsupported
 * image format". Its header's width × height must be within the pixel cap: a 436 KB PNG of
 * 12000 × 12000 decodes to 432 MB and costs several GB on the way through the preprocessing graph.
 */
import { open } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { FileError } from '../io/ioError.js';

/**
 * File extensions of the image formats decodeImage reads (datasets and predict look for these).
 * @example const images = (await readdir(dir)).filter((f) => IMAGE_EXTENSIONS.includes(extname(f).toLowerCase()));
 */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.gif'];

/**
 * An image's 8-bit pixels, decoded once and scored as they are (the scoring graph resizes and
 * crops). From `decodeImage`, or built by a program from a camera frame.
 * @example
 * const frame: DecodedImage = { data: rgbBytes, width: 640, height: 480, channels: 3, source: 'camera 1' };
 * const r = await detector.score(frame);
 */
export interface DecodedImage {
  /** Interleaved HWC uint8 pixels. */
  data: Uint8Array;
  width: number;
  height: number;
  /** 3 = RGB (what scoring needs), 1 = grey (masks). */
  channels: 1 | 3;
  /** The file (or label) it came from, so later errors (a non-finite score) can name it. */
  source?: string;
}

/**
 * An image could not be decoded (not an image, an unsupported format, a truncated or corrupt
 * file). The message names the path (or label) and the decoder's reason.
 * @example
 * try { await decodeImage('part.png'); } catch (e) { if (e instanceof ImageDecodeError) console.error(`skipping ${e.path}`); }
 */
export class ImageDecodeError extends Error {
  constructor(
    /** The path, or the label given for bytes. */
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: cannot decode image (${reason})`);
    this.name = 'ImageDecodeError';
  }
}

/**
 * The default pixel cap: 40 megapixels (7746 × 5164 and the like), several times any camera image anomaly detection sees.
 * @example setMaxPixels(2 * DEFAULT_MAX_PIXELS); // allow 80-megapixel scans
 */
export const DEFAULT_MAX_PIXELS = 40_000_000;
export const MAX_PIXELS_ENV = 'SIMPLENET_MAX_PIXELS';

let processMaxPixels: number | undefined;

function checkLimit(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be a positive whole number of pixels, got ${n}`);
  return n;
}

/**
 * Sets the process-wide pixel cap (the CLI's --max-pixels); `undefined` goes back to the environment or the default.
 * @throws RangeError when `n` is not a positive whole number.
 * @example setMaxPixels(100_000_000);
 */
export function setMaxPixels(n: number | undefined): void {
  processMaxPixels = n === undefined ? undefined : checkLimit(n, 'the pixel limit');
}

/**
 * The cap in force: setMaxPixels, else $SIMPLENET_MAX_PIXELS, else DEFAULT_MAX_PIXELS.
 * @throws RangeError when $SIMPLENET_MAX_PIXELS is set but not a positive whole number.
 * @example console.log(`images over ${maxPixels()} pixels are refused`);
 */
export function maxPixels(): number {
  if (processMaxPixels !== undefined) return processMaxPixels;
  const env = process.env[MAX_PIXELS_ENV];
  if (env === undefined || env.trim() === '') return DEFAULT_MAX_PIXELS;
  return checkLimit(Number(env.trim()), `${MAX_PIXELS_ENV}='${env}'`);
}

/**
 * An image's header says it has more pixels than the cap (`maxPixels()`); it is refused before
 * any pixel is decoded. `width`, `height` and `limit` say by how much.
 * @example
 * try { await detector.score('scan.tif'); } catch (e) { if (e instanceof ImageTooLargeError) console.error(`${e.width}×${e.height} > ${e.limit}`); }
 */
export class ImageTooLargeError extends Error {
  override name = 'ImageTooLargeError';

  constructor(
    /** The path, or the label given for bytes. */
    readonly path: string,
    /** The image's width from its header. */
    readonly width: number,
    /** The image's height from its header (of the first page). */
    readonly height: number,
    /** The pixel cap in force. */
    readonly limit: number,
  ) {
    super(
      `${path}: image is ${width}×${height} (${((width * height) / 1e6).toFixed(1)} megapixels), over the limit of ${limit} pixels; ` +
        `raise it with --max-pixels <n> or ${MAX_PIXELS_ENV}=<n>, or downscale the image`,
    );
  }
}

/** Opens the file once so that I/O problems surface as such, naming the path and the cause. */
async function checkReadable(path: string): Promise<void> {
  let isFile = false;
  try {
    const fh = await open(path, 'r');
    try {
      isFile = (await fh.stat()).isFile();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new FileError(path, 'cannot read image', e);
  }
  if (!isFile) throw new FileError(path, 'cannot read image', Object.assign(new Error('not a file'), { code: 'EISDIR' }));
}

/**
 * Decodes to 8-bit RGB (channels 3) or grey (channels 1). Alpha is dropped, grey is replicated to
 * RGB and 16-bit images are scaled to 8 bits, which is what users expect; PIL's `convert('RGB')`
 * agrees for 8-bit images. No EXIF rotation (PIL applies none either). Images over `maxPixels`
 * (default: the process's cap, see maxPixels()) are refused from their header, before decoding.
 * @throws FileError when the path cannot be read or is not a file; ImageTooLargeError over the
 * pixel cap; ImageDecodeError when the bytes are not a decodable image; RangeError for a bad
 * `maxPixels`.
 * @example
 * const image = await decodeImage('part.png');
 * const mask = await decodeImage(await readFile('part_mask.png'), { channels: 1, label: 'part_mask.png' });
 */
export async function decodeImage(input: string | Uint8Array, opts: { channels?: 1 | 3; label?: string; maxPixels?: number } = {}): Promise<DecodedImage> {
  const channels = opts.channels ?? 3;
  const label = opts.label ?? (typeof input === 'string' ? input : 'image');
  const limit = opts.maxPixels === undefined ? maxPixels() : checkLimit(opts.maxPixels, 'maxPixels');
  if (typeof input === 'string') await checkReadable(input);
  let meta: Metadata;
  try {
    meta = await sharp(input, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageDecodeError(label, (e as Error).message.replace(/\s+/g, ' ').trim());
  }
  // Multi-page images (GIF, TIFF) decode their first page: its height is pageHeight.
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > limit) throw new ImageTooLargeError(label, width, height, limit);
  try {
    let img = sharp(input, { failOn: 'error', limitInputPixels: limit });
    img = channels === 3 ? img.toColourspace('srgb') : img.toColourspace('b-w');
    const { data, info } = await img.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) {
      throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels,
      source: label,
    };
  } catch (e) {
    const msg = (e as Error).message.replace(/\s+/g, ' ').trim();
    throw new ImageDecodeError(label, msg);
  }
}
