/**
 * The folded head's Linear in int8 (precision 'int8'): it is a third of the MobileNetV2 scoring
 * graph's time in float32 (1296 patches × 1536 × 1024 multiply-adds per image), and onnxruntime's
 * integer GEMM does the same products 3–4× faster on this CPU. Each weight is two int8 digits per
 * output channel, w ≈ s·(hi + lo / 64) with |hi| ≤ 63 and |lo| ≤ 32: every digit stays in 7 bits,
 * so a pair of uint8 × int8 products never exceeds int16 on CPUs without VNNI (the reason for the
 * backbone's default `weightBits: 7`), while the weights keep ~13 bits. One digit alone (7 bits)
 * erred by 0.8 % and moved a one-epoch model's ranking of 20 test images to Spearman 0.989 (the
 * issue asks ≥ 0.99); the two digits cost one GEMM twice as wide, still about half the float one.
 * Activations are quantized per run (DynamicQuantizeLinear: uint8, per tensor, the batch's own
 * min..max), which onnxruntime fuses with the GEMM into one DynamicQuantizeMatMul.
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

/**
 * x [M, D] float32 → x·Wᵀ + b [M, Hd] float32 through uint8 activations and int8 weights (see the
 * top of heads/int8Linear.ts).
 * @example const hidden = addInt8Linear(g, features, folded.weight, folded.bias);
 */
export function addInt8Linear(g: GraphBuilder, x: string, weight: HostTensor<'float32'>, bias: HostTensor<'float32'>): string {
  const { q, scales } = quantizeLinearWeight(weight);
  const out = weight.dims[0];
  const [xq, xScale, xZero] = g.opN('DynamicQuantizeLinear', [x], 3);
  const acc = g.op('MatMulInteger', [xq, g.constant(q, 'head_w_int8'), xZero]);
  const digits = g.op('Mul', [g.cast(acc, 'float32'), g.op('Mul', [xScale, g.constant(scales, 'head_w_scale')])]);
  const hi = g.op('Slice', [digits, g.ints([0]), g.ints([out]), g.ints([1])]);
  const lo = g.op('Slice', [digits, g.ints([out]), g.ints([2 * out]), g.ints([1])]);
  return g.op('Add', [g.op('Add', [hi, lo]), g.constant(bias, 'head_b')]);
}
