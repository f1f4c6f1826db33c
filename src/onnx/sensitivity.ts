/**
 * Mixed precision by what each quantized value does to the graph's outputs: every value the
 * quantizer would put in uint8 is quantized alone (a QuantizeLinear→DequantizeLinear pair in the
 * float graph, with the scale and zero point `quantizeModel` would give it) and the outputs'
 * relative error against float32 measured on calibration batches. A value's own round-trip error
 * says little about this: on MobileNetV2 the first ReLU6 output errs by 0.2 % itself but moves
 * the feature taps by 2.4 %, since the depthwise convolution after it amplifies its rounding,
 * while a bottleneck that errs by 1.2 % moves them by 0.6 %. Rounding errors of different values
 * are nearly independent, so the all-int8 error is close to the root sum of squares of these
 * (measured there: predicted 5.5 %, actual 5.9 %), which lets `chooseFloatValues` keep in float32
 * the fewest values that bring the prediction under a budget.
 */
import { encodeModel, type GraphProto, type ModelProto, type NodeProto } from './model.js';
import { activationParams, type TensorRange } from './quantParams.js';
import { type OrtTensor, Session } from './session.js';
import { f32, type HostTensor, tensor } from './tensor.js';

type Batch = Record<string, HostTensor | OrtTensor>;

/** `model` with value `v` rounded through uint8 (as the quantizer would), everything else float. */
function withValueQuantized(model: ModelProto, v: string, range: TensorRange): ModelProto {
  const g = model.graph;
  const p = activationParams(range);
  const scale = `${v}__sens_scale`;
  const zero = `${v}__sens_zero_point`;
  const q = `${v}__sens_q`;
  // A produced value: its producer writes `float` and `v` becomes the round trip, so readers and
  // graph outputs see the rounding. A graph input: its readers read `rounded` instead.
  const isInput = g.inputs.some((i) => i.name === v);
  const from = isInput ? v : `${v}__sens_float`;
  const to = isInput ? `${v}__sens_rounded` : v;
  const qdq: NodeProto[] = [
    { opType: 'QuantizeLinear', inputs: [from, scale, zero], outputs: [q], name: `${v}__sens_quantize`, attributes: {} },
    { opType: 'DequantizeLinear', inputs: [q, scale, zero], outputs: [to], name: `${v}__sens_dequantize`, attributes: {} },
  ];
  const nodes: NodeProto[] = isInput ? [...qdq] : [];
  for (const n of g.nodes) {
    if (isInput) {
      nodes.push({ ...n, inputs: n.inputs.map((i) => (i === v ? to : i)) });
    } else if (n.outputs.includes(v)) {
      nodes.push({ ...n, outputs: n.outputs.map((o) => (o === v ? from : o)) }, ...qdq);
    } else {
      nodes.push(n);
    }
  }
  const initializers = [
    ...g.initializers,
    { name: scale, tensor: f32([], [p.scale]) },
    { name: zero, tensor: tensor('uint8', [], Uint8Array.of(p.zeroPoint)) },
  ];
  const graph: GraphProto = { ...g, nodes, initializers };
  return { ...model, graph };
}

/** Σ‖a − b‖² and Σ‖b‖² of one output, accumulated into `acc`. */
function accumulate(acc: { e: number; x: number }, a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    acc.e += d * d;
    acc.x += b[i] * b[i];
  }
}

/**
 * Each value's effect on the graph's outputs when it alone is rounded through uint8: the relative
 * error ‖y − y_float‖ / ‖y‖ over the batches, root mean square over the outputs. `model` is the
 * prepared float model (`prepareForQuantization`), `ranges` what `collectRanges` measured on it;
 * `batches` are run once in float32 and once per value (keep them few: 8 images measure it well).
 * @throws Error when there are no batches, naming a value that has no range, or when onnxruntime
 * cannot run the model.
 * @example
 * const ranges = await collectRanges(prepared, batches);
 * const float = chooseFloatValues(await measureSensitivity(prepared, ranges, batches), 0.03);
 */
export async function measureSensitivity(
  model: ModelProto,
  ranges: ReadonlyMap<string, TensorRange>,
  batches: readonly Batch[],
  opts: { intraOpThreads?: number } = {},
): Promise<Map<string, number>> {
  if (batches.length === 0) throw new Error('batches: expected at least one calibration batch');
  const outputs = model.graph.outputs.map((o) => o.name);
  const runAll = async (m: ModelProto, label: string) => {
    const session = await Session.create(encodeModel(m), label, { intraOpThreads: opts.intraOpThreads });
    try {
      const results: Record<string, Float32Array>[] = [];
      for (const feeds of batches) {
        const out = await session.run(feeds, outputs);
        results.push(Object.fromEntries(outputs.map((o) => [o, out[o].data as Float32Array])));
      }
      return results;
    } finally {
      await session.release();
    }
  };
  const reference = await runAll(model, 'sensitivity (float32)');
  const result = new Map<string, number>();
  for (const [v, range] of ranges) {
    const got = await runAll(withValueQuantized(model, v, range), `sensitivity (${v} in uint8)`);
    let sum = 0;
    for (const o of outputs) {
      const acc = { e: 0, x: 0 };
      got.forEach((r, i) => accumulate(acc, r[o], reference[i][o]));
      sum += acc.x > 0 ? acc.e / acc.x : acc.e > 0 ? Infinity : 0;
    }
    result.set(v, Math.sqrt(sum / outputs.length));
  }
  return result;
}

/**
 * The fewest values to keep in float32 so that the predicted output error of the rest in uint8,
 * √Σ sensitivity², is at most `budget`: the most sensitive first. Infinity keeps none float; 0
 * keeps every value with any effect.
 * @throws RangeError when `budget` is negative or NaN.
 * @example chooseFloatValues(new Map([['a', 0.03], ['b', 0.01]]), 0.02); // ['a']
 */
export function chooseFloatValues(sensitivity: ReadonlyMap<string, number>, budget: number): string[] {
  if (!(budget >= 0)) throw new RangeError(`budget: expected a number ≥ 0, got ${budget}`);
  const ranked = [...sensitivity].sort((a, b) => b[1] - a[1]);
  let rest = ranked.reduce((s, [, e]) => s + e * e, 0);
  const float: string[] = [];
  for (const [v, e] of ranked) {
    if (Math.sqrt(Math.max(rest, 0)) <= budget || e === 0) break;
    float.push(v);
    rest -= e * e;
  }
  return float;
}

/**
 * The taps' predicted relative error with every value but `float` in uint8: √Σ sensitivity² over
 * the values left quantized (the roundings being nearly independent).
 * @example predictedError(new Map([['a', 0.03], ['b', 0.04]]), ['b']); // 0.03
 */
export function predictedError(sensitivity: ReadonlyMap<string, number>, float: readonly string[]): number {
  const kept = new Set(float);
  let sum = 0;
  for (const [v, e] of sensitivity) if (!kept.has(v)) sum += e * e;
  return Math.sqrt(sum);
}
