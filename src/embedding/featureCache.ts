/**
 * SimpleNet uses no augmentation, so each training image's patch features are computed once and
 * reused every epoch. The cache is bounded: float32 in memory when it fits the budget, else float32
 * in a temporary file read back batch by batch (the same bits: a step of WideResNet-50-2 features
 * takes seconds, a batch read from the page cache milliseconds), and float16 only when asked for or
 * when the disk has no room for float32.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OrtTensor, ortTensor } from '../onnx/session.js';

export type CacheDtype = 'float32' | 'float16';

export interface CachePlan {
  dtype: CacheDtype;
  storage: 'memory' | 'disk';
  bytes: number;
}

/** Free bytes where the disk cache's file goes (the temp folder), or undefined when unknown. */
export function cacheDiskFreeBytes(): number | undefined {
  try {
    const s = statfsSync(tmpdir());
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * Where and how the features of `nImages` images go. With dtype 'auto': float32 in memory within
 * `memoryMB`, else float32 on disk, and float16 (memory, then disk) only when `diskFreeBytes` is
 * given and float32 would not fit it: float16 changes the numbers, so it is the last resort.
 */
export function planCache(
  nImages: number,
  rowsPerImage: number,
  dim: number,
  opts: { memoryMB: number; dtype: 'auto' | CacheDtype; diskFreeBytes?: number },
): CachePlan {
  const budget = Math.max(0, opts.memoryMB) * 1024 * 1024;
  const size = (d: CacheDtype) => nImages * rowsPerImage * dim * (d === 'float32' ? 4 : 2);
  const place = (d: CacheDtype): CachePlan => ({ dtype: d, storage: size(d) <= budget ? 'memory' : 'disk', bytes: size(d) });
  if (opts.dtype !== 'auto') return place(opts.dtype);
  const f32 = place('float32');
  if (f32.storage === 'memory' || opts.diskFreeBytes === undefined || f32.bytes <= opts.diskFreeBytes) return f32;
  return place('float16');
}

type Rows = Float32Array | Uint16Array;

export class FeatureCache {
  private readonly memory: Rows[] = [];
  private fd = -1;
  private batchBuffer: Rows | undefined;

  constructor(
    readonly plan: CachePlan,
    readonly nImages: number,
    readonly rowsPerImage: number,
    readonly dim: number,
  ) {
    if (plan.storage === 'disk') {
      // Unlinked as soon as it is open: the space is the open descriptor's and goes back to the
      // system when the process ends, however it ends (kill -9 included), so no run leaves it behind.
      const dir = mkdtempSync(join(tmpdir(), 'simplenet-features-'));
      const file = join(dir, 'features.bin');
      try {
        this.fd = openSync(file, 'wx+');
      } finally {
        // Only the file this made and its fresh folder: nothing recursive.
        rmSync(file, { force: true });
        rmdirSync(dir);
      }
    }
  }

  private get elementsPerImage(): number {
    return this.rowsPerImage * this.dim;
  }

  private get bytesPerElement(): number {
    return this.plan.dtype === 'float32' ? 4 : 2;
  }

  put(index: number, features: OrtTensor): void {
    if (features.type !== this.plan.dtype) throw new TypeError(`FeatureCache.put: expected ${this.plan.dtype}, got ${features.type}`);
    const data = features.data as Rows;
    if (data.length !== this.elementsPerImage) {
      throw new RangeError(`FeatureCache.put: expected ${this.elementsPerImage} values for image ${index}, got ${data.length}`);
    }
    if (this.plan.storage === 'memory') {
      this.memory[index] = data;
      return;
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const at = index * this.elementsPerImage * this.bytesPerElement;
    // A regular file may still take a write in parts (a signal, a quota): loop until all of it is in.
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done, at + done);
  }

  /** The features of `indices`, concatenated: [indices.length · rowsPerImage, dim]. */
  batch(indices: readonly number[]): OrtTensor {
    const n = indices.length * this.elementsPerImage;
    // One buffer reused across steps: the training step has consumed the previous batch by now.
    if (!this.batchBuffer || this.batchBuffer.length < n) {
      this.batchBuffer = this.plan.dtype === 'float32' ? new Float32Array(n) : new Uint16Array(n);
    }
    const out = this.batchBuffer.subarray(0, n);
    indices.forEach((img, k) => {
      if (this.plan.storage === 'memory') {
        out.set(this.memory[img], k * this.elementsPerImage);
      } else {
        const bytes = new Uint8Array(
          out.buffer,
          out.byteOffset + k * this.elementsPerImage * this.bytesPerElement,
          this.elementsPerImage * this.bytesPerElement,
        );
        const at = img * this.elementsPerImage * this.bytesPerElement;
        for (let done = 0; done < bytes.length; ) {
          const got = readSync(this.fd, bytes, done, bytes.length - done, at + done);
          if (got === 0) throw new Error(`FeatureCache.batch: image ${img} was never put`);
          done += got;
        }
      }
    });
    return ortTensor(this.plan.dtype, [indices.length * this.rowsPerImage, this.dim], out);
  }

  release(): void {
    this.memory.length = 0;
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
