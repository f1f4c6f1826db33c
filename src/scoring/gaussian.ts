/**
 * scipy.ndimage.gaussian_filter along one axis as a dense [n, n] matrix: kernel radius
 * int(truncate·σ + 0.5), weights exp(−x²/2σ²) normalised to sum 1, and scipy's 'reflect' border
 * (half-sample symmetric: d c b a | a b c d), folded into the matrix.
 */
export function gaussianKernel1d(sigma: number, truncate = 4): Float64Array {
  if (!(sigma > 0)) throw new RangeError(`gaussianKernel1d: sigma must be > 0, got ${sigma}`);
  const radius = Math.floor(truncate * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    w[i + radius] = Math.exp((-0.5 / (sigma * sigma)) * i * i);
    sum += w[i + radius];
  }
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  return w;
}

/** scipy 'reflect' index mapping for any offset (period 2n). */
export function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let k = ((i % period) + period) % period;
  if (k >= n) k = period - 1 - k;
  return k;
}

export function gaussianMatrix(n: number, sigma: number, truncate = 4): Float64Array {
  const w = gaussianKernel1d(sigma, truncate);
  const radius = (w.length - 1) / 2;
  const m = new Float64Array(n * n);
  for (let o = 0; o < n; o++) {
    for (let t = -radius; t <= radius; t++) m[o * n + reflectIndex(o + t, n)] += w[t + radius];
  }
  return m;
}
