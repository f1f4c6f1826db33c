/**
 * The builtin backbones, listed explicitly: the torchvision ResNets, whose weights come from
 * --weights (safetensors or a torchvision .pth) or, without it, from the weights cache, pulled on
 * first use; and `mobilenet_v2`, whose ONNX file ships inside the package (packaged.ts).
 */
import { createHash } from 'node:crypto';
import { readRegularFile } from '../io/readRegular.js';
import { FileError } from '../io/ioError.js';
import { type Checksum, knownWeights, matches } from '../weights/known.js';
import { decodeStateDict } from '../weights/load.js';
import { damagedWeightsError, weightsForBuiltin } from '../weights/pull.js';
import { MOBILENET_V2, packagedFactory } from './packaged.js';
import { type ResNetArch, RESNET_ARCHS } from './resnet-arch.js';
import type { Backbone, BuiltinFactory } from './types.js';
import { buildResNet, RESNET_INPUT } from './resnet.js';
import { architectureShapes } from './state-dict.js';

/** torchvision's ImageNet normalisation, which every torchvision ResNet was trained with. */
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** A torchvision ResNet built from its state dict. */
function resnet(name: string, arch: ResNetArch): BuiltinFactory {
  return async ({ weights, layers, reporter }): Promise<Backbone> => {
    let file = weights;
    let check: Checksum | undefined;
    if (!file) {
      if (!knownWeights(name)) {
        throw new Error(`backbone '${name}' needs weights: pass --weights <file> (safetensors or a torchvision .pth state dict)`);
      }
      ({ path: file, check } = await weightsForBuiltin(name, { reporter }));
    }
    let bytes: Uint8Array;
    try {
      bytes = await readRegularFile(file);
    } catch (e) {
      throw new FileError(file, `cannot read the weights of backbone '${name}'`, e);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // A cached torchvision file is re-checked on every use: a damaged cache must not give silently different numbers.
    if (check && !matches(check, sha256)) throw damagedWeightsError(file, sha256, check, name);
    const { tensors } = decodeStateDict(bytes, file, { expected: architectureShapes(arch) });
    const built = buildResNet(tensors, { arch, source: file, layers, name });
    return {
      identity: { kind: 'builtin', name, weightsSha256: sha256 },
      inputName: RESNET_INPUT,
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      layers: built.layers,
      onnx: built.onnx,
    };
  };
}

/** Every builtin by name, in the order error messages list them. */
export const BUILTIN_BACKBONES: [string, BuiltinFactory][] = [
  ...Object.entries(RESNET_ARCHS).map(([name, arch]): [string, BuiltinFactory] => [name, resnet(name, arch)]),
  [MOBILENET_V2.name, packagedFactory(MOBILENET_V2)],
];
