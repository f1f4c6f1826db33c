/**
 * Builds ONNX graphs from TypeScript. Every heavy computation of the project (preprocessing,
 * backbone, patch embedding, training step, scoring) is a graph built here and run by
 * onnxruntime; values are referred to by name.
 */
import { VERSION } from '../core/version.js';
import { type AttrValue, type Dim, encodeModel, type GraphProto, type NodeProto, ONNX_DTYPE } from './model.js';
import { type DType, f32, f64, type HostTensor, i32, i64 } from './tensor.js';

/**
 * The ONNX default-domain opset our own nodes are written for. A backbone with a newer opset lifts
 * the composed graph to its opset (scoring/fullScoringModel.ts).
 * @example const bytes = g.toModel({}, OPSET);
 */
export const OPSET = 17;

/**
 * A node attribute as `GraphBuilder.op` takes it: an integer (INT), a non-integer number (FLOAT),
 * a string, a list of integers (INTS), a tensor, or an explicit `AttrValue` (e.g. a float list).
 * @example
 * const attrs: Record<string, Attr> = { axes: [1, 2], keepdims: 0, alpha: 0.2, mode: 'constant' };
 */
export type Attr = number | string | number[] | HostTensor | AttrValue;

/** Marks a number as a FLOAT attribute (plain integers are INT attributes). */
export function float(value: number): AttrValue {
  return { kind: 'float', value };
}

export function floats(value: number[]): AttrValue {
  return { kind: 'floats', value };
}

function toAttr(name: string, a: Attr): AttrValue {
  if (typeof a === 'number') {
    if (!Number.isInteger(a)) return { kind: 'float', value: a };
    return { kind: 'int', value: a };
  }
  if (typeof a === 'string') return { kind: 'string', value: a };
  if (Array.isArray(a)) {
    if (a.some((x) => !Number.isInteger(x))) throw new TypeError(`attribute '${name}': use floats() for float lists`);
    return { kind: 'ints', value: a };
  }
  if ('kind' in a) return a;
  return { kind: 'tensor', value: a };
}

