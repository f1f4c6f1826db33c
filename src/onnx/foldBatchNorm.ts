/**
 * Eval-mode BatchNormalization folded into the Conv before it, so that the quantizer sees one Conv
 * whose weights already carry the BN scale: quantizing weights and BN separately would put a
 * float multiply-add between the int8 Conv and its output quantization and block onnxruntime's
 * QLinearConv fusion. Our own ResNet graphs are built folded; foreign backbones may not be.
 */
import type { GraphProto, Initializer, NodeProto } from './model.js';
import { f32, type HostTensor, numel } from './tensor.js';

const isDefault = (n: NodeProto) => !n.domain || n.domain === 'ai.onnx';

function floats(t: HostTensor | undefined): Float64Array | undefined {
  if (!t || (t.dtype !== 'float32' && t.dtype !== 'float64')) return undefined;
  return Float64Array.from(t.data as Float32Array);
}

/**
 * `graph` with every Conv → BatchNormalization pair folded into one Conv (weights and bias
 * initializers, computed in float64): W'[c] = W[c]·s[c], b'[c] = (b[c] − mean[c])·s[c] + β[c] with
 * s = γ/√(var + ε). A pair is left alone when the Conv output has another reader or is a graph
 * output, when the BN has training outputs, or when a weight or BN parameter is not an initializer.
 * @example const folded = foldBatchNorm(decodeModel(bytes).graph);
 */
export function foldBatchNorm(graph: GraphProto): GraphProto {
  const inits = new Map(graph.initializers.map((i) => [i.name, i.tensor]));
  const readers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const producer = new Map<string, NodeProto>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);

  const added: Initializer[] = [];
  const replaced = new Map<NodeProto, NodeProto>();
  const dropped = new Set<NodeProto>();
  for (const bn of graph.nodes) {
    if (bn.opType !== 'BatchNormalization' || !isDefault(bn) || bn.outputs.filter(Boolean).length !== 1) continue;
    const x = bn.inputs[0];
    const conv = producer.get(x);
    if (conv?.opType !== 'Conv' || !isDefault(conv) || readers.get(x) !== 1 || outputs.has(x) || replaced.has(conv)) continue;
    const w = inits.get(conv.inputs[1]);
    const [gamma, beta, mean, variance] = bn.inputs.slice(1, 5).map((i) => floats(inits.get(i)));
    if (w?.dtype !== 'float32' || !gamma || !beta || !mean || !variance) continue;
    const channels = w.dims[0];
    const bias = conv.inputs[2] ? floats(inits.get(conv.inputs[2])) : new Float64Array(channels);
    if (!bias || bias.length !== channels || gamma.length !== channels) continue;
    const eps = bn.attributes.epsilon?.kind === 'float' ? bn.attributes.epsilon.value : 1e-5;
    const per = numel(w.dims) / channels;
    const src = w.data as Float32Array;
    const weight = new Float32Array(src.length);
    const b = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const s = gamma[c] / Math.sqrt(variance[c] + eps);
      for (let i = c * per; i < (c + 1) * per; i++) weight[i] = src[i] * s;
      b[c] = (bias[c] - mean[c]) * s + beta[c];
    }
    const wName = `${conv.inputs[1]}+${bn.name}`;
    const bName = `${conv.inputs[2] || conv.name}_bias+${bn.name}`;
    added.push({ name: wName, tensor: f32(w.dims, weight) }, { name: bName, tensor: f32([channels], b) });
    replaced.set(conv, { ...conv, inputs: [conv.inputs[0], wName, bName], outputs: [bn.outputs[0]] });
    dropped.add(bn);
  }
  if (dropped.size === 0) return graph;
  const nodes = graph.nodes.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const initializers = [...graph.initializers, ...added].filter((i) => used.has(i.name) || outputs.has(i.name));
  return { ...graph, nodes, initializers };
}
