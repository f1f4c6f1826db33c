/**
 * Specialisation of a graph to a known input size. Backbones converted from TensorFlow (the shared
 * MobileNetV2: 53 convolutions, 4438 nodes) compute "SAME" padding at run time: Shape → integer
 * arithmetic → Pad before every Conv. onnxruntime can fold none of it while the input's size is
 * symbolic, and each explicit Pad breaks its blocked (NCHWc) convolution chain with a reorder on
 * either side: inside the scoring graph the backbone ran ~1300 kernels, a third of its time in Pad
 * and reorders. With the spatial size known (the crop), those values are constants: evaluated once
 * here, then zero Pads become the padding of the Conv they feed.
 */
import { encodeModel, ONNX_DTYPE, type GraphProto, type ModelProto, type NodeProto } from './model.js';
import { pruneNodes } from './compose.js';
import { Session, fromOrt } from './session.js';
import type { DType, HostTensor } from './tensor.js';

const DTYPE_OF_ONNX = new Map<number, DType>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

/** Ops whose output dtype is their first input's; with known inputs their outputs are constants. */
const SAME_DTYPE = new Set([
  'Abs',
  'Add',
  'Ceil',
  'Concat',
  'Div',
  'Expand',
  'Floor',
  'Gather',
  'Identity',
  'Max',
  'Min',
  'Mod',
  'Mul',
  'Neg',
  'Range',
  'ReduceMax',
  'ReduceMin',
  'ReduceProd',
  'ReduceSum',
  'Reshape',
  'Slice',
  'Squeeze',
  'Sub',
  'Tile',
  'Transpose',
  'Unsqueeze',
]);
const BOOL_OUT = new Set(['Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'Not', 'And', 'Or']);
/** Ops whose output sizes follow their input values: a graph with one has no size to specialise to. */
const DATA_SIZED = new Set(['NonZero', 'Unique', 'Compress', 'TopK', 'NonMaxSuppression', 'Loop', 'If', 'Scan']);

/** The dtype a shape-only node writes, or undefined when the node is not one we fold through. */
function foldedDtype(n: NodeProto, dtypes: ReadonlyMap<string, DType>): DType | undefined {
  if (n.domain) return undefined;
  const attr = (k: string) => n.attributes[k];
  switch (n.opType) {
    case 'Shape':
      return 'int64';
    case 'Constant': {
      const v = attr('value');
      if (v?.kind === 'tensor') return v.value.dtype;
      if (attr('value_int') || attr('value_ints')) return 'int64';
      return attr('value_float') || attr('value_floats') ? 'float32' : undefined;
    }
    case 'ConstantOfShape': {
      const v = attr('value');
      return v?.kind === 'tensor' ? v.value.dtype : 'float32';
    }
    case 'Cast': {
      const to = attr('to');
      return to?.kind === 'int' ? DTYPE_OF_ONNX.get(to.value) : undefined;
    }
    case 'Where':
      return dtypes.get(n.inputs[1]);
  }
  if (BOOL_OUT.has(n.opType)) return 'bool';
  return SAME_DTYPE.has(n.opType) ? dtypes.get(n.inputs[0]) : undefined;
}

/**
 * The values of `graph` that depend on its inputs' shapes only (Shape outputs and integer
 * arithmetic on them and on constants), with their dtypes: those that a node outside the set reads.
 * None when a node's output size follows its input values (NonZero, TopK, control flow, …).
 */
export function shapeOnlyValues(graph: GraphProto): Map<string, DType> {
  if (graph.nodes.some((n) => DATA_SIZED.has(n.opType))) return new Map();
  const known = new Map<string, DType>(graph.initializers.map((i) => [i.name, i.tensor.dtype]));
  for (const n of graph.nodes) {
    // Shape reads a tensor's size, not its values; every other node needs all inputs known.
    const ready = n.opType === 'Shape' || n.inputs.every((i) => i === '' || known.has(i));
    const dtype = ready && n.outputs.length === 1 ? foldedDtype(n, known) : undefined;
    if (dtype) known.set(n.outputs[0], dtype);
  }
  const initializers = new Set(graph.initializers.map((i) => i.name));
  const boundary = new Map<string, DType>();
  const folded = (v: string) => known.has(v) && !initializers.has(v);
  for (const n of graph.nodes) {
    if (n.outputs.length === 1 && folded(n.outputs[0])) continue;
    for (const i of n.inputs) if (folded(i)) boundary.set(i, known.get(i)!);
  }
  for (const o of graph.outputs) if (folded(o.name)) boundary.set(o.name, known.get(o.name)!);
  return boundary;
}

function sameTensor(a: HostTensor, b: HostTensor): boolean {
  if (a.dtype !== b.dtype || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return false;
  const x = a.data as ArrayLike<number | bigint>;
  const y = b.data as ArrayLike<number | bigint>;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * `model` with every shape-only value (see `shapeOnlyValues`) replaced by its value for `input`
 * [N, C, H, W] at N = 1 and N = 2: a value that differs between the two depends on the batch and
 * stays computed. The nodes left without a use are dropped. A model with no such values comes back
 * as it is. The model is run twice on zeros to read the values (onnxruntime).
 * @throws Error when onnxruntime cannot run the model at that size (naming `source`).
 * @example const fixed = await foldShapeValues(decodeModel(bytes), 'input', [3, 288, 288], 'backbone.onnx');
 */
export async function foldShapeValues(model: ModelProto, inputName: string, chw: readonly number[], source: string): Promise<ModelProto> {
  const graph = model.graph;
  const boundary = shapeOnlyValues(graph);
  if (boundary.size === 0) return model;
  const names = [...boundary.keys()];
  const probe: ModelProto = {
    ...model,
    graph: { ...graph, outputs: [...graph.outputs, ...names.map((name) => ({ name, dtype: boundary.get(name)! }))] },
  };
  const session = await Session.create(encodeModel(probe), `${source} (input size ${chw.join('×')})`);
  const values: Record<string, HostTensor>[] = [];
  try {
    for (const n of [1, 2]) {
      const zeros = { dtype: 'float32' as const, dims: [n, ...chw], data: new Float32Array(n * chw.reduce((a, b) => a * b, 1)) };
      const out = await session.run({ [inputName]: zeros }, names);
      values.push(Object.fromEntries(names.map((k) => [k, fromOrt(out[k])])));
    }
  } finally {
    await session.release();
  }
  const constants = names.filter((k) => sameTensor(values[0][k], values[1][k]));
  if (constants.length === 0) return model;
  const fixed = new Set(constants);
  const initializers = [...graph.initializers, ...constants.map((name) => ({ name, tensor: values[0][name] }))];
  const rewired: GraphProto = { ...graph, initializers, nodes: graph.nodes.filter((n) => !n.outputs.some((o) => fixed.has(o))) };
  const nodes = pruneNodes(
    rewired,
    graph.outputs.map((o) => o.name),
    source,
  );
  const used = new Set([...nodes.flatMap((n) => n.inputs), ...graph.outputs.map((o) => o.name)]);
  return { ...model, graph: { ...rewired, nodes, initializers: initializers.filter((i) => used.has(i.name)) } };
}

/** A constant initializer's values as numbers (undefined when `name` is not an initializer). */
function constantValues(graph: GraphProto, name: string): number[] | undefined {
  const init = graph.initializers.find((i) => i.name === name);
  return init ? Array.from(init.tensor.data as ArrayLike<number | bigint>, Number) : undefined;
}

/** The same constant: one initializer, or two holding the same scalar. */
function sameScalar(graph: GraphProto, a: string, b: string): boolean {
  if (a === b) return true;
  const x = constantValues(graph, a);
  const y = constantValues(graph, b);
  return x?.length === 1 && y?.length === 1 && x[0] === y[0];
}

/**
 * Zero Pads of [N, C, H, W] tensors whose only reader is a Conv become that Conv's `pads` (the same
 * sum: a zero border is what Conv's own padding adds). In a quantized graph the same holds for a
 * Pad of uint8 data by its zero point read only by a per-tensor DequantizeLinear read only by a
 * Conv: the border dequantizes to exactly 0. Pads of the batch or channel axes, negative pads,
 * other modes or values, and Pads read elsewhere stay as they are.
 * @example const graph = fusePadIntoConv(model.graph);
 */
export function fusePadIntoConv(graph: GraphProto): GraphProto {
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) readers.set(i, [...(readers.get(i) ?? []), n]);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const onlyReader = (v: string) => {
    const users = readers.get(v) ?? [];
    return users.length === 1 && !outputs.has(v) && !users[0].domain ? users[0] : undefined;
  };
  const drop = new Set<NodeProto>();
  const rewrite = new Map<NodeProto, NodeProto>();
  for (const pad of graph.nodes) {
    if (pad.opType !== 'Pad' || pad.domain) continue;
    const mode = pad.attributes.mode;
    if (mode && !(mode.kind === 'string' && mode.value === 'constant')) continue;
    const pads = pad.inputs[1] ? constantValues(graph, pad.inputs[1]) : undefined;
    if (pads?.length !== 8 || pad.inputs[3] || pads[0] || pads[1] || pads[4] || pads[5] || pads.some((p) => p < 0)) continue;
    let next = onlyReader(pad.outputs[0]);
    let dq: NodeProto | undefined;
    if (next?.opType === 'DequantizeLinear') {
      // The border must dequantize to 0: padded with the zero point, one scale and zero point.
      const zp = next.inputs[2];
      const perTensor = next.inputs.slice(1).every((i) => !i || constantValues(graph, i)?.length === 1);
      if (!zp || !pad.inputs[2] || !sameScalar(graph, pad.inputs[2], zp) || !perTensor) continue;
      dq = next;
      next = onlyReader(dq.outputs[0]);
    } else if (pad.inputs[2] && constantValues(graph, pad.inputs[2])?.some((v) => v !== 0) !== false) {
      continue;
    }
    const conv = next;
    if (conv?.opType !== 'Conv' || conv.inputs[0] !== (dq ?? pad).outputs[0]) continue;
    const auto = conv.attributes.auto_pad;
    if (auto && !(auto.kind === 'string' && auto.value === 'NOTSET')) continue;
    const own = conv.attributes.pads;
    const before = own?.kind === 'ints' ? own.value : [0, 0, 0, 0];
    const sum = [before[0] + pads[2], before[1] + pads[3], before[2] + pads[6], before[3] + pads[7]];
    const convInput = dq ? dq.outputs[0] : pad.inputs[0];
    rewrite.set(conv, { ...conv, inputs: [convInput, ...conv.inputs.slice(1)], attributes: { ...conv.attributes, pads: { kind: 'ints', value: sum } } });
    if (dq) rewrite.set(dq, { ...dq, inputs: [pad.inputs[0], ...dq.inputs.slice(1)] });
    drop.add(pad);
  }
  if (drop.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !drop.has(n)).map((n) => rewrite.get(n) ?? n);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  return { ...graph, nodes, initializers: graph.initializers.filter((i) => used.has(i.name) || outputs.has(i.name)) };
}
