/**
 * Eval-mode scoring head: patch score s = −D(adaptor(x)) with BN on its running stats (spec §7).
 * Folding: adaptor, fc1 and eval-mode BN are all affine, so they collapse into one Linear D→Hd,
 * W = diag(α)·W1·Wa and b = α⊙(W1·ba + b1 − μ) + β with α = γ/√(var + eps). The product is
 * formed in float64 by onnxruntime and rounded to float32 once.
 */
import { float, GraphBuilder } from '../onnx/builder.js';
import { Session } from '../onnx/session.js';
import type { HostTensor } from '../onnx/tensor.js';
import { addBatchNormEval } from './batchNormGraph.js';
import { addInt8Linear } from './int8Linear.js';
import { addKnnPatchScores, isKnnParams, type KnnParams } from './knn.js';
import { checkHeadParams, type HeadParams, headDims, PARAM_NAMES, paramShapes } from './params.js';

/**
 * The folded head: scores = −fc2·LeakyReLU(x·weightᵀ + bias). Adaptor, fc1 and eval-mode batch
 * norm as one Linear, computed once by `foldHead` and reused for every graph built from it.
 * @example
 * const folded: FoldedHead = await foldHead(model.params, { bnEps: 1e-5 });
 * const scores = addPatchScores(g, features, folded, { fold: true });
 */
export interface FoldedHead {
  readonly kind: 'folded';
  /** [Hd, D] */
  readonly weight: HostTensor<'float32'>;
  /** [Hd] */
  readonly bias: HostTensor<'float32'>;
  /** discriminator.fc2.weight, [1, Hd] */
  readonly fc2Weight: HostTensor<'float32'>;
}

/**
 * How `addPatchScores` builds the head: folded into one Linear or kept as the separate adaptor,
 * fc1 and batch-norm ops, and the two numbers that must match training.
 * @example const opts: ScoreHeadOptions = { fold: true, bnEps: config.head.bnEps, leakySlope: config.head.leakySlope };
 */
export interface ScoreHeadOptions {
  /** Use the folded single Linear (from a FoldedHead, or folded in-graph from HeadParams). */
  fold: boolean;
  /** BN eps; must match training (default 1e-5). */
  bnEps?: number;
  /** LeakyReLU slope (default 0.2). */
  leakySlope?: number;
  /** The folded Linear in int8 (heads/int8Linear.ts; precision 'int8'); a FoldedHead only. Default false. */
  int8?: boolean;
}

/**
 * Adds nodes computing patch scores [N] from `features` ([N, D] float32 value name). With
 * `params` = HeadParams and fold: true, the fold is built from constant nodes that onnxruntime
 * evaluates once at session creation (constant folding); a FoldedHead is used as is. A knn head's
 * memory bank (KnnParams) gives the distance to the nearest bank feature instead (heads/knn.ts;
 * `fold` and the BN options do not apply to it).
 * @throws TypeError when `opts.fold` is not a boolean, when a FoldedHead comes with fold: false, when `opts.int8` comes without a FoldedHead, or
 * when `params` lacks a tensor or has a non-float32 one; RangeError when a tensor's shape is wrong.
 * @example
 * const features = g.input('features', 'float32', ['patches', 1536]);
 * g.output(addPatchScores(g, features, model.params, { fold: true }), 'patch_scores', 'float32', ['patches']);
 */
export function addPatchScores(g: GraphBuilder, features: string, params: HeadParams | FoldedHead | KnnParams, opts: ScoreHeadOptions): string {
  if (typeof opts?.fold !== 'boolean') throw new TypeError('addPatchScores: opts.fold must be a boolean');
  if (isKnnParams(params)) return addKnnPatchScores(g, features, params);
  const eps = opts.bnEps ?? 1e-5;
  const slope = opts.leakySlope ?? 0.2;
  let hidden: string;
  let fc2: HostTensor<'float32'>;
  if (isFolded(params)) {
    if (!opts.fold) throw new TypeError('addPatchScores: a FoldedHead needs opts.fold = true');
    hidden = opts.int8
      ? addInt8Linear(g, features, params.weight, params.bias)
      : g.op('Gemm', [features, g.constant(params.weight, 'head_w'), g.constant(params.bias, 'head_b')], { transB: 1 });
    fc2 = params.fc2Weight;
  } else {
    if (opts.int8) throw new TypeError('addPatchScores: opts.int8 needs a FoldedHead (foldHead)');
    checkHeadParams(params, headDims(params));
    if (opts.fold) {
      const f = addFoldNodes(g, (name) => g.constant(params[name], name.replace(/\./g, '_')), eps, 'float64');
      hidden = g.op('Gemm', [features, f.weight, f.bias], { transB: 1 });
    } else {
      const c = (name: keyof HeadParams): string => g.constant(params[name], name.replace(/\./g, '_'));
      const a = g.op('Gemm', [features, c('adaptor.weight'), c('adaptor.bias')], { transB: 1 });
      const h = g.op('Gemm', [a, c('discriminator.fc1.weight'), c('discriminator.fc1.bias')], { transB: 1 });
      hidden = addBatchNormEval(
        g,
        h,
        c('discriminator.bn.weight'),
        c('discriminator.bn.bias'),
        c('discriminator.bn.running_mean'),
        c('discriminator.bn.running_var'),
        eps,
      );
    }
    fc2 = params['discriminator.fc2.weight'];
  }
  const act = g.op('LeakyRelu', [hidden], { alpha: float(slope) });
  const d = g.op('Gemm', [act, g.constant(fc2, 'head_fc2')], { transB: 1 });
  return g.op('Neg', [g.op('Reshape', [d, g.ints([-1])])]);
}

