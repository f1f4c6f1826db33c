/**
 * Parameter names, shapes and the seeded PyTorch-style init of the adaptor and discriminator.
 * The names are the safetensors keys of a saved model (PyTorch state-dict names of the reference).
 */
import { f32, type HostTensor } from '../onnx/tensor.js';
import type { HeadConfig } from './config.js';
import type { Rng } from '../core/rng.js';

/**
 * The names of the head's tensors (the adaptor and the discriminator, Liu et al., CVPR 2023), in
 * a fixed order: the safetensors keys of a saved model's head weights.
 * @example for (const name of PARAM_NAMES) console.log(name, model.params[name].dims);
 */
export const PARAM_NAMES = [
  'adaptor.weight',
  'adaptor.bias',
  'discriminator.fc1.weight',
  'discriminator.fc1.bias',
  'discriminator.bn.weight',
  'discriminator.bn.bias',
  'discriminator.bn.running_mean',
  'discriminator.bn.running_var',
  'discriminator.fc2.weight',
] as const;

/**
 * One of the head's tensor names, e.g. 'discriminator.fc1.weight'.
 * @example const name: ParamName = 'adaptor.weight';
 */
export type ParamName = (typeof PARAM_NAMES)[number];

/**
 * The head's weights by name (float32): adaptor [D, D] and [D]; discriminator fc1 [Hd, D] and
 * [Hd], batch norm γ, β, running mean and variance [Hd], fc2 [1, Hd]. A loaded model's `params`.
 * @example
 * const params: HeadParams = initHeadParams({ featureDim: 1536, hiddenDim: 1024 }, new Rng(0));
 * console.log(params['discriminator.fc1.weight'].dims); // [1024, 1536]
 */
export type HeadParams = Record<ParamName, HostTensor<'float32'>>;

/** Updated by the adaptor's AdamW. */
export const ADAPTOR_TRAINABLE = ['adaptor.weight', 'adaptor.bias'] as const satisfies readonly ParamName[];
/** Updated by the discriminator's Adam (running stats are buffers, not trained). */
export const DISC_TRAINABLE = [
  'discriminator.fc1.weight',
  'discriminator.fc1.bias',
  'discriminator.bn.weight',
  'discriminator.bn.bias',
  'discriminator.fc2.weight',
] as const satisfies readonly ParamName[];
export const TRAINABLE = [...ADAPTOR_TRAINABLE, ...DISC_TRAINABLE] as const;
export type TrainableName = (typeof TRAINABLE)[number];

export function paramShapes(cfg: Pick<HeadConfig, 'featureDim' | 'hiddenDim'>): Record<ParamName, number[]> {
  const D = cfg.featureDim;
  const H = cfg.hiddenDim;
  return {
    'adaptor.weight': [D, D],
    'adaptor.bias': [D],
    'discriminator.fc1.weight': [H, D],
    'discriminator.fc1.bias': [H],
    'discriminator.bn.weight': [H],
    'discriminator.bn.bias': [H],
    'discriminator.bn.running_mean': [H],
    'discriminator.bn.running_var': [H],
    'discriminator.fc2.weight': [1, H],
  };
}

/**
 * Xavier-normal (gain 1) linear weights, PyTorch-default U(±1/√fan_in) biases, BN γ=1 β=0 and
 * running stats 0/1. Draw order is fixed (adaptor W, b, fc1 W, b, fc2 W) so a seed reproduces a model.
 * @example const params = initHeadParams({ featureDim: 1536, hiddenDim: 1024 }, new Rng(config.train.seed));
 */
export function initHeadParams(cfg: Pick<HeadConfig, 'featureDim' | 'hiddenDim'>, rng: Rng): HeadParams {
  const D = cfg.featureDim;
  const H = cfg.hiddenDim;
  const xavier = (out: number, inp: number): HostTensor<'float32'> => {
    const t = f32([out, inp]);
    const std = Math.sqrt(2 / (inp + out));
    for (let i = 0; i < t.data.length; i++) t.data[i] = std * rng.normal();
    return t;
  };
  const bias = (n: number, fanIn: number): HostTensor<'float32'> => {
    const t = f32([n]);
    const bound = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < n; i++) t.data[i] = (2 * rng.nextFloat() - 1) * bound;
    return t;
  };
  const aW = xavier(D, D);
  const aB = bias(D, D);
  const w1 = xavier(H, D);
  const b1 = bias(H, D);
  const w2 = xavier(1, H);
  return {
    'adaptor.weight': aW,
    'adaptor.bias': aB,
    'discriminator.fc1.weight': w1,
    'discriminator.fc1.bias': b1,
    'discriminator.bn.weight': f32([H], new Float32Array(H).fill(1)),
    'discriminator.bn.bias': f32([H]),
    'discriminator.bn.running_mean': f32([H]),
    'discriminator.bn.running_var': f32([H], new Float32Array(H).fill(1)),
    'discriminator.fc2.weight': w2,
  };
}

/** Checks that `params` has every name with the shape `cfg` implies (float32). */
export function checkHeadParams(params: unknown, cfg: Pick<HeadConfig, 'featureDim' | 'hiddenDim'>, arg = 'params'): HeadParams {
  if (typeof params !== 'object' || params === null) throw new TypeError(`${arg}: expected an object of head tensors`);
  const p = params as Record<string, HostTensor | undefined>;
  const shapes = paramShapes(cfg);
  for (const name of PARAM_NAMES) {
    const t = p[name];
    if (!t) throw new TypeError(`${arg}: missing '${name}'`);
    if (t.dtype !== 'float32') throw new TypeError(`${arg}['${name}']: expected float32, got ${t.dtype}`);
    const want = shapes[name];
    if (t.dims.length !== want.length || t.dims.some((d, i) => d !== want[i])) {
      throw new RangeError(`${arg}['${name}']: expected shape [${want.join(', ')}], got [${t.dims.join(', ')}]`);
    }
  }
  return p as HeadParams;
}

/** featureDim/hiddenDim read off a parameter set. */
export function headDims(params: HeadParams): { featureDim: number; hiddenDim: number } {
  const w1 = params['discriminator.fc1.weight'];
  if (w1?.dims.length !== 2) throw new TypeError(`params: 'discriminator.fc1.weight' must be a [Hd, D] tensor`);
  return { hiddenDim: w1.dims[0], featureDim: w1.dims[1] };
}

/**
 * The head with its adaptor replaced by the diagonal affine map x ↦ scale ⊙ x + shift (identity:
 * scale 1, shift 0). The discriminator's tensors are shared, not copied.
 */
export function withDiagonalAdaptor(params: HeadParams, scale: Float32Array, shift: Float32Array): HeadParams {
  const D = params['adaptor.bias'].dims[0];
  if (scale.length !== D || shift.length !== D) throw new RangeError(`withDiagonalAdaptor: scale and shift must have length ${D}`);
  const w = f32([D, D]);
  for (let i = 0; i < D; i++) w.data[i * D + i] = scale[i];
  return { ...params, 'adaptor.weight': w, 'adaptor.bias': f32([D], Float32Array.from(shift)) };
}
