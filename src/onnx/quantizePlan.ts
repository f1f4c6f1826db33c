/**
 * Which values of a float graph the static quantizer touches, decided from the graph alone so
 * that calibration (`collectRanges`) and the rewrite (`quantizeModel`) agree on the names:
 * - Conv (initializer weight) and two-activation Add are quantized node units: their float inputs
 *   and their output get QuantizeLinear/DequantizeLinear pairs, which onnxruntime fuses into
 *   QLinearConv / QLinearAdd at optimisation level 'all'.
 * - A Relu, or a Clip with min 0, that is the only reader of such an output is dropped and its
 *   output range used for the unit's output quantization instead: the uint8 saturation at zero
 *   point 0 and at the calibrated max (≤ the clip max) is the activation, exactly, as in
 *   onnxruntime's own quantizer.
 * - Pad (0 or edge/reflect padding) and MaxPool on a quantized value run on the uint8 data
 *   itself with its scale: they commute with quantization, and Pad has no int8 fusion of its own.
 * - A value named in `float` (mixed precision: its own uint8 rounding error measured too large,
 *   see `measureQuantizationError`) is never quantized: every unit that reads it (through
 *   Pads/MaxPools) or writes it stays a float node, since a QLinear kernel would need it in uint8.
 */
import type { GraphProto, NodeProto } from './model.js';
import type { HostTensor } from './tensor.js';

export interface QuantPlan {
  /** Float values that need a calibrated range, in graph order. */
  ranged: string[];
  /** Dropped activation node → the unit whose output takes the activation's output name. */
  dropped: Set<NodeProto>;
  /** Unit node → the name its output is written under (the dropped activation's output). */
  unitOutput: Map<NodeProto, string>;
  /** Conv and Add nodes that become quantized node units. */
  units: Set<NodeProto>;
  /** Pad/MaxPool nodes run on uint8 data: node → the quantized value it reads. */
  passThrough: Map<NodeProto, string>;
}

const isDefault = (n: NodeProto) => !n.domain || n.domain === 'ai.onnx';
/** Ops whose outputs are shapes or constants, never activations. */
const NOT_ACTIVATION = new Set(['Shape', 'Size', 'Constant', 'ConstantOfShape', 'NonZero']);

/** A scalar from an initializer or a Constant node, undefined when it is neither. */
function constantScalar(name: string, inits: Map<string, HostTensor>, producer: Map<string, NodeProto>): number | undefined {
  let t = inits.get(name);
  const p = producer.get(name);
  if (!t && p?.opType === 'Constant' && p.attributes.value?.kind === 'tensor') t = p.attributes.value.value;
  if (t?.data.length !== 1 || t.dtype === 'int64') return undefined;
  return Number(t.data[0]);
}

function isPassThrough(n: NodeProto, inits: Map<string, HostTensor>, producer: Map<string, NodeProto>): boolean {
  if (!isDefault(n)) return false;
  if (n.opType === 'MaxPool') return n.outputs.filter(Boolean).length === 1;
  if (n.opType !== 'Pad') return false;
  const mode = n.attributes.mode?.kind === 'string' ? n.attributes.mode.value : 'constant';
  if (mode !== 'constant') return mode === 'edge' || mode === 'reflect';
  // A non-zero pad value is not exact in uint8; an absent one is 0.
  return !n.inputs[2] || constantScalar(n.inputs[2], inits, producer) === 0;
}

function isDroppableActivation(n: NodeProto, inits: Map<string, HostTensor>, producer: Map<string, NodeProto>): boolean {
  if (!isDefault(n)) return false;
  if (n.opType === 'Relu') return true;
  if (n.opType !== 'Clip' || !n.inputs[1]) return false;
  const lo = constantScalar(n.inputs[1], inits, producer);
  const hi = n.inputs[2] ? constantScalar(n.inputs[2], inits, producer) : Infinity;
  return lo === 0 && hi !== undefined && hi > 0;
}

/**
 * The quantization plan of a graph (opset ≥ 11: Clip bounds and Pad values are inputs).
 * @example const { ranged } = planQuantization(decodeModel(bytes).graph);
 */
export function planQuantization(graph: GraphProto, float: Iterable<string> = []): QuantPlan {
  const keepFloat = new Set(float);
  const inits = new Map(graph.initializers.map((i) => [i.name, i.tensor]));
  const producer = new Map<string, NodeProto>();
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  }
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const activation = new Set(graph.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name));
  for (const n of graph.nodes) {
    if (!NOT_ACTIVATION.has(n.opType) && n.inputs.some((i) => activation.has(i))) for (const o of n.outputs) activation.add(o);
  }

  const candidates = new Set<NodeProto>();
  for (const n of graph.nodes) {
    if (!isDefault(n)) continue;
    const w = inits.get(n.inputs[1]);
    const b = n.inputs[2] ? inits.get(n.inputs[2]) : undefined;
    const conv = n.opType === 'Conv' && activation.has(n.inputs[0]) && w?.dtype === 'float32' && w.dims.length >= 3;
    if (conv && (!n.inputs[2] || b?.dtype === 'float32')) candidates.add(n);
    if (n.opType === 'Add' && n.inputs.length === 2 && n.inputs.every((i) => activation.has(i))) candidates.add(n);
  }

  const root = (v: string): string => {
    for (let p = producer.get(v); p && isPassThrough(p, inits, producer); p = producer.get(v)) v = p.inputs[0];
    return v;
  };
  const units = new Set<NodeProto>();
  const dropped = new Set<NodeProto>();
  const unitOutput = new Map<NodeProto, string>();
  const ranged = new Set<string>();
  for (const n of candidates) {
    const ins = (n.opType === 'Conv' ? [n.inputs[0]] : n.inputs).map(root);
    const out = n.outputs[0];
    const only = readers.get(out);
    const act = only?.length === 1 ? only[0] : undefined;
    const drop = act && !graphOutputs.has(out) && isDroppableActivation(act, inits, producer) ? act : undefined;
    const written = drop ? drop.outputs[0] : out;
    if (keepFloat.has(written) || ins.some((i) => keepFloat.has(i))) continue;
    units.add(n);
    for (const i of ins) ranged.add(i);
    if (drop) dropped.add(drop);
    unitOutput.set(n, written);
    ranged.add(written);
  }

  // In graph order, so that a chain of Pads/MaxPools inherits from its quantized root.
  const passThrough = new Map<NodeProto, string>();
  const quantized = new Set(ranged);
  for (const n of graph.nodes) {
    if (dropped.has(n) || !quantized.has(n.inputs[0]) || ranged.has(n.outputs[0]) || !isPassThrough(n, inits, producer)) continue;
    passThrough.set(n, n.inputs[0]);
    quantized.add(n.outputs[0]);
  }
  const order = [...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)];
  const rank = new Map(order.map((v, i) => [v, i]));
  return { ranged: [...ranged].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0)), dropped, unitOutput, units, passThrough };
}
