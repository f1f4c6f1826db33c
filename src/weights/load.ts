/**
 * One entry point for a weights file in any supported format, chosen by its first bytes (the
 * extension is only a hint people get wrong: timm and torchvision files are often renamed).
 */
import { createHash } from 'node:crypto';
import { readRegularFile } from '../io/readRegular.js';
import { FileError } from '../io/ioError.js';
import { decodeSafetensors } from '../io/safetensors.js';
import type { HostTensor } from '../onnx/tensor.js';
import { type DecodeOptions, decodePth, isLegacyPth } from './pth.js';
import { isZip } from './zip.js';

export type WeightsFormat = 'safetensors' | 'pth-zip' | 'pth-legacy';

/** `size` is the whole file's size when `bytes` is only its beginning. */
export function detectFormat(bytes: Uint8Array, size = bytes.length): WeightsFormat | undefined {
  if (isZip(bytes)) return 'pth-zip';
  if (isLegacyPth(bytes)) return 'pth-legacy';
  // safetensors: u64 header length that fits the file, then a JSON object.
  if (bytes.length >= 10) {
    const len = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (len >= 2n && len <= BigInt(size - 8) && bytes[8] === 0x7b) return 'safetensors';
  }
  return undefined;
}

export interface StateDict {
  tensors: Map<string, HostTensor>;
  format: WeightsFormat;
}

/**
 * `opts.expected` (the architecture's shapes, `architectureShapes` in src/backbones/state-dict.ts)
 * makes every reader refuse a tensor of another shape before reading or inflating its data.
 */
export function decodeStateDict(bytes: Uint8Array, source: string, opts: DecodeOptions = {}): StateDict {
  const format = detectFormat(bytes);
  if (format === 'safetensors') return { tensors: decodeSafetensors(bytes, source, opts.expected).tensors, format };
  if (format) return { tensors: decodePth(bytes, source, opts), format };
  const head = Buffer.from(bytes.subarray(0, 8)).toString('hex');
  throw new Error(
    `${source}: not a weights file: expected safetensors or a PyTorch .pth state dict (zip or legacy format), ` +
      `but the file ${bytes.length === 0 ? 'is empty' : `starts with bytes ${head}`}`,
  );
}

export interface LoadedWeights extends StateDict {
  sha256: string;
  bytes: number;
}

/** Reads and decodes a weights file; every problem is one error naming the file. */
export async function loadStateDict(path: string, opts: DecodeOptions = {}): Promise<LoadedWeights> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path);
  } catch (e) {
    throw new FileError(path, 'cannot read the weights file', e);
  }
  const decoded = decodeStateDict(bytes, path, opts);
  return { ...decoded, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}