function isFolded(p: HeadParams | FoldedHead): p is FoldedHead {
  return (p as FoldedHead).kind === 'folded';
}

/**
 * Fold nodes over param values (`value(name)`: a float32 value name) computed in `dtype` (float64
 * for stored models; float32 where speed matters more, e.g. validation every epoch);
 * returns float32 value names of the [Hd, D] weight and [Hd] bias.
 */
function addFoldNodes(g: GraphBuilder, value: (name: keyof HeadParams) => string, eps: number, dtype: 'float32' | 'float64'): { weight: string; bias: string } {
  const c = (name: keyof HeadParams): string => (dtype === 'float32' ? value(name) : g.cast(value(name), dtype));
  const scalar = (v: number) => (dtype === 'float32' ? g.scalarF32(v) : g.scalarF64(v));
  const wa = c('adaptor.weight');
  const ba = c('adaptor.bias');
  const w1 = c('discriminator.fc1.weight');
  const b1 = c('discriminator.fc1.bias');
  const alpha = g.op('Div', [c('discriminator.bn.weight'), g.op('Sqrt', [g.op('Add', [c('discriminator.bn.running_var'), scalar(eps)])])]);
  const w = g.op('MatMul', [w1, wa]); // [Hd, D]
  const wScaled = g.op('Mul', [w, g.op('Unsqueeze', [alpha, g.ints([1])])]);
  const b = g.op('Add', [g.op('MatMul', [w1, ba]), b1]);
  const bFolded = g.op('Add', [g.op('Mul', [g.op('Sub', [b, c('discriminator.bn.running_mean')]), alpha]), c('discriminator.bn.bias')]);
  if (dtype === 'float32') return { weight: wScaled, bias: bFolded };
  return { weight: g.cast(wScaled, 'float32'), bias: g.cast(bFolded, 'float32') };
}

/**
 * Patch scores [N] with the head's parameters as graph inputs (named as in HeadParams), folded in
 * float32: one session serves every epoch's weights (validation during training).
 */
export function addPatchScoresFromInputs(
  g: GraphBuilder,
  features: string,
  dims: { featureDim: number; hiddenDim: number },
  opts: { bnEps: number; leakySlope: number },
): string {
  const shapes = paramShapes(dims);
  const inputs = {} as Record<keyof HeadParams, string>;
  for (const name of PARAM_NAMES) inputs[name] = g.input(name, 'float32', shapes[name]);
  const f = addFoldNodes(g, (name) => inputs[name], opts.bnEps, 'float32');
  const hidden = g.op('Gemm', [features, f.weight, f.bias], { transB: 1 });
  const act = g.op('LeakyRelu', [hidden], { alpha: float(opts.leakySlope) });
  const d = g.op('Gemm', [act, inputs['discriminator.fc2.weight']], { transB: 1 });
  return g.op('Neg', [g.op('Reshape', [d, g.ints([-1])])]);
}

/**
 * Folds adaptor + fc1 + eval BN into one Linear (float64 product in onnxruntime, rounded once), for
 * building several scoring graphs from one set of weights without folding each time.
 * @throws TypeError / RangeError when `params` lacks a tensor or has a wrong dtype or shape.
 * @example const folded = await foldHead(model.params, { bnEps: model.config.head.bnEps });
 */
export async function foldHead(params: HeadParams, opts: { bnEps?: number } = {}): Promise<FoldedHead> {
  const dims = headDims(params);
  checkHeadParams(params, dims);
  const g = new GraphBuilder('simplenet_fold_head');
  const f = addFoldNodes(g, (name) => g.constant(params[name], name.replace(/\./g, '_')), opts.bnEps ?? 1e-5, 'float64');
  g.output(f.weight, 'weight', 'float32', [dims.hiddenDim, dims.featureDim]);
  g.output(f.bias, 'bias', 'float32', [dims.hiddenDim]);
  // No inputs: 'disabled' keeps onnxruntime from folding at load, since the run is the work anyway.
  const s = await Session.create(g.toModel(), 'fold head', { optimization: 'disabled' });
  try {
    const out = await s.run({});
    const host = (k: string): HostTensor<'float32'> => ({ dtype: 'float32', dims: [...out[k].dims], data: out[k].data as Float32Array });
    const fc2 = params['discriminator.fc2.weight'];
    return {
      kind: 'folded',
      weight: host('weight'),
      bias: host('bias'),
      fc2Weight: { dtype: 'float32', dims: [...fc2.dims], data: fc2.data.slice() },
    };
  } finally {
    await s.release();
  }
}
