/**
 * Running statistics of one calibrated tensor, reduced batch by batch so that calibration memory
 * does not grow with the number of images: min and max, and for the percentile method a fixed
 * histogram of |x| whose edge widens (old bins merged into the wider ones) when a batch exceeds it,
 * as onnxruntime's HistogramCollector does.
 */
import type { TensorRange } from './quantParams.js';

const BINS = 2048;

export class RangeObserver {
  min = Infinity;
  max = -Infinity;
  private edge = 0;
  private total = 0;
  private readonly hist: Float64Array | undefined;

  constructor(histogram: boolean) {
    this.hist = histogram ? new Float64Array(BINS) : undefined;
  }

  /** Adds one batch's values; `label` names the tensor in errors. */
  add(data: Float32Array, label: string): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (Number.isNaN(v)) throw new Error(`calibration: '${label}' has NaN values`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new Error(`calibration: '${label}' has infinite values (or none)`);
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    const hist = this.hist;
    if (!hist) return;
    const absMax = Math.max(-lo, hi);
    if (absMax > this.edge) this.widen(absMax);
    if (this.edge === 0) {
      hist[0] += data.length;
    } else {
      const k = BINS / this.edge;
      for (let i = 0; i < data.length; i++) hist[Math.min(BINS - 1, Math.floor(Math.abs(data[i]) * k))]++;
    }
    this.total += data.length;
  }

  private widen(edge: number): void {
    const hist = this.hist as Float64Array;
    if (this.total > 0 && this.edge > 0) {
      const old = Float64Array.from(hist);
      hist.fill(0);
      for (let i = 0; i < BINS; i++) if (old[i]) hist[Math.min(BINS - 1, Math.floor(((i + 0.5) * this.edge) / edge))] += old[i];
    }
    this.edge = edge;
  }

  /**
   * MinMax: [min, max]. Percentile p: ±t with t the p-th percentile of |x| (a bin's upper edge),
   * intersected with [min, max].
   */
  range(percentile?: number): TensorRange {
    if (percentile === undefined || !this.hist || this.edge === 0) return { min: this.min, max: this.max };
    const want = (percentile / 100) * this.total;
    let seen = 0;
    let t = this.edge;
    for (let i = 0; i < BINS; i++) {
      seen += this.hist[i];
      if (seen >= want) {
        t = ((i + 1) * this.edge) / BINS;
        break;
      }
    }
    return { min: Math.max(this.min, -t), max: Math.min(this.max, t) };
  }
}
