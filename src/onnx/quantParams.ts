/**
 * Quantisation parameters as onnxruntime's static quantizer computes them: activations uint8,
 * asymmetric, one scale and zero point per tensor, the range widened to include 0 so that 0.0 (ReLU
 * floors, zero padding) is exact; Conv weights int8, symmetric (zero point 0) per output channel.
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
