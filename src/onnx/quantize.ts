/**
 * Static post-training quantization of a float32 graph into the QDQ format: the float graph with
 * QuantizeLinear/DequantizeLinear pairs around Conv and Add, which onnxruntime's CPU provider fuses
 * into QLinearConv and QLinearAdd (int8 kernels) at optimisation level 'all', while level
 * 'disabled' runs the same graph op by op. What is quantized is decided by `planQuantization`;
 * the activation ranges come from `collectRanges`.
 */
import { pruneNodes, upgradeGraph } from './compose.js';
import { foldBatchNorm } from './foldBatchNorm.js';
import type { GraphProto, Initializer, ModelProto, NodeProto } from './model.js';
import { activationParams, channelScales, type QuantParams, roundHalfEven, type TensorRange, weightGrid } from './quantParams.js';
import { planQuantization } from './quantizePlan.js';
import { f32, type HostTensor, tensor } from './tensor.js';

/** Per-axis DequantizeLinear (per-channel weights) needs opset 13. */
const QDQ_OPSET = 13;

/**
 * Options of `quantizeModel`.
 * @example const opts: QuantizeOptions = { weightBits: 7 };
 */
export interface QuantizeOptions {
  /**
   * 8: int8 weights in [−127, 127]. 7: weights in [−63, 63] ("reduce range"). Default 7, by
   * measurement: on AVX2 CPUs without VNNI (this project's machines) onnxruntime's u8×s8 kernel adds
   * pairs of products in int16 (VPMADDUBSW), which saturates when 2·255·|w| > 32767. With 8-bit
   * weights MobileNetV2's feature taps came out 38–40 % off fp32 under the fused kernels against
   * 11–13 % op by op (the same graph at optimisation 'disabled'), while 7-bit weights gave
   * 17–21 % both ways; the random WideResNet-50-2 gave 8–9 % (8-bit) against 6–7 % (7-bit).
   * On a VNNI or ARM CPU 8-bit weights are the better choice.
   */
  weightBits?: 8 | 7;
  /**
   * Values kept in float32 (mixed precision): no QuantizeLinear on them, and the Conv/Add units
   * that read or write them stay float nodes (`planQuantization`). Their ranges are not needed.
   * Default none: everything `calibrationTensors` lists is quantized.
   */
  float?: readonly string[];
  /**
   * Weights that already lie on a uint8 grid (`weightGrid`: a quantization-aware-trained network's
   * weights, dequantized) are stored on it exactly, uint8 per tensor, instead of being rounded to
   * `weightBits` per channel. Default true; false rounds every weight per channel.
   */
  weightGrid?: boolean;
}

/** Activation ranges by value name, as a Map or as the plain object JSON gives back. */
export type RangeTable = ReadonlyMap<string, TensorRange> | Readonly<Record<string, TensorRange>>;

function rangeOf(ranges: RangeTable, name: string): TensorRange | undefined {
  return ranges instanceof Map ? ranges.get(name) : (ranges as Record<string, TensorRange>)[name];
}

/**
 * The float graph as the quantizer and the calibration see it: opset ≥ 13 and BatchNormalization
 * folded into its Conv. `collectRanges` runs this graph, `quantizeModel` rewrites it.
 * @throws Error when the default-domain opset is older than 11.
 * @example const prepared = prepareForQuantization(decodeModel(bytes));
 */
export function prepareForQuantization(model: ModelProto): ModelProto {
  const opset = Math.max(model.opsetVersion, QDQ_OPSET);
  return { ...model, opsetVersion: opset, graph: foldBatchNorm(upgradeGraph(model.graph, model.opsetVersion, opset)) };
}

/**
 * The values whose ranges `quantizeModel` needs (activations entering and leaving Conv/Add units).
 * With `float`, the values left when those are kept float (`QuantizeOptions.float`).
 * @example const names = calibrationTensors(prepareForQuantization(model));
 */
export function calibrationTensors(model: ModelProto, float: readonly string[] = []): string[] {
  return planQuantization(model.graph, float).ranged;
}

/**
 * The Conv weights `quantizeModel` quantizes (those of the quantized units), by name, and of them
 * the ones it stores exactly on their own uint8 grid (`weightGrid`: weights that already lie on
 * one); the rest are rounded per channel. `onGrid` is empty for float-trained weights.
 * @example const { all, onGrid } = quantizedWeights(prepared); // 53 and 53 for the shared MobileNetV2
 */
export function quantizedWeights(model: ModelProto, float: readonly string[] = []): { all: string[]; onGrid: string[] } {
  const inits = new Map(model.graph.initializers.map((i) => [i.name, i.tensor]));
  const all = new Set<string>();
  const onGrid = new Set<string>();
  for (const n of planQuantization(model.graph, float).units) {
    if (n.opType !== 'Conv') continue;
    all.add(n.inputs[1]);
    const w = inits.get(n.inputs[1]);
    if (w?.dtype === 'float32' && weightGrid(w.data as Float32Array)) onGrid.add(n.inputs[1]);
  }
  return { all: [...all], onGrid: [...onGrid] };
}

