/**
 * A WideResNet-50-2 backbone with seeded random weights (He-normal convolutions, identity batch
 * norms), for benchmarks that need its cost but cannot download the ImageNet weights.
 */
import { expectedTensors, RESNET_ARCHS } from '../src/backbones/resnet-arch.js';
import { buildResNet, RESNET_INPUT } from '../src/backbones/resnet.js';
import type { Backbone } from '../src/backbones/types.js';
import { Rng } from '../src/core/rng.js';
import { f32, type HostTensor } from '../src/onnx/tensor.js';

export function randomWrn50Backbone(seed = 0): Backbone {
  const arch = RESNET_ARCHS.wide_resnet50_2;
  const rng = new Rng(seed);
  const state = new Map<string, HostTensor>();
  for (const [name, dims] of expectedTensors(arch, 3)) {
    const t = f32(dims);
    if (dims.length === 4) {
      const scale = Math.sqrt(2 / (dims[1] * dims[2] * dims[3]));
      for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * scale;
    } else if (name.endsWith('running_var') || name.endsWith('.weight')) t.data.fill(1);
    state.set(name, t);
  }
  const built = buildResNet(state, { arch, source: 'random', layers: ['layer2', 'layer3'], name: 'wide_resnet50_2' });
  return {
    identity: { kind: 'builtin', name: 'wide_resnet50_2', weightsSha256: 'random' },
    inputName: RESNET_INPUT,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    layers: built.layers,
    onnx: built.onnx,
  };
}
