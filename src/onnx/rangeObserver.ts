/**
 * Running statistics of one calibrated tensor, reduced batch by batch so that calibration memory
 * does not grow with the number of images: min and max, and for the histogram methods two fixed
 * histograms of |x|, one for the positive and one for the negative values, whose common edge
 * widens (old bins merged into the wider ones) when a batch exceeds it, as onnxruntime's
 * HistogramCollector does; exact zeros are counted apart, since the quantizer keeps them exact.
 */
import { ACT_QMAX, ACT_QMIN, type TensorRange } from './quantParams.js';

const BINS = 2048;
/** Candidate ranges the MSE method tries: the MinMax range shrunk by k/CANDIDATES, k = 1…CANDIDATES. */
const CANDIDATES = 256;

export class RangeObserver {
  min = Infinity;
  max = -Infinity;
  private edge = 0;
  private total = 0;
  private zeros = 0;
  private readonly pos: Float64Array | undefined;
  private readonly neg: Float64Array | undefined;

  constructor(histogram: boolean) {
    this.pos = histogram ? new Float64Array(BINS) : undefined;
    this.neg = histogram ? new Float64Array(BINS) : undefined;
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
    const pos = this.pos;
    const neg = this.neg;
    if (!pos || !neg) return;
    const absMax = Math.max(-lo, hi);
    if (absMax > this.edge) this.widen(absMax);
    if (this.edge === 0) {
      this.zeros += data.length;
    } else {
      const k = BINS / this.edge;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (v > 0) pos[Math.min(BINS - 1, Math.floor(v * k))]++;
        else if (v < 0) neg[Math.min(BINS - 1, Math.floor(-v * k))]++;
        else this.zeros++;
      }
    }
    this.total += data.length;
  }

  private widen(edge: number): void {
    for (const hist of [this.pos, this.neg] as Float64Array[]) {
      if (this.total > 0 && this.edge > 0) {
        const old = Float64Array.from(hist);
        hist.fill(0);
        for (let i = 0; i < BINS; i++) if (old[i]) hist[Math.min(BINS - 1, Math.floor(((i + 0.5) * this.edge) / edge))] += old[i];
      }
    }
    this.edge = edge;
  }

  /**
   * MinMax: [min, max]. Percentile p: ±t with t the p-th percentile of |x| (a bin's upper edge; the
   * zeros in the lowest bin), intersected with [min, max].
   */
  range(percentile?: number): TensorRange {
    if (percentile === undefined || !this.pos || !this.neg || this.edge === 0) return { min: this.min, max: this.max };
    const want = (percentile / 100) * this.total;
    let seen = this.zeros;
    let t = this.edge;
    for (let i = 0; i < BINS; i++) {
      seen += this.pos[i] + this.neg[i];
      if (seen >= want) {
        t = ((i + 1) * this.edge) / BINS;
        break;
      }
    }
    return { min: Math.max(this.min, -t), max: Math.min(this.max, t) };
  }

  /**
   * The range of least expected squared round-trip error: its ends chosen independently among
   * MinMax's ends shrunk towards 0 by k/256 (k = 1…256), the error of each pair summed over the
   * observed values (at their bins' centres): a value within half a step of 0 rounds to the exact 0
   * (error x²), any other inside the range by step²/12 on average, one outside is clipped to the
   * end (its squared distance past it). MinMax spends 256 levels on the largest values ever seen;
   * where those are rare, a narrower range rounds the bulk finer than it clips the tail.
   * @throws Error when the observer keeps no histogram.
   */
  mseRange(): TensorRange {
    if (!this.pos || !this.neg) throw new Error('mseRange: this observer keeps no histogram');
    const lo0 = Math.min(this.min, 0);
    const hi0 = Math.max(this.max, 0);
    if (this.edge === 0 || hi0 === lo0) return { min: this.min, max: this.max };
    const pos = new SideError(this.pos, this.edge);
    const neg = new SideError(this.neg, this.edge);
    const levels = ACT_QMAX - ACT_QMIN;
    const ks = (end: number) => (end === 0 ? [0] : Array.from({ length: CANDIDATES }, (_, k) => (end * (k + 1)) / CANDIDATES));
    let best = { err: Infinity, lo: lo0, hi: hi0 };
    for (const lo of ks(lo0)) {
      for (const hi of ks(hi0)) {
        const step = (hi - lo) / levels;
        const err = pos.error(hi, step) + neg.error(-lo, step);
        if (err < best.err) best = { err, lo, hi };
      }
    }
    return { min: this.min < 0 ? best.lo : this.min, max: this.max > 0 ? best.hi : this.max };
  }
}

/**
 * One side's expected squared round-trip error from a histogram of |x| by prefix sums of n, n·c
 * and n·c² over the bins (c a bin's centre), so that each candidate costs O(1).
 */
class SideError {
  private readonly n: Float64Array;
  private readonly nc: Float64Array;
  private readonly ncc: Float64Array;
  private readonly width: number;

  constructor(hist: Float64Array, edge: number) {
    this.width = edge / hist.length;
    this.n = new Float64Array(hist.length + 1);
    this.nc = new Float64Array(hist.length + 1);
    this.ncc = new Float64Array(hist.length + 1);
    for (let i = 0; i < hist.length; i++) {
      const c = (i + 0.5) * this.width;
      this.n[i + 1] = this.n[i] + hist[i];
      this.nc[i + 1] = this.nc[i] + hist[i] * c;
      this.ncc[i + 1] = this.ncc[i] + hist[i] * c * c;
    }
  }

  /** How many bins have their centre at or below `x`. */
  private below(x: number): number {
    return Math.max(0, Math.min(this.n.length - 1, Math.floor(x / this.width - 0.5) + 1));
  }

  /** Σ error with the range ending at `end` ≥ 0 on this side and uint8 steps of `step`. */
  error(end: number, step: number): number {
    const last = this.n.length - 1;
    const e = this.below(end);
    const z = Math.min(this.below(step / 2), e);
    const toZero = this.ncc[z];
    const rounded = ((this.n[e] - this.n[z]) * step * step) / 12;
    const tailN = this.n[last] - this.n[e];
    const tailC = this.nc[last] - this.nc[e];
    const tailCC = this.ncc[last] - this.ncc[e];
    return toZero + rounded + tailCC - 2 * end * tailC + end * end * tailN;
  }
}
