/**
 * The small linear operators of the pipeline as explicit matrices, built once in float64: PyTorch's
 * bilinear interpolation (align_corners=False) and `adaptive_avg_pool1d` bins. Applying them as
 * MatMul/Gather nodes keeps the rounding close to PyTorch and the graphs simple.
 */

/**
 * Row-stochastic [outSize, inSize] matrix of `F.interpolate(mode='bilinear', align_corners=False)`
 * along one axis: src = max(0, (dst + 0.5)·in/out − 0.5), x0 = floor(src), x1 = min(x0+1, in−1).
 */
export function bilinearMatrix(inSize: number, outSize: number): Float64Array {
  if (!(inSize > 0 && outSize > 0)) throw new RangeError(`bilinearMatrix: sizes must be positive, got ${inSize}→${outSize}`);
  const m = new Float64Array(outSize * inSize);
  // PyTorch computes the scale and the source index in float32 on CPU for float tensors.
  const scale = Math.fround(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, Math.fround(Math.fround(scale * Math.fround(o + 0.5)) - 0.5));
    const x0 = Math.min(Math.floor(src), inSize - 1);
    const x1 = Math.min(x0 + 1, inSize - 1);
    const l1 = Math.fround(src - x0);
    const l0 = Math.fround(1 - l1);
    m[o * inSize + x0] += l0;
    m[o * inSize + x1] += l1;
  }
  return m;
}

export interface PoolBins {
  start: Int32Array;
  end: Int32Array;
  /** Largest bin. */
  maxCount: number;
}

/** Bins of PyTorch's adaptive_avg_pool1d: [floor(k·L/O), ceil((k+1)·L/O)). */
export function adaptivePoolBins(inLength: number, outLength: number): PoolBins {
  if (!(Number.isInteger(inLength) && Number.isInteger(outLength) && inLength > 0 && outLength > 0)) {
    throw new RangeError(`adaptivePoolBins: lengths must be positive integers, got ${inLength}→${outLength}`);
  }
  const start = new Int32Array(outLength);
  const end = new Int32Array(outLength);
  let maxCount = 0;
  for (let k = 0; k < outLength; k++) {
    start[k] = Math.floor((k * inLength) / outLength);
    end[k] = Math.ceil(((k + 1) * inLength) / outLength);
    maxCount = Math.max(maxCount, end[k] - start[k]);
  }
  return { start, end, maxCount };
}
