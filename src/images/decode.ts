/**
 * Decoding is the only image work done outside ONNX graphs: everything after the pixels (resize,
 * crop, normalisation) lives in the preprocessing graph so that every path scores the same way.
 */
import sharp from 'sharp';

export interface DecodedImage {
  /** Interleaved HWC uint8 pixels. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export class ImageDecodeError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: cannot decode image (${reason})`);
    this.name = 'ImageDecodeError';
  }
}

/**
 * Decodes to 8-bit RGB (channels 3) or grey (channels 1). Alpha is dropped, grey is replicated to
 * RGB and 16-bit images are scaled to 8 bits, which is what users expect; PIL's `convert('RGB')`
 * agrees for 8-bit images. No EXIF rotation (PIL applies none either).
 */
export async function decodeImage(
  input: string | Uint8Array,
  opts: { channels?: 1 | 3; label?: string } = {},
): Promise<DecodedImage> {
  const channels = opts.channels ?? 3;
  const label = opts.label ?? (typeof input === 'string' ? input : 'image');
  try {
    let img = sharp(input, { failOn: 'error', limitInputPixels: 1 << 28 });
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
    };
  } catch (e) {
    const msg = (e as Error).message.replace(/\s+/g, ' ').trim();
    throw new ImageDecodeError(label, msg);
  }
}
