/**
 * Checks a torchvision-named state dict against an architecture before any graph is built, so a
 * wrong file fails with one line naming the tensor instead of an onnxruntime shape error.
 */
import type { HostTensor } from '../onnx/tensor.js';
import { expectedTensors, type ResNetArch, STAGES } from './resnet-arch.js';

const FLOAT_DTYPES = new Set(['float32', 'float16', 'float64']);

/** Keys a full torchvision checkpoint carries that a truncated graph legitimately ignores. */
function ignorable(key: string, upTo: number): boolean {
  if (key.endsWith('.num_batches_tracked')) return true;
  if (key.startsWith('fc.')) return true;
  return STAGES.slice(upTo).some((s) => key.startsWith(`${s}.`));
}

const fmt = (dims: readonly number[]) => `[${dims.join(', ')}]`;

/**
 * Every tensor of the whole network (all four stages) with its shape, for the weights readers
 * (`decodeStateDict` in src/weights/load.ts): they refuse a tensor of another shape before reading
 * its data. The whole network, because a full checkpoint carries the later stages too.
 */
export function architectureShapes(arch: ResNetArch): Map<string, number[]> {
  return expectedTensors(arch, STAGES.length);
}

/**
 * Throws `<source>: tensor '<name>' is missing | has shape [..], expected [..] | is unexpected | …`
 * for the first problem found, in network order (then file order for unexpected keys).
 */
export function validateStateDict(tensors: ReadonlyMap<string, HostTensor>, arch: ResNetArch, upTo: number, source: string): void {
  const expected = expectedTensors(arch, upTo);
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new Error(`${source}: tensor '${name}' is missing`);
    if (t.dims.length !== shape.length || t.dims.some((d, i) => d !== shape[i])) {
      throw new Error(`${source}: tensor '${name}' has shape ${fmt(t.dims)}, expected ${fmt(shape)}`);
    }
    if (!FLOAT_DTYPES.has(t.dtype)) throw new Error(`${source}: tensor '${name}' has dtype ${t.dtype}, expected a float type`);
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name) && !ignorable(name, upTo)) {
      throw new Error(`${source}: tensor '${name}' is unexpected (not part of this architecture up to ${STAGES[upTo - 1]})`);
    }
  }
}
