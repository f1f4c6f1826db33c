/**
 * torchvision ResNet architectures as data: which blocks exist and which state-dict tensors (with
 * which shapes) they need. Both the validator and the graph builder walk this one description, so
 * they cannot disagree about names.
 */

export interface ResNetArch {
  block: 'basic' | 'bottleneck';
  /** Blocks in layer1..layer4. */
  blocks: [number, number, number, number];
  /** torchvision's width_per_group (64 = plain ResNet, 128 = wide); BasicBlock only allows 64. */
  widthPerGroup: number;
  /** Grouped 3×3 convolutions (ResNeXt); 1 for every builtin. */
  groups: number;
}

export const RESNET_ARCHS = {
  resnet18: { block: 'basic', blocks: [2, 2, 2, 2], widthPerGroup: 64, groups: 1 },
  resnet50: { block: 'bottleneck', blocks: [3, 4, 6, 3], widthPerGroup: 64, groups: 1 },
  wide_resnet50_2: { block: 'bottleneck', blocks: [3, 4, 6, 3], widthPerGroup: 128, groups: 1 },
  wide_resnet101_2: { block: 'bottleneck', blocks: [3, 4, 23, 3], widthPerGroup: 128, groups: 1 },
} as const satisfies Record<string, ResNetArch>;

export const STAGES = ['layer1', 'layer2', 'layer3', 'layer4'] as const;
export type Stage = (typeof STAGES)[number];

export const STEM_CHANNELS = 64;
const PLANES = [64, 128, 256, 512];

export interface ConvSpec {
  /** State-dict prefix of the conv weight, e.g. `layer2.0.conv1` or `layer2.0.downsample.0`. */
  conv: string;
  /** State-dict prefix of the BatchNorm that follows it, e.g. `layer2.0.bn1` or `layer2.0.downsample.1`. */
  bn: string;
  inC: number;
  outC: number;
  kernel: number;
  stride: number;
  groups: number;
}

export interface BlockSpec {
  prefix: string;
  /** The residual branch in order; ReLU between them, the last one's output is added to the identity. */
  convs: ConvSpec[];
  downsample?: ConvSpec;
}

export interface StageSpec {
  name: Stage;
  blocks: BlockSpec[];
  outC: number;
}

export function checkArch(arch: ResNetArch, label: string): void {
  const posInt = (x: number) => Number.isInteger(x) && x > 0;
  if (arch.block !== 'basic' && arch.block !== 'bottleneck') throw new TypeError(`${label}: block must be 'basic' or 'bottleneck'`);
  if (arch.blocks.length !== 4 || !arch.blocks.every(posInt)) throw new TypeError(`${label}: blocks must be 4 positive integers`);
  if (!posInt(arch.widthPerGroup) || !posInt(arch.groups)) throw new TypeError(`${label}: widthPerGroup and groups must be positive integers`);
  // Same restriction as torchvision's BasicBlock.
  if (arch.block === 'basic' && (arch.widthPerGroup !== 64 || arch.groups !== 1)) {
    throw new TypeError(`${label}: BasicBlock only supports widthPerGroup 64 and groups 1`);
  }
  for (const planes of PLANES) {
    const width = bottleneckWidth(arch, planes);
    if (arch.block === 'bottleneck' && (width < 1 || width % arch.groups !== 0)) {
      throw new TypeError(`${label}: bottleneck width ${width} for planes ${planes} is not a positive multiple of groups ${arch.groups}`);
    }
  }
}

function bottleneckWidth(arch: ResNetArch, planes: number): number {
  return Math.trunc(planes * (arch.widthPerGroup / 64)) * arch.groups;
}

const conv = (c: string, bn: string, inC: number, outC: number, kernel: number, stride: number, groups = 1): ConvSpec => ({
  conv: c,
  bn,
  inC,
  outC,
  kernel,
  stride,
  groups,
});

/** Stages layer1..`upTo`, torchvision layout (ResNet V1.5: the Bottleneck strides on its 3×3 conv). */
export function stageSpecs(arch: ResNetArch, upTo: number): StageSpec[] {
  const expansion = arch.block === 'basic' ? 1 : 4;
  let inC = STEM_CHANNELS;
  const stages: StageSpec[] = [];
  for (let s = 0; s < upTo; s++) {
    const planes = PLANES[s];
    const outC = planes * expansion;
    const blocks: BlockSpec[] = [];
    for (let b = 0; b < arch.blocks[s]; b++) {
      const p = `${STAGES[s]}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      let convs: ConvSpec[];
      if (arch.block === 'basic') {
        convs = [conv(`${p}.conv1`, `${p}.bn1`, inC, planes, 3, stride), conv(`${p}.conv2`, `${p}.bn2`, planes, planes, 3, 1)];
      } else {
        const w = bottleneckWidth(arch, planes);
        convs = [
          conv(`${p}.conv1`, `${p}.bn1`, inC, w, 1, 1),
          conv(`${p}.conv2`, `${p}.bn2`, w, w, 3, stride, arch.groups),
          conv(`${p}.conv3`, `${p}.bn3`, w, outC, 1, 1),
        ];
      }
      const downsample = b === 0 && (stride !== 1 || inC !== outC) ? conv(`${p}.downsample.0`, `${p}.downsample.1`, inC, outC, 1, stride) : undefined;
      blocks.push({ prefix: p, convs, downsample });
      inC = outC;
    }
    stages.push({ name: STAGES[s], blocks, outC });
  }
  return stages;
}

export const STEM_CONV: ConvSpec = conv('conv1', 'bn1', 3, STEM_CHANNELS, 7, 2);

/** Every tensor the built graph reads, with its shape, in network order. */
export function expectedTensors(arch: ResNetArch, upTo: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (c: ConvSpec) => {
    out.set(`${c.conv}.weight`, [c.outC, c.inC / c.groups, c.kernel, c.kernel]);
    for (const k of ['weight', 'bias', 'running_mean', 'running_var']) out.set(`${c.bn}.${k}`, [c.outC]);
  };
  add(STEM_CONV);
  for (const stage of stageSpecs(arch, upTo)) {
    for (const block of stage.blocks) {
      for (const c of block.convs) add(c);
      if (block.downsample) add(block.downsample);
    }
  }
  return out;
}
