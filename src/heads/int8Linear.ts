/**
 * The folded head's Linear in int8 (precision 'int8'): it is a third of the MobileNetV2 scoring
 * graph's time in float32 (1296 patches × 1536 × 1024 multiply-adds per image), and onnxruntime's
 * integer GEMM does the same products 3–4× faster on this CPU. Each weight is two int8 digits per
 * output channel, w ≈ s·(hi + lo / 64) with |hi| ≤ 63 and |lo| ≤ 32: every digit stays in 7 bits,
 * so a pair of uint8 × int8 products never exceeds int16 on CPUs without VNNI (the reason for the
 * backbone's default `weightBits: 7`), while the weights keep ~13 bits. One digit alone (7 bits)
 * erred by 0.8 % and moved a one-epoch model's ranking of 20 test images to Spearman 0.989 (the
 * issue asks ≥ 0.99); the two digits cost one GEMM twice as wide: with the per-patch ranges below
 * the Linear takes about three quarters of the float one's time (README, "int8").
 * Activations are quantized per patch: each row x_r of the features as uint8 steps of its own
 * min..max, x_r ≈ lo_r + step_r·q_r, so x_r·Wᵀ = step_r·(q_r·Wᵀ) + lo_r·Σ_i W[:, i], the first an
 * integer GEMM, the second a rank-one term from the weights' row sums. One range for the whole
 * batch (DynamicQuantizeLinear, as before) let a few wide rows set every row's step: with the
 * head barely trained (a one-epoch model, two optimizer steps) that alone moved the ranking of 20
 * test images to Spearman 0.988 with the backbone all float (README, "int8").
 */
import type { GraphBuilder } from '../onnx/builder.js';
import type { HostTensor } from '../onnx/tensor.js';

/** The first digit's levels on each side of zero (7-bit symmetric). */
const LEVELS = 63;
/** The second digit's weight relative to the first. */
const RADIX = 64;

/**
 * `weight` [Hd, D] as two int8 digits in MatMul layout, q [D, 2·Hd]: column o holds hi = round(w / s)
 * and column Hd + o holds lo = round((w / s − hi) · 64), s = max|w_row| / 63 (1 for an all-zero
 * row); `scales` [2·Hd] are s and s / 64.
 * @throws RangeError when weight is not 2-D.
 * @example const { q, scales } = quantizeLinearWeight(folded.weight);
 */
export function quantizeLinearWeight(weight: HostTensor<'float32'>): { q: HostTensor<'int8'>; scales: HostTensor<'float32'> } {
  if (weight.dims.length !== 2) throw new RangeError(`quantizeLinearWeight: weight must be [out, in], got [${weight.dims.join(', ')}]`);
  const [out, inDim] = weight.dims;
  const w = weight.data;
  const scales = new Float32Array(2 * out);
  const q = new Int8Array(2 * out * inDim);
  for (let o = 0; o < out; o++) {
    let peak = 0;
    for (let i = 0; i < inDim; i++) peak = Math.max(peak, Math.abs(w[o * inDim + i]));
    const s = peak > 0 ? peak / LEVELS : 1;
    scales[o] = s;
    scales[out + o] = s / RADIX;
    for (let i = 0; i < inDim; i++) {
      const v = w[o * inDim + i] / s;
      const hi = Math.round(v);
      q[i * 2 * out + o] = hi;
      q[i * 2 * out + out + o] = Math.round((v - hi) * RADIX);
    }
  }
  return { q: { dtype: 'int8', dims: [inDim, 2 * out], data: q }, scales: { dtype: 'float32', dims: [2 * out], data: scales } };
}

/** Steps per row: the uint8 range. */
const ACTIVATION_STEPS = 255;

/**
 * x [M, D] float32 → x·Wᵀ + b [M, Hd] float32 through per-row uint8 activations and int8 weights
 * (see the top of heads/int8Linear.ts).
 * @example const hidden = addInt8Linear(g, features, folded.weight, folded.bias);
 */
export function addInt8Linear(g: GraphBuilder, x: string, weight: HostTensor<'float32'>, bias: HostTensor<'float32'>): string {
  const { q, scales } = quantizeLinearWeight(weight);
  const [out, inDim] = weight.dims;
  const rowSums = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let sum = 0;
    for (let i = 0; i < inDim; i++) sum += weight.data[o * inDim + i];
    rowSums[o] = sum;
  }
  const lo = g.op('ReduceMin', [x], { axes: [1], keepdims: 1 });
  const range = g.op('Sub', [g.op('ReduceMax', [x], { axes: [1], keepdims: 1 }), lo]);
  // A constant row has range 0: any positive step gives q = 0 and the row is lo exactly.
  const step = g.op('Div', [g.op('Max', [range, g.scalarF32(1e-30)]), g.scalarF32(ACTIVATION_STEPS)]);
  const levels = g.op('Clip', [g.op('Round', [g.op('Div', [g.op('Sub', [x, lo]), step])]), g.scalarF32(0), g.scalarF32(ACTIVATION_STEPS)]);
  const acc = g.op('MatMulInteger', [g.cast(levels, 'uint8'), g.constant(q, 'head_w_int8')]);
  const digits = g.op('Mul', [g.cast(acc, 'float32'), g.op('Mul', [step, g.constant(scales, 'head_w_scale')])]);
  const hi = g.op('Slice', [digits, g.ints([0]), g.ints([out]), g.ints([1])]);
  const low = g.op('Slice', [digits, g.ints([out]), g.ints([2 * out]), g.ints([1])]);
  const offset = g.op('Mul', [lo, g.constant({ dtype: 'float32', dims: [out], data: rowSums }, 'head_w_rowsum')]);
  return g.op('Add', [g.op('Add', [g.op('Add', [hi, low]), offset]), g.constant(bias, 'head_b')]);
}
