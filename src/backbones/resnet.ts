/**
 * torchvision ResNets (eval mode) as ONNX graphs, built from a torchvision-named state dict. Each
 * BatchNorm is folded into the conv before it in float64 — exact up to one float32 rounding of the
 * folded weights — so the graph is Conv(+bias)/Relu/Add/MaxPool only and runs the same whatever
 * onnxruntime's optimisation level. The graph stops after the deepest requested stage.
 */
import { GraphBuilder } from '../onnx/builder.js';
import { f32, type HostTensor } from '../onnx/tensor.js';
import { checkArch, type ConvSpec, type ResNetArch, type Stage, STAGES, STEM_CONV, stageSpecs } from './resnet-arch.js';
import { validateStateDict } from './state-dict.js';

/** torchvision's nn.BatchNorm2d default. */
const BN_EPS = 1e-5;

export const RESNET_INPUT = 'image';
export const DEFAULT_LAYERS: readonly Stage[] = ['layer2', 'layer3'];

export interface ResNetGraph {
  onnx: Uint8Array;
  /** Requested stages, finest grid first. */
  layers: Stage[];
  /** Output channels per entry of `layers`. */
  channels: number[];
}

/** Checks and orders a layer request; `label` names the backbone in errors. */
export function resolveLayers(layers: readonly string[] | undefined, label: string): Stage[] {
  const req = layers ?? DEFAULT_LAYERS;
  if (req.length === 0) throw new Error(`${label}: at least one layer is needed (some of ${STAGES.join(', ')})`);
  for (const l of req) {
    if (!(STAGES as readonly string[]).includes(l)) throw new Error(`${label}: unknown layer '${l}': expected some of ${STAGES.join(', ')}`);
  }
  if (new Set(req).size !== req.length) throw new Error(`${label}: layers [${req.join(', ')}] name a layer twice`);
  return STAGES.filter((s) => req.includes(s));
}

function halfToFloat(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function asFloat64(t: HostTensor): Float64Array {
  if (t.dtype === 'float16') return Float64Array.from(t.data as Uint16Array, halfToFloat);
  return Float64Array.from(t.data as Float32Array | Float64Array);
}

/** conv(x, W)·s + (β − μ·s) with s = γ/√(σ²+ε): the eval-mode BN folded into the conv. */
function foldConvBn(state: ReadonlyMap<string, HostTensor>, c: ConvSpec): { weight: HostTensor; bias: HostTensor } {
  const get = (k: string) => asFloat64(state.get(k) as HostTensor);
  const w = get(`${c.conv}.weight`);
  const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => get(`${c.bn}.${k}`));
  const per = w.length / c.outC;
  const weight = new Float32Array(w.length);
  const bias = new Float32Array(c.outC);
  for (let o = 0; o < c.outC; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let i = o * per; i < (o + 1) * per; i++) weight[i] = w[i] * s;
    bias[o] = beta[o] - mean[o] * s;
  }
  return { weight: f32([c.outC, c.inC / c.groups, c.kernel, c.kernel], weight), bias: f32([c.outC], bias) };
}

function convBn(g: GraphBuilder, state: ReadonlyMap<string, HostTensor>, c: ConvSpec, x: string): string {
  const { weight, bias } = foldConvBn(state, c);
  const pad = (c.kernel - 1) / 2;
  return g.op('Conv', [x, g.initializer(`${c.conv}.weight+${c.bn}`, weight), g.initializer(`${c.conv}.bias+${c.bn}`, bias)], {
    kernel_shape: [c.kernel, c.kernel],
    strides: [c.stride, c.stride],
    pads: [pad, pad, pad, pad],
    group: c.groups,
  });
}

/**
 * Validates `state` against `arch` (throwing `<source>: tensor '…' is missing` and the like), then
 * builds the graph: input `image` float32 [N,3,H,W], one float32 output per requested stage.
 */
export function buildResNet(
  state: ReadonlyMap<string, HostTensor>,
  opts: { arch: ResNetArch; source: string; layers?: readonly string[]; name?: string },
): ResNetGraph {
  const label = opts.name ?? 'resnet';
  checkArch(opts.arch, label);
  const layers = resolveLayers(opts.layers, label);
  const upTo = STAGES.indexOf(layers[layers.length - 1]) + 1;
  validateStateDict(state, opts.arch, upTo, opts.source);

  const g = new GraphBuilder(label);
  const image = g.input(RESNET_INPUT, 'float32', ['N', 3, 'H', 'W']);
  let x = g.op('Relu', [convBn(g, state, STEM_CONV, image)]);
  x = g.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  const channels: number[] = [];
  for (const stage of stageSpecs(opts.arch, upTo)) {
    for (const block of stage.blocks) {
      let h = x;
      block.convs.forEach((c, i) => {
        h = convBn(g, state, c, h);
        if (i < block.convs.length - 1) h = g.op('Relu', [h]);
      });
      const identity = block.downsample ? convBn(g, state, block.downsample, x) : x;
      x = g.op('Relu', [g.op('Add', [h, identity])]);
    }
    if (layers.includes(stage.name)) {
      g.output(x, stage.name, 'float32', ['N', stage.outC, null, null]);
      channels.push(stage.outC);
    }
  }
  const onnx = g.toModel({ architecture: JSON.stringify(opts.arch), layers: layers.join(',') });
  return { onnx, layers, channels };
}