/**
 * Rewrites a float32 model (after `prepareForQuantization`) into a QDQ model: activations uint8
 * asymmetric per tensor, Conv weights int8 symmetric per output channel (axis 0) unless they already lie
 * on a uint8 grid (`QuantizeOptions.weightGrid`: then uint8 on it, per tensor), Conv biases int32
 * with scale x_scale·w_scale[c]. Graph inputs and outputs keep their names and float32 type (an
 * output is the DequantizeLinear of its quantized value).
 * @throws Error naming the value when `ranges` lacks a range `calibrationTensors` lists;
 * RangeError when a range is not finite.
 * @example
 * const prepared = prepareForQuantization(decodeModel(bytes));
 * const ranges = await collectRanges(prepared, batches);
 * const int8 = encodeModel(quantizeModel(prepared, ranges, { weightBits: 7 }));
 */
export function quantizeModel(model: ModelProto, ranges: RangeTable, opts: QuantizeOptions = {}): ModelProto {
  const graph = model.graph;
  if (model.opsetVersion < QDQ_OPSET) throw new Error(`model: opset ${model.opsetVersion} < ${QDQ_OPSET}; call prepareForQuantization first`);
  const qmax = (opts.weightBits ?? 7) === 8 ? 127 : 63;
  const plan = planQuantization(graph, opts.float);
  const taken = new Set([...graph.initializers.map((i) => i.name), ...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const inits = new Map(graph.initializers.map((i) => [i.name, i.tensor]));
  const added: Initializer[] = [];
  const constant = (base: string, t: HostTensor) => {
    const name = fresh(base);
    added.push({ name, tensor: t });
    return name;
  };
  const head: NodeProto[] = [];
  const body: NodeProto[] = [];
  let k = 0;
  const node = (into: NodeProto[], opType: string, inputs: string[], output: string, axis?: number): void => {
    const attributes: NodeProto['attributes'] = axis === undefined ? {} : { axis: { kind: 'int', value: axis } };
    into.push({ opType, inputs, outputs: [output], name: `${opType}_qdq_${k++}`, attributes });
  };

  // Every quantized value v: params, and the names of its uint8 tensor and scale/zero point.
  const params = new Map<string, QuantParams & { q: string; scaleName: string; zpName: string }>();
  const quantized = (v: string, p: QuantParams, shared?: { scaleName: string; zpName: string }) => {
    const entry = {
      scale: p.scale,
      zeroPoint: p.zeroPoint,
      q: fresh(`${v}_quantized`),
      scaleName: shared?.scaleName ?? constant(`${v}_scale`, f32([], [p.scale])),
      zpName: shared?.zpName ?? constant(`${v}_zero_point`, tensor('uint8', [], Uint8Array.of(p.zeroPoint))),
    };
    params.set(v, entry);
    return entry;
  };
  for (const v of plan.ranged) {
    const r = rangeOf(ranges, v);
    if (!r) throw new Error(`ranges: no range for '${v}' (calibrate the values calibrationTensors() lists)`);
    quantized(v, activationParams(r));
  }

  // Values read through a DequantizeLinear: whoever reads them as float. Shape and Size read the
  // uint8 tensor instead (same shape): a dynamic Pad's size arithmetic must not cost a dequantization.
  const shapeOnly = (n: NodeProto) => (n.opType === 'Shape' || n.opType === 'Size') && (!n.domain || n.domain === 'ai.onnx');
  const floatReaders = new Set(graph.outputs.map((o) => o.name));
  for (const n of graph.nodes) {
    if (plan.dropped.has(n) || shapeOnly(n)) continue;
    n.inputs.forEach((i, slot) => (slot === 0 && plan.passThrough.has(n) ? undefined : floatReaders.add(i)));
  }
  const renamed = new Map<string, string>();
  const emitQdq = (into: NodeProto[], v: string, source: string, dqName: string) => {
    const p = params.get(v)!;
    node(into, 'QuantizeLinear', [source, p.scaleName, p.zpName], p.q);
    if (floatReaders.has(v)) node(into, 'DequantizeLinear', [p.q, p.scaleName, p.zpName], dqName);
  };
  for (const input of graph.inputs) {
    if (!params.has(input.name)) continue;
    const dq = fresh(`${input.name}_dequantized`);
    renamed.set(input.name, dq);
    emitQdq(head, input.name, input.name, dq);
  }

  const weightDone = new Map<string, { scales: Float32Array; name: string }>();
  const quantizeWeight = (name: string) => {
    const done = weightDone.get(name);
    if (done) return done;
    const w = inits.get(name) as HostTensor<'float32'>;
    const channels = w.dims[0];
    const grid = opts.weightGrid === false ? undefined : weightGrid(w.data);
    if (grid) {
      // Exactly on its own grid: uint8 with one scale and zero point (onnxruntime's u8u8 kernels,
      // which widen to int16 and cannot saturate, whatever the CPU).
      const q = Uint8Array.from(w.data, (v) => Math.round(v / grid.scale) + grid.zeroPoint);
      const qName = constant(`${name}_quantized`, tensor('uint8', w.dims, q));
      const sName = constant(`${name}_scale`, f32([], [grid.scale]));
      const zName = constant(`${name}_zero_point`, tensor('uint8', [], Uint8Array.of(grid.zeroPoint)));
      const out = fresh(`${name}_dequantized`);
      node(head, 'DequantizeLinear', [qName, sName, zName], out);
      const entry = { scales: new Float32Array(channels).fill(grid.scale), name: out };
      weightDone.set(name, entry);
      return entry;
    }
    const scales = channelScales(w.data, channels, qmax);
    const per = w.data.length / channels;
    const q = new Int8Array(w.data.length);
    for (let i = 0; i < q.length; i++) q[i] = Math.max(-qmax, Math.min(qmax, roundHalfEven(Math.fround(w.data[i] / scales[Math.floor(i / per)]))));
    const qName = constant(`${name}_quantized`, tensor('int8', w.dims, q));
    const sName = constant(`${name}_scale`, f32([channels], scales));
    const zName = constant(`${name}_zero_point`, tensor('int8', [channels], new Int8Array(channels)));
    const out = fresh(`${name}_dequantized`);
    node(head, 'DequantizeLinear', [qName, sName, zName], out, 0);
    const entry = { scales, name: out };
    weightDone.set(name, entry);
    return entry;
  };
  const quantizeBias = (name: string, xScale: number, wScales: Float32Array) => {
    const b = inits.get(name) as HostTensor<'float32'>;
    const scales = wScales.map((s) => Math.fround(xScale * s));
    const q = Int32Array.from(b.data, (v, c) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, roundHalfEven(v / scales[c]))));
    const qName = constant(`${name}_quantized`, tensor('int32', b.dims, q));
    const sName = constant(`${name}_scale`, f32([scales.length], scales));
    const zName = constant(`${name}_zero_point`, tensor('int32', [scales.length], new Int32Array(scales.length)));
    const out = fresh(`${name}_dequantized`);
    node(head, 'DequantizeLinear', [qName, sName, zName], out, 0);
    return out;
  };

  const read = (i: string) => renamed.get(i) ?? i;
  for (const n of graph.nodes) {
    if (plan.dropped.has(n)) continue;
    const source = plan.passThrough.get(n);
    if (source !== undefined) {
      const from = params.get(source)!;
      const inputs = n.inputs.map(read);
      inputs[0] = from.q;
      if (n.opType === 'Pad' && (n.attributes.mode?.kind !== 'string' || n.attributes.mode.value === 'constant')) {
        inputs[2] = from.zpName;
      }
      const out = n.outputs[0];
      const p = quantized(out, from, from);
      body.push({ ...n, inputs, outputs: [p.q] });
      if (floatReaders.has(out)) node(body, 'DequantizeLinear', [p.q, p.scaleName, p.zpName], out);
      continue;
    }
    let inputs = n.inputs.map(read);
    if (shapeOnly(n) && params.has(n.inputs[0])) inputs = [params.get(n.inputs[0])!.q];
    if (plan.units.has(n) && n.opType === 'Conv') {
      const w = quantizeWeight(n.inputs[1]);
      inputs = [inputs[0], w.name];
      const x = params.get(n.inputs[0]) as QuantParams;
      if (n.inputs[2]) inputs.push(quantizeBias(n.inputs[2], x.scale, w.scales));
    }
    const outName = plan.unitOutput.get(n);
    if (outName !== undefined) {
      const pre = fresh(`${outName}_prequantized`);
      body.push({ ...n, inputs, outputs: [pre, ...n.outputs.slice(1)] });
      emitQdq(body, outName, pre, outName);
      continue;
    }
    // Any other producer of a quantized value (a Relu that could not be dropped, …).
    const outputs = n.outputs.map((o) => (params.has(o) ? fresh(`${o}_prequantized`) : o));
    body.push({ ...n, inputs, outputs });
    n.outputs.forEach((o, i) => params.has(o) && emitQdq(body, o, outputs[i], o));
  }
  // Drops what only the removed activations read (their Clip bounds) and unused outputs' producers.
  const nodes = pruneNodes(
    { ...graph, nodes: [...head, ...body] },
    graph.outputs.map((o) => o.name),
    'quantized model',
  );
  const used = new Set([...nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.name)]);
  const initializers = [...graph.initializers, ...added].filter((i) => used.has(i.name));
  const out: GraphProto = { ...graph, nodes, initializers };
  return { ...model, graph: out };
}
