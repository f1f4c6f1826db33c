/**
 * Builds ONNX graphs from TypeScript. Every heavy computation of the project (preprocessing,
 * backbone, patch embedding, training step, scoring) is a graph built here and run by
 * onnxruntime; values are referred to by name.
 */
import { VERSION } from '../core/version.js';
import { type AttrValue, type Dim, encodeModel, type GraphProto, type NodeProto, ONNX_DTYPE } from './model.js';
import { type DType, f32, f64, type HostTensor, i64 } from './tensor.js';

export const OPSET = 17;

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

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: { name: string; tensor: HostTensor }[] = [];
  private readonly inputs: { name: string; dtype: DType; shape?: Dim[] }[] = [];
  private readonly outputs: { name: string; dtype: DType; shape?: Dim[] }[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name with a readable prefix. */
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

  input(name: string, dtype: DType, shape?: Dim[]): string {
    this.inputs.push({ name: this.claim(name), dtype, shape });
    return name;
  }

  /** Exposes `value` as graph output `name` (an Identity node when the names differ). */
  output(value: string, name: string, dtype: DType, shape?: Dim[]): string {
    const out = value === name ? value : this.op('Identity', [value], {}, { output: name });
    this.outputs.push({ name: out, dtype, shape });
    return out;
  }

  /** A named weight; the name is kept so that tools can find it. */
  initializer(name: string, t: HostTensor): string {
    this.initializers.push({ name: this.claim(name), tensor: t });
    return name;
  }

  constant(t: HostTensor, prefix = 'const'): string {
    const name = this.fresh(prefix);
    this.initializers.push({ name, tensor: t });
    return name;
  }

  scalarF32(v: number): string {
    return this.constant(f32([], [v]), 'c');
  }

  scalarF64(v: number): string {
    return this.constant(f64([], [v]), 'c');
  }

  ints(values: number[]): string {
    return this.constant(i64([values.length], values), 'shape');
  }

  scalarI64(v: number): string {
    return this.constant(i64([], [v]), 'c');
  }

  /** Casts `x` to `to` (ONNX's element type codes come from ONNX_DTYPE, never as raw numbers). */
  cast(x: string, to: DType): string {
    return this.op('Cast', [x], { to: ONNX_DTYPE[to] });
  }

  /** Adds one node and returns its first output. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, opts: { output?: string; domain?: string } = {}): string {
    return this.opN(opType, inputs, 1, attrs, opts)[0];
  }

  /** Adds one node with `nOutputs` outputs. */
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

  graph(): GraphProto {
    return {
      name: this.name,
      nodes: this.nodes,
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }

  /** Serialises the graph as a complete ONNX model. */
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
