/** Registers the torchvision ResNets, whose weights come from a safetensors state dict the user supplies. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodeSafetensors } from '../io/safetensors.js';
import type { Backbone } from './backbone.js';
import { registerBackbone } from './registry.js';
import { RESNET_ARCHS } from './resnet-arch.js';
import { buildResNet, RESNET_INPUT } from './resnet.js';

/** torchvision's ImageNet normalisation, which every torchvision ResNet was trained with. */
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

for (const [name, arch] of Object.entries(RESNET_ARCHS)) {
  registerBackbone(name, async ({ weights, layers }): Promise<Backbone> => {
    if (!weights) {
      throw new Error(
        `backbone '${name}' needs weights: pass --weights <file.safetensors>, a torchvision ${name} state dict ` +
          `saved as safetensors (safetensors.torch.save_file(model.state_dict(), path))`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(weights);
    } catch (e) {
      throw new Error(`${weights}: cannot read the weights of backbone '${name}': ${(e as Error).message}`);
    }
    const { tensors } = decodeSafetensors(bytes, weights);
    const built = buildResNet(tensors, { arch, source: weights, layers, name });
    return {
      identity: { kind: 'builtin', name, weightsSha256: createHash('sha256').update(bytes).digest('hex') },
      inputName: RESNET_INPUT,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      layers: built.layers,
      onnx: built.onnx,
    };
  });
}
