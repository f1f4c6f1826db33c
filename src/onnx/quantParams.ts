/**
 * Quantisation parameters as onnxruntime's static quantizer computes them: activations uint8,
 * asymmetric, one scale and zero point per tensor, the range widened to include 0 so that 0.0 (ReLU
 * floors, zero padding) is exact; Conv weights int8, symmetric (zero point 0) per output channel,
 * or uint8 on the grid they already lie on (`weightGrid`).
 * QuantizeLinear rounds half to even and saturates; these helpers do the same on the host.
 */

/**
 * The observed value range of one float tensor (from `collectRanges`), as stored in JSON.
 * @example const r: TensorRange = { min: -0.8, max: 5.9 };
 */
export interface TensorRange {
  min: number;
  max: number;
}

/**
 * One scale and zero point: `real = scale · (q − zeroPoint)`.
 * @example const p: QuantParams = activationParams({ min: 0, max: 6 }); // scale 6/255, zeroPoint 0
 */
export interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 activations. */
export const ACT_QMIN = 0;
export const ACT_QMAX = 255;

/**
 * Rounds to the nearest integer, ties to even (numpy's `round`, ONNX QuantizeLinear's rounding).
 * @example roundHalfEven(2.5); // 2
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * uint8 asymmetric parameters for a range: [min(min,0), max(max,0)] spread over 0…255, the scale
 * rounded to float32 (as stored in the graph) before the zero point is derived from it.
 * @throws RangeError when `range.min` or `range.max` is not finite or min > max.
 * @example activationParams({ min: -1, max: 3 }); // { scale: 4/255, zeroPoint: 64 }
 */
export function activationParams(range: TensorRange): QuantParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new RangeError(`range: expected finite min ≤ max, got [${range.min}, ${range.max}]`);
  }
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / (ACT_QMAX - ACT_QMIN));
  const zeroPoint = Math.min(ACT_QMAX, Math.max(ACT_QMIN, roundHalfEven(ACT_QMIN - lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Per-output-channel symmetric scales of a weight laid out [M, …]: max|w| over each channel's
 * elements / qmax (127 for 8-bit, 63 for 7-bit weights); an all-zero channel gets scale 1.
 * @throws RangeError when `qmax` is not a positive integer or `channels` does not divide the length.
 * @example const scales = channelScales(weights, 64, 127);
 */
export function channelScales(w: ArrayLike<number>, channels: number, qmax: number): Float32Array {
  if (!Number.isInteger(qmax) || qmax <= 0) throw new RangeError(`qmax: expected a positive integer, got ${qmax}`);
  if (channels <= 0 || w.length % channels !== 0) throw new RangeError(`channels: ${channels} does not divide ${w.length} weights`);
  const per = w.length / channels;
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(w[i]));
    scales[c] = m > 0 ? m / qmax : 1;
  }
  return scales;
}

/**
 * QuantizeLinear on the host: round-half-even(x / scale) + zeroPoint, saturated to [qmin, qmax].
 * @example quantizeValue(0.5, { scale: 0.1, zeroPoint: 3 }, 0, 255); // 8
 */
export function quantizeValue(x: number, p: QuantParams, qmin: number, qmax: number): number {
  const q = roundHalfEven(Math.fround(x / p.scale)) + p.zeroPoint;
  return Math.min(qmax, Math.max(qmin, q));
}

/**
 * DequantizeLinear on the host: scale · (q − zeroPoint), in float32.
 * @example dequantizeValue(8, { scale: 0.1, zeroPoint: 3 }); // ≈ 0.5
 */
export function dequantizeValue(q: number, p: QuantParams): number {
  return Math.fround(p.scale * (q - p.zeroPoint));
}

/**
 * The uint8 grid a weight tensor already lies on, if any: one scale and zero point such that every
 * value is exactly `scale · (q − zeroPoint)` with q an integer in 0…255. Weights exported from a
 * quantization-aware-trained network (the shared MobileNetV2 is Coral's uint8 model, dequantized:
 * every Conv weight sits on a per-tensor grid of ≤ 255 levels through 0) are stored on that grid
 * instead of being rounded onto a new one, which would add a second rounding error the network was
 * never trained to tolerate. Undefined for ordinary float weights (more than 256 distinct values, or
 * values off any common step).
 * @example weightGrid(Float32Array.of(-0.2, 0, 0.1, 0.3)); // { scale: 0.1, zeroPoint: 2 }
 */
export function weightGrid(w: Float32Array): QuantParams | undefined {
  const distinct = new Set<number>();
  for (let i = 0; i < w.length; i++) {
    distinct.add(w[i]);
    if (distinct.size > ACT_QMAX + 1) return undefined;
  }
  const values = Float64Array.from(distinct).sort();
  const lo = Math.min(values[0], 0);
  const hi = Math.max(values[values.length - 1], 0);
  if (hi === lo) return undefined;
  let gap = Infinity;
  for (let i = 1; i < values.length; i++) gap = Math.min(gap, values[i] - values[i - 1]);
  if (values.length === 1) gap = hi - lo;
  // The smallest gap carries float32 noise; the span over the whole grid averages it out.
  const steps = Math.round((hi - lo) / gap);
  if (steps < 1 || steps > ACT_QMAX) return undefined;
  const estimate = Math.fround((hi - lo) / steps);
  const zeroPoint = Math.round(-lo / estimate);
  if (zeroPoint < ACT_QMIN || zeroPoint > ACT_QMAX) return undefined;
  // The float32 scale the values were made with is the estimate or one of its float32 neighbours:
  // the one that gives every value back with the smallest worst error.
  let best: { scale: number; error: number } | undefined;
  for (const scale of float32Neighbours(estimate, 4)) {
    let error = 0;
    for (const v of values) {
      const q = Math.round(v / scale) + zeroPoint;
      if (q < ACT_QMIN || q > ACT_QMAX) error = Infinity;
      else error = Math.max(error, Math.abs(Math.fround(scale * (q - zeroPoint)) - v));
    }
    if (!best || error < best.error) best = { scale, error };
  }
  // On the grid means the float32 dequantization gives every value back (up to float32 rounding).
  if (!best || !(best.error <= best.scale * 1e-3)) return undefined;
  return { scale: best.scale, zeroPoint };
}

/** `x` (a positive float32) and its `k` float32 neighbours on either side. */
function float32Neighbours(x: number, k: number): number[] {
  const bits = new Uint32Array(Float32Array.of(x).buffer)[0];
  const out: number[] = [];
  for (let d = -k; d <= k; d++) out.push(new Float32Array(Uint32Array.of(bits + d).buffer)[0]);
  return out;
}
