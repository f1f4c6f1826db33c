/**
 * An image's width and height from its header (PNG, JPEG, WebP, BMP, GIF), read before decoding:
 * a huge image is refused by its size instead of hanging the tab while it decodes.
 */
export interface Size {
  width: number;
  height: number;
}

function jpegSize(b: DataView): Size | undefined {
  let i = 2;
  while (i + 9 < b.byteLength) {
    if (b.getUint8(i) !== 0xff) return undefined;
    const marker = b.getUint8(i + 1);
    const len = b.getUint16(i + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: b.getUint16(i + 5), width: b.getUint16(i + 7) };
    }
    i += 2 + len;
  }
  return undefined;
}

export function headerSize(bytes: ArrayBuffer): Size | undefined {
  const b = new DataView(bytes);
  if (b.byteLength < 30) return undefined;
  if (b.getUint32(0) === 0x89504e47) return { width: b.getUint32(16), height: b.getUint32(20) };
  if (b.getUint16(0) === 0xffd8) return jpegSize(b);
  if (b.getUint16(0) === 0x424d) return { width: b.getInt32(18, true), height: Math.abs(b.getInt32(22, true)) };
  if (b.getUint32(0) === 0x47494638) return { width: b.getUint16(6, true), height: b.getUint16(8, true) };
  if (b.getUint32(0) === 0x52494646 && b.getUint32(8) === 0x57454250) {
    const kind = String.fromCharCode(b.getUint8(12), b.getUint8(13), b.getUint8(14), b.getUint8(15));
    if (kind === 'VP8X') return { width: 1 + (b.getUint32(24, true) & 0xffffff), height: 1 + (b.getUint32(27, true) & 0xffffff) };
    if (kind === 'VP8 ') return { width: b.getUint16(26, true) & 0x3fff, height: b.getUint16(28, true) & 0x3fff };
    if (kind === 'VP8L') {
      const v = b.getUint32(21, true);
      return { width: 1 + (v & 0x3fff), height: 1 + ((v >> 14) & 0x3fff) };
    }
  }
  return undefined;
}
