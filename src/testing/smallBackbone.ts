/** A tiny bottleneck ResNet with the golden tests' random weights: a real backbone graph for tests, in milliseconds. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backbone } from '../backbones/backbone.js';
import { buildResNet } from '../backbones/resnet.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { REPO_ROOT } from './golden.js';

/**
 * One bottleneck block per stage, width 16 per group, weights from `golden/backbones/bottleneck.safetensors`.
 * @example const fx = await FeatureExtractor.create(smallResNet(), { image: { resize: 72, crop: 64 }, embed: DEFAULT_PATCH_EMBED });
 */
export function smallResNet(): Backbone {
  const file = join(REPO_ROOT, 'golden/backbones/bottleneck.safetensors');
  const state = decodeSafetensors(new Uint8Array(readFileSync(file)), file).tensors;
  const built = buildResNet(state, {
    arch: { block: 'bottleneck', blocks: [1, 1, 1, 1], widthPerGroup: 16, groups: 1 },
    source: file,
    layers: ['layer2', 'layer3'],
  });
  return {
    identity: { kind: 'builtin', name: 'test-bottleneck', weightsSha256: '' },
    inputName: 'image',
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    layers: built.layers,
    onnx: built.onnx,
  };
}
