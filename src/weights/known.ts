/**
 * The backbone weights SimpleNet's numbers depend on: torchvision's ImageNet-1k V1 checkpoints,
 * exactly as torch.hub downloads them. torchvision names each file `<arch>-<first 8 hex digits of
 * its sha256>.pth` and torch.hub checks that prefix; we check it too. No full sha256 is recorded
 * here because none has been verified by us — a made-up one would be worse than the prefix.
 */
import type { Checksum } from '../io/checksum.js';

export interface KnownWeights {
  /** Builtin backbone name (`--backbone`). */
  name: string;
  /** torchvision's file name; also the file's name in the cache. */
  file: string;
  /** Official download locations, tried in order. */
  urls: string[];
  /** First hex digits of the file's sha256 (from torchvision's file name). */
  sha256Prefix: string;
  /** The full sha256, where it is known for certain. */
  sha256?: string;
  description: string;
}

const TORCHVISION = 'https://download.pytorch.org/models/';

function torchvision(name: string, hash: string, description: string): KnownWeights {
  const file = `${name}-${hash}.pth`;
  return { name, file, urls: [`${TORCHVISION}${file}`], sha256Prefix: hash, description };
}

export const KNOWN_WEIGHTS: readonly KnownWeights[] = [
  torchvision('wide_resnet50_2', '95faca4d', 'torchvision Wide_ResNet50_2_Weights.IMAGENET1K_V1 (SimpleNet default)'),
  torchvision('resnet18', 'f37072fd', 'torchvision ResNet18_Weights.IMAGENET1K_V1'),
  torchvision('resnet50', '0676ba61', 'torchvision ResNet50_Weights.IMAGENET1K_V1'),
  torchvision('wide_resnet101_2', '32ee1156', 'torchvision Wide_ResNet101_2_Weights.IMAGENET1K_V1'),
];

export function knownWeights(name: string): KnownWeights | undefined {
  return KNOWN_WEIGHTS.find((k) => k.name === name);
}

export function knownWeightsOrThrow(name: string): KnownWeights {
  const k = knownWeights(name);
  if (!k) throw new Error(`unknown weights '${name}': expected one of ${KNOWN_WEIGHTS.map((w) => w.name).join(', ')}`);
  return k;
}

/** The known name a file name starts with (`wide_resnet50_2-95faca4d.pth`, `resnet50.tv_in1k.safetensors`). */
export function nameFromFileName(file: string): string | undefined {
  const base = file.split(/[\\/]/).pop() ?? file;
  const hits = KNOWN_WEIGHTS.filter((k) => base === k.name || (base.startsWith(k.name) && /^[^A-Za-z0-9_]/.test(base.slice(k.name.length))));
  return hits.sort((a, b) => b.name.length - a.name.length)[0]?.name;
}

export { type Checksum, describeChecksum, matches, parseChecksum } from '../io/checksum.js';

export function checksumOf(k: KnownWeights): Checksum {
  return { hex: k.sha256 ?? k.sha256Prefix };
}

/** torch.hub's rule: a `-<hex>.` in the file name is a prefix of the file's sha256. */
export function checksumFromUrl(url: string): Checksum | undefined {
  const base = new URL(url).pathname.split('/').pop() ?? '';
  const m = /-([a-f0-9]{8,64})\./.exec(base);
  return m ? { hex: m[1] } : undefined;
}
