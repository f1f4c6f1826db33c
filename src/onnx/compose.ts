/**
 * Graph composition: a decoded foreign graph (a backbone) is pruned to the values we need and
 * inlined into a GraphBuilder graph under a name prefix, its input wired to one of our values. The
 * result is one graph, so one session runs preprocessing, backbone and scoring together and the
 * export is one self-contained file.
 */
import { VERSION } from '../core/version.js';
import type { GraphBuilder } from './builder.js';
import type { DecodedModel } from './decode.js';
import type { GraphProto, ModelProto, NodeProto } from './model.js';
import { upgradeNodes } from './opsets.js';

/** The nodes needed to compute `wanted`, in their original (topological) order. */
export function pruneNodes(graph: GraphProto, wanted: readonly string[], source: string): NodeProto[] {
  const producer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const keep = new Set<number>();
  const stack = [...wanted];
  const known = new Set([...graph.inputs.map((i) => i.name), ...graph.initializers.map((i) => i.name)]);
  for (const w of wanted) {
    if (!producer.has(w) && !known.has(w)) throw new Error(`${source}: '${w}' is not a value of the graph`);
  }
  while (stack.length > 0) {
    const v = stack.pop()!;
    const i = producer.get(v);
    if (i === undefined || keep.has(i)) continue;
    keep.add(i);
    for (const input of graph.nodes[i].inputs) if (input) stack.push(input);
  }
  return graph.nodes.filter((_, i) => keep.has(i));
}

export interface InlineOptions {
  /** Prefix of every inlined value name, e.g. 'backbone/'. */
  prefix: string;
  /** The foreign graph's inputs → our values feeding them. */
  inputs: Record<string, string>;
  /** Foreign values to expose (any node output, usually graph outputs). */
  outputs: readonly string[];
  /** Default-domain opset of our graph; the foreign nodes are upgraded to it when older. */
  opset: number;
  /** Names the model in errors. */
  source: string;
}

export interface InlineResult {
  /** Our value name for each requested foreign value. */
  outputs: string[];
  /** Opset imports the inlined nodes need (default domain included). */
  opsets: Record<string, number>;
}

/**
 * Inlines `model`'s graph into `g`. Nodes with subgraph attributes (If/Loop/Scan) are refused: their
 * bodies may read outer values by name, which the prefix would break.
 */
export function inlineModel(g: GraphBuilder, model: DecodedModel, opts: InlineOptions): InlineResult {
  const { prefix, source } = opts;
  const graph = model.graph;
  const nodes = pruneNodes(graph, opts.outputs, source);
  const initializers = new Map(graph.initializers.map((i) => [i.name, i.tensor]));
  const graphInputs = new Set(graph.inputs.map((i) => i.name));
  for (const name of Object.keys(opts.inputs)) {
    if (!graphInputs.has(name)) throw new Error(`${source}: '${name}' is not an input (inputs: ${[...graphInputs].join(', ')})`);
  }
  const sourceOpset = model.opsetVersion;
  const target = Math.max(opts.opset, sourceOpset);
  // New constants (axes moved to inputs) join the foreign initializers, so they get the prefix too.
  const upgraded = upgradeNodes(
    nodes,
    sourceOpset,
    target,
    (t, hint) => {
      let name = hint;
      for (let k = 0; initializers.has(name); k++) name = `${hint}_${k}`;
      initializers.set(name, t);
      return name;
    },
    source,
  );

  const rename = new Map<string, string>(Object.entries(opts.inputs));
  const mapped = (v: string): string => {
    if (v === '') return v;
    const r = rename.get(v);
    if (r !== undefined) return r;
    const t = initializers.get(v);
    if (t) {
      const name = g.initializer(`${prefix}${v}`, t);
      rename.set(v, name);
      return name;
    }
    if (graphInputs.has(v)) throw new Error(`${source}: the wanted outputs need graph input '${v}', which is not fed`);
    throw new Error(`${source}: value '${v}' is read before it is computed (nodes out of order?)`);
  };
  const opsets: Record<string, number> = { '': target };
  for (const n of upgraded) {
    if (Object.values(n.attributes).some((a) => a.kind === 'graph' || (a.kind === 'raw' && a.subgraph))) {
      throw new Error(`${source}: node '${n.name}' (${n.opType}) has a subgraph; control flow cannot be inlined`);
    }
    const inputs = n.inputs.map(mapped);
    const outputs = n.outputs.map((o) => (o ? `${prefix}${o}` : ''));
    g.opN(n.opType, inputs, outputs.length, n.attributes, { outputs, domain: n.domain === 'ai.onnx' ? undefined : n.domain });
    outputs.forEach((o, i) => n.outputs[i] && rename.set(n.outputs[i], o));
    const domain = n.domain && n.domain !== 'ai.onnx' ? n.domain : '';
    if (domain && model.extraOpsets?.[domain] !== undefined) opsets[domain] = model.extraOpsets[domain];
  }
  return { outputs: opts.outputs.map(mapped), opsets };
}

/**
 * Upgrades a whole graph built at default-domain opset `from` to `to` (inlined nodes already at
 * `to` are left as they are: the rewrites only apply to attributes those nodes no longer have).
 */
export function upgradeGraph(graph: GraphProto, from: number, to: number): GraphProto {
  if (from === to) return graph;
  const names = new Set([...graph.initializers.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)]);
  const initializers = [...graph.initializers];
  let k = 0;
  const nodes = upgradeNodes(
    graph.nodes,
    from,
    to,
    (tensor, hint) => {
      let name: string;
      do name = `${hint}_${k++}`;
      while (names.has(name));
      names.add(name);
      initializers.push({ name, tensor });
      return name;
    },
    graph.name,
  );
  return { ...graph, nodes, initializers };
}

/** Merges opset imports, keeping the newest version of each domain. */
export function mergeOpsets(...parts: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [d, v] of Object.entries(p)) out[d] = Math.max(out[d] ?? 0, v);
  return out;
}

/** A ModelProto from a composed graph and merged opsets. */
export function composedModel(graph: GraphProto, opsets: Record<string, number>, metadata: Record<string, string>): ModelProto {
  const { '': opsetVersion, ...extraOpsets } = opsets;
  return { graph, opsetVersion, extraOpsets, producerName: 'simplenet', producerVersion: VERSION, metadata };
}
