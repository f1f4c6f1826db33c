/**
 * An image file as exact RGB bytes, uint8 [H, W, 3], the scoring graph's input: decoded without
 * colour-space conversion or premultiplied alpha, so the bytes are the file's own (as the server's
 * decoder gives them). Refuses images over a pixel cap, read from the header before decoding.
 */
import { headerSize } from './imageSize.js';

/** The largest image this page decodes in the browser: 8000×8000 would take over 250 MB for the RGBA copy alone. */
export const MAX_BROWSER_PIXELS = 16_000_000;

export interface Rgb {
  data: Uint8Array;
  width: number;
  height: number;
}

export async function decodeRgb(file: File): Promise<Rgb> {
  const head = headerSize(await file.slice(0, 64 * 1024).arrayBuffer());
  if (head && head.width * head.height > MAX_BROWSER_PIXELS) {
    throw new Error(
      `${file.name}: ${head.width}×${head.height} is ${((head.width * head.height) / 1e6).toFixed(0)} megapixels; the browser scores images up to ${MAX_BROWSER_PIXELS / 1e6} MP (resize it, or score it on the server)`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`${file.name}: not an image this browser can decode`);
  }
  const { width, height } = bitmap;
  if (width * height > MAX_BROWSER_PIXELS) {
    bitmap.close();
    throw new Error(`${file.name}: ${width}×${height} is over the ${MAX_BROWSER_PIXELS / 1e6} MP the browser scores`);
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    data[q] = rgba[p];
    data[q + 1] = rgba[p + 1];
    data[q + 2] = rgba[p + 2];
  }
  return { data, width, height };
}
