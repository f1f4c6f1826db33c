/**
 * The backbone graph the engine runs: the ONNX pruned to its taps and specialised to the crop size
 * (onnx/specialize.ts: shape arithmetic folded, zero Pads made Conv padding). Training features,
 * the scoring graph and its export all run this one graph; the model folder keeps the backbone's
 * original bytes, so its identity (sha256) is unchanged.
 */
import { pruneNodes } from '../onnx/compose.js';
import { decodeModel } from '../onnx/decode.js';
import { type ModelProto, encodeModel } from '../onnx/model.js';
import { foldShapeValues, fusePadIntoConv } from '../onnx/specialize.js';
import type { Backbone } from './types.js';

/**
 * The graph computing only `layers`, as its only outputs.
 * @throws Error naming `source` when a layer is not a value of the graph.
 * @example const taps = pruneToLayers(decodeModel(backbone.onnx), backbone.layers, 'backbone');
 */
export function pruneToLayers(model: ModelProto, layers: readonly string[], source: string): ModelProto {
  const graph = model.graph;
  const nodes = pruneNodes(graph, layers, source);
  const used = new Set(nodes.flatMap((n) => n.inputs));
  const byName = new Map(graph.outputs.map((o) => [o.name, o]));
  const outputs = layers.map((l) => byName.get(l) ?? { name: l, dtype: 'float32' as const });
  return { ...model, graph: { ...graph, nodes, initializers: graph.initializers.filter((i) => used.has(i.name)), outputs } };
}

const cache = new WeakMap<Uint8Array, Map<string, Promise<Uint8Array>>>();

/**
 * `backbone.onnx` pruned to `backbone.layers` and specialised to [N, 3, crop, crop] inputs (any N):
 * the same outputs within float rounding, fewer kernels. Computed once per backbone bytes, layers
 * and size (it runs the graph twice on blank images to read its shape values). `source` names the
 * graph in errors.
 * @throws Error when a layer is not an output of the ONNX, or when onnxruntime cannot run it at
 * that size; OnnxDecodeError when the bytes are not a model.
 * @example const net = await Session.create(await specializedBackbone(backbone, 288), 'backbone');
 */
export function specializedBackbone(backbone: Backbone, crop: number, source = 'backbone'): Promise<Uint8Array> {
  const key = `${crop}:${backbone.inputName}:${backbone.layers.join(',')}`;
  let byKey = cache.get(backbone.onnx);
  if (!byKey) cache.set(backbone.onnx, (byKey = new Map()));
  let made = byKey.get(key);
  if (!made) {
    made = specialize(backbone, crop, source);
    byKey.set(key, made);
    // A failure is not remembered: the next call tries again (and reports again).
    made.catch(() => byKey.delete(key));
  }
  return made;
}

async function specialize(backbone: Backbone, crop: number, source: string): Promise<Uint8Array> {
  const model = decodeModel(backbone.onnx, source);
  const outputs = model.graph.outputs.map((o) => o.name);
  for (const l of backbone.layers) {
    if (!outputs.includes(l)) throw new Error(`${source}: layer '${l}' is not an output (outputs: ${outputs.join(', ')})`);
  }
  const pruned = pruneToLayers(model, backbone.layers, source);
  const folded = await foldShapeValues(pruned, backbone.inputName, [3, crop, crop], source);
  const graph = fusePadIntoConv(folded.graph);
  // Nothing to change (a builtin WideResNet): the same bytes, not a second copy of its weights.
  const same = graph === pruned.graph && pruned.graph.nodes.length === model.graph.nodes.length && outputs.join() === backbone.layers.join();
  return same ? backbone.onnx : encodeModel({ ...folded, graph });
}
