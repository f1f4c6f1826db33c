/**
 * `export --fp16`: large float32 weights are stored as float16 and cast back to float32 by a Cast
 * node inside the graph, halving the file; onnxruntime folds the casts at load, so inference still
 * runs in float32 on weights rounded to float16. Small tensors (thresholds, scalars, shapes) keep
 * float32 so labels and normalisation are unchanged.
 */
import type { GraphProto, NodeProto } from '../onnx/model.js';
import { numel, tensor } from '../onnx/tensor.js';

/** Elements from which a float32 initializer is stored as float16. */
export const FP16_MIN_ELEMENTS = 256;

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);

/** IEEE float32 → float16 bit pattern, round to nearest even (overflow → ±inf, NaN kept). */
export function toHalfBits(value: number): number {
  f32View[0] = value;
  const x = u32View[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function weightsToFp16(graph: GraphProto): GraphProto {
  const casts: NodeProto[] = [];
  const initializers = graph.initializers.map((init) => {
    const t = init.tensor;
    if (t.dtype !== 'float32' || numel(t.dims) < FP16_MIN_ELEMENTS) return init;
    const src = t.data as Float32Array;
    const half = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) half[i] = toHalfBits(src[i]);
    const name = `${init.name}__fp16`;
    casts.push({ opType: 'Cast', inputs: [name], outputs: [init.name], name: `Cast_fp16_${casts.length}`, attributes: { to: { kind: 'int', value: 1 } } });
    return { name, tensor: tensor('float16', t.dims, half) };
  });
  return { ...graph, initializers, nodes: [...casts, ...graph.nodes] };
}
