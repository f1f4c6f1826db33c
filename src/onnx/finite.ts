/**
 * Non-finite numbers (NaN, ±Inf) in weights or outputs are errors, never values: a NaN score
 * compares false with every threshold, so it would be labelled "normal" and a defective part would
 * pass. These helpers find the first one so the error can say where it is.
 */
import type { HostTensor } from './tensor.js';

/** Index of the first NaN or ±Inf in a float array, or −1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) {
    // One comparison per element: false for NaN and for ±Inf.
    if (!(Math.abs(data[i]) < Infinity)) return i;
  }
  return -1;
}

/** The same for a tensor of any dtype (float16 read by its bits: exponent all ones); integer tensors are always finite. */
export function firstNonFiniteIn(t: HostTensor): number {
  if (t.dtype === 'float32' || t.dtype === 'float64') return firstNonFinite(t.data as Float32Array | Float64Array);
  if (t.dtype === 'float16') {
    const bits = t.data as Uint16Array;
    for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7c00) === 0x7c00) return i;
  }
  return -1;
}

/** "NaN", "Infinity" or "-Infinity" for the value at `i` (float16 decoded from its bits). */
export function describeNonFinite(t: HostTensor, i: number): string {
  if (t.dtype === 'float16') {
    const h = (t.data as Uint16Array)[i];
    return h & 0x3ff ? 'NaN' : h & 0x8000 ? '-Infinity' : 'Infinity';
  }
  return String((t.data as Float32Array)[i]);
}