/**
 * Builds one ONNX graph node by node, in the order the computation runs; every method returns the
 * name of the value it adds, so calls nest like the expression they compute. Value names are
 * unique within a builder. `toModel()` serialises the result for onnxruntime.
 * @example
 * const g = new GraphBuilder('double');
 * const x = g.input('x', 'float32', ['N', 4]);
 * g.output(g.op('Mul', [x, g.scalarF32(2)]), 'y', 'float32', ['N', 4]);
 * const bytes = g.toModel();
 */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: { name: string; tensor: HostTensor }[] = [];
  private readonly inputs: { name: string; dtype: DType; shape?: Dim[] }[] = [];
  private readonly outputs: { name: string; dtype: DType; shape?: Dim[] }[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /**
   * A fresh value name with a readable prefix, reserved in this graph (for nodes added by hand).
   * @example const out = g.fresh('sum'); // e.g. 'sum_7'
   */
  fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`;
    while (this.used.has(n));
    this.used.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`graph '${this.name}': value name '${name}' is used twice`);
    this.used.add(name);
    return name;
  }

  /**
   * Declares a graph input; a string dimension is symbolic (any size at run time). Returns `name`.
   * @throws Error when `name` is already used in this graph.
   * @example const image = g.input('image', 'uint8', ['N', 'H', 'W', 3]);
   */
  input(name: string, dtype: DType, shape?: Dim[]): string {
    this.inputs.push({ name: this.claim(name), dtype, shape });
    return name;
  }

  /**
   * Exposes `value` as graph output `name` (an Identity node when the names differ).
   * @throws Error when `name` is already another value of this graph.
   * @example g.output(score, 'score', 'float32', ['N']);
   */
  output(value: string, name: string, dtype: DType, shape?: Dim[]): string {
    const out = value === name ? value : this.op('Identity', [value], {}, { output: name });
    this.outputs.push({ name: out, dtype, shape });
    return out;
  }

  /**
   * A named weight; the name is kept so that tools can find it.
   * @throws Error when `name` is already used in this graph.
   * @example const w = g.initializer('disc.fc1.weight', f32([1024, 1536], weights));
   */
  initializer(name: string, t: HostTensor): string {
    this.initializers.push({ name: this.claim(name), tensor: t });
    return name;
  }

  /**
   * A constant tensor under a fresh name (an initializer nobody needs to find by name).
   * @example const mean = g.constant(f32([1, 3, 1, 1], [0.485, 0.456, 0.406]), 'mean');
   */
  constant(t: HostTensor, prefix = 'const'): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, tensor: t });
    return name;
  }

  /**
   * A float32 scalar constant.
   * @example const half = g.op('Mul', [x, g.scalarF32(0.5)]);
   */
  scalarF32(v: number): string {
    return this.constant(f32([], [v]), 'c');
  }

  /**
   * A float64 scalar constant.
   * @example const next = g.op('Add', [index, g.scalarF64(1)]);
   */
  scalarF64(v: number): string {
    return this.constant(f64([], [v]), 'c');
  }

  /**
   * An int64 vector constant: shapes, axes, pads and slice bounds.
   * @example const flat = g.op('Reshape', [x, g.ints([-1, 1536])]);
   */
  ints(values: number[]): string {
    return this.constant(i64([values.length], values), 'shape');
  }

  /**
   * An int64 scalar constant (e.g. a Gather index).
   * @example const h = g.op('Gather', [g.op('Shape', [image]), g.scalarI64(1)], { axis: 0 });
   */
  scalarI64(v: number): string {
    return this.constant(i64([], [v]), 'c');
  }

  /**
   * An int32 scalar constant (integer-exact fixed-point arithmetic, images/preprocess.ts).
   * @example const rounded = g.op('Add', [sum, g.scalarI32(1 << 21)]);
   */
  scalarI32(v: number): string {
    return this.constant(i32([], [v]), 'c');
  }

  /**
   * Casts `x` to `to` (ONNX's element type codes come from ONNX_DTYPE, never as raw numbers).
   * @example const label = g.cast(g.op('Greater', [score, threshold]), 'int64');
   */
  cast(x: string, to: DType): string {
    return this.op('Cast', [x], { to: ONNX_DTYPE[to] });
  }

  /**
   * Adds one node and returns its first output. `opts.output` names that output (else a fresh name).
   * @throws Error when an input is not a value of this graph or `opts.output` is already used;
   * TypeError for a list attribute with non-integers (use an `AttrValue` of kind 'floats').
   * @example const score = g.op('ReduceMax', [perImage], { axes: [1, 2], keepdims: 0 });
   */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: { output?: string; domain?: string } = {}): string {
    return this.opN(opType, inputs, 1, attrs, opts)[0];
  }

  /**
   * Adds one node with `nOutputs` outputs (e.g. TopK, Split) and returns their names.
   * @throws Error when an input is not a value of this graph or an output name is already used;
   * TypeError for a list attribute with non-integers.
   * @example const [values, indices] = g.opN('TopK', [scores, g.ints([5])], 2, { axis: 1 });
   */
  opN(
    opType: string,
    inputs: string[],
    nOutputs: number,
    attrs: Record<string, Attr> = {},
    opts: { output?: string; outputs?: string[]; domain?: string } = {},
  ): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.used.has(i)) throw new Error(`graph '${this.name}': ${opType} reads unknown value '${i}'`);
    }
    const outputs =
      // '' marks an optional output that is not produced (inlined foreign nodes).
      opts.outputs?.map((o) => (o === '' ? o : this.claim(o))) ??
      Array.from({ length: nOutputs }, (_, k) => (k === 0 && opts.output ? this.claim(opts.output) : this.fresh(opType.toLowerCase())));
    const attributes: Record<string, AttrValue> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = toAttr(k, v);
    this.nodes.push({ opType, inputs, outputs, name: `${opType}_${this.nodes.length}`, attributes, domain: opts.domain });
    return outputs;
  }

  /**
   * The graph built so far as plain data (nodes, initializers, inputs, outputs), for composing it
   * with other graphs or encoding it with `encodeModel`.
   * @example const bytes = encodeModel({ graph: g.graph(), opsetVersion: OPSET, producerName: 'me', producerVersion: '1', metadata: {} });
   */
  graph(): GraphProto {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }

  /**
   * Serialises the graph as a complete ONNX model, with `metadata` as its metadata_props.
   * @example const session = await ort.InferenceSession.create(g.toModel({ purpose: 'test' }));
   */
  toModel(metadata: Record<string, string> = {}, opsetVersion = OPSET): Uint8Array {
    return encodeModel({
      graph: this.graph(),
      opsetVersion,
      producerName: 'simplenet',
      producerVersion: VERSION,
      metadata,
    });
  }
}
