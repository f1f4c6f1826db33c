/**
 * Moving nodes of the default ONNX domain to a newer opset, for graphs composed from parts written
 * at different opsets (our graphs at 17, a user's backbone at 13 or 18). Only changes that alter the
 * meaning of an existing node are handled; the other version bumps between 11 and 21 only add types
 * or optional attributes/inputs whose defaults keep the old behaviour.
 */
import type { AttrValue, NodeProto } from './model.js';
import { i64 } from './tensor.js';
import type { HostTensor } from './tensor.js';

/** Oldest default-domain opset we can upgrade (older ones changed Pad, Clip, Resize, Upsample, …). */
export const MIN_UPGRADABLE_OPSET = 11;

/** Ops whose `axes` attribute became an input at the given opset. */
const AXES_TO_INPUT: Record<string, number> = {
  Squeeze: 13,
  Unsqueeze: 13,
  ReduceSum: 13,
  ReduceMean: 18,
  ReduceMax: 18,
  ReduceMin: 18,
  ReduceProd: 18,
  ReduceL1: 18,
  ReduceL2: 18,
  ReduceLogSum: 18,
  ReduceLogSumExp: 18,
  ReduceSumSquare: 18,
};

const isDefaultDomain = (n: NodeProto) => !n.domain || n.domain === 'ai.onnx';

/**
 * Rewrites `nodes` (written for default-domain opset `from`) so they mean the same at `to`.
 * `constant` adds an int64 initializer and returns its name. Throws for nodes that cannot be
 * carried over; `source` names the model in the message.
 */
export function upgradeNodes(
  nodes: readonly NodeProto[],
  from: number,
  to: number,
  constant: (t: HostTensor, hint: string) => string,
  source: string,
): NodeProto[] {
  if (from === to) return [...nodes];
  if (from > to) throw new Error(`${source}: cannot move opset ${from} nodes down to opset ${to}`);
  if (from < MIN_UPGRADABLE_OPSET) {
    throw new Error(`${source}: default-domain opset ${from} is too old; re-export the model at opset ${MIN_UPGRADABLE_OPSET} or later (13–17 recommended)`);
  }
  return nodes.map((node) => {
    if (!isDefaultDomain(node)) return node;
    const attrs: Record<string, AttrValue> = { ...node.attributes };
    const inputs = [...node.inputs];
    const since = AXES_TO_INPUT[node.opType];
    if (since !== undefined && from < since && to >= since && attrs.axes) {
      const axes = attrs.axes;
      delete attrs.axes;
      if (axes.kind !== 'ints') throw new Error(`${source}: node '${node.name}' has a non-integer axes attribute`);
      // Squeeze/Unsqueeze and the Reduce ops all take axes as input 1.
      inputs.splice(1, 0, constant(i64([axes.value.length], axes.value), `${node.name}_axes`));
    }
    if (node.opType === 'Split' && from < 13 && to >= 13 && attrs.split) {
      const split = attrs.split;
      delete attrs.split;
      if (split.kind !== 'ints') throw new Error(`${source}: node '${node.name}' has a non-integer split attribute`);
      inputs.splice(1, 0, constant(i64([split.value.length], split.value), `${node.name}_split`));
    }
    if (['Softmax', 'LogSoftmax', 'Hardmax'].includes(node.opType) && from < 13 && to >= 13) {
      // Before 13 these flattened the input to 2-D at `axis` (default 1); from 13 they act on one
      // axis (default −1). The two agree only for the last axis, which we cannot see without shapes.
      const axis = attrs.axis;
      if (!(axis && axis.kind === 'int' && axis.value === -1)) {
        throw new Error(
          `${source}: ${node.opType} node '${node.name}' from opset ${from} changes meaning at opset 13; re-export the model at opset 13 or later`,
        );
      }
    }
    if (node.opType === 'RoiAlign' && from < 16 && to >= 16 && !attrs.coordinate_transformation_mode) {
      // Opset 16 changed the default from 'output_half_pixel' to 'half_pixel'.
      attrs.coordinate_transformation_mode = { kind: 'string', value: 'output_half_pixel' };
    }
    return { ...node, inputs, attributes: attrs };
  });
}
