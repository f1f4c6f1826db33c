/**
 * BatchNorm1d as graph nodes: training-mode forward (batch statistics + running-stat update, as
 * PyTorch does it), its hand-derived backward, and the eval-mode affine form.
 */
import type { GraphBuilder } from '../onnx/builder.js';

export interface BnTrainOut {
  /** γ·Ĥ + β, [n, C]. */
  y: string;
  /** Normalised input Ĥ = (H − μ)·invstd, [n, C]; kept for the backward. */
  hn: string;
  /** 1/√(σ²_biased + eps), [1, C]. */
  invstd: string;
  /** Updated running mean and running variance, [C]. */
  runningMean: string;
  runningVar: string;
}

/** Number of rows of a 2-D value, as a float32 scalar (the batch is a dynamic dim). */
export function rowCount(g: GraphBuilder, x: string): string {
  const shape = g.op('Shape', [x]);
  const n = g.op('Gather', [shape, g.scalarI64(0)], { axis: 0 });
  return g.cast(n, 'float32');
}

/**
 * Training-mode BatchNorm1d over the rows of `h` [n, C]. Normalises with the biased variance and
 * moves the running stats by `momentum` towards the batch mean and the UNBIASED variance.
 */
export function addBatchNormTrain(
  g: GraphBuilder,
  h: string,
  gamma: string,
  beta: string,
  runningMean: string,
  runningVar: string,
  opts: { momentum: number; eps: number },
): BnTrainOut {
  const mean = g.op('ReduceMean', [h], { axes: [0], keepdims: 1 });
  const hc = g.op('Sub', [h, mean]);
  const varB = g.op('ReduceMean', [g.op('Mul', [hc, hc])], { axes: [0], keepdims: 1 });
  const invstd = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [varB, g.scalarF32(opts.eps)])])]);
  const hn = g.op('Mul', [hc, invstd]);
  const y = g.op('Add', [g.op('Mul', [hn, gamma]), beta]);

  const n = rowCount(g, h);
  const bessel = g.op('Div', [n, g.op('Sub', [n, g.scalarF32(1)])]);
  const flat = g.ints([-1]);
  const varU = g.op('Mul', [g.op('Reshape', [varB, flat]), bessel]);
  const mom = g.scalarF32(opts.momentum);
  const keep = g.scalarF32(1 - opts.momentum);
  const rm = g.op('Add', [g.op('Mul', [g.op('Reshape', [mean, flat]), mom]), g.op('Mul', [runningMean, keep])]);
  const rv = g.op('Add', [g.op('Mul', [varU, mom]), g.op('Mul', [runningVar, keep])]);
  return { y, hn, invstd, runningMean: rm, runningVar: rv };
}

/**
 * Backward of training-mode BN. With dĤ = dY·γ the textbook form is
 * dH = invstd/n · (n·dĤ − ΣdĤ − Ĥ·Σ(dĤ⊙Ĥ)); since ΣdĤ = γ·dβ and Σ(dĤ⊙Ĥ) = γ·dγ this is
 * dH = γ·invstd · (dY − dβ/n − Ĥ·dγ/n), which needs no second pass over [n, C].
 */
export function addBatchNormTrainBackward(
  g: GraphBuilder,
  dy: string,
  hn: string,
  invstd: string,
  gamma: string,
): { dh: string; dGamma: string; dBeta: string } {
  const axis0 = g.ints([0]);
  const dBeta = g.op('ReduceSum', [dy, axis0], { keepdims: 0 });
  const dGamma = g.op('ReduceSum', [g.op('Mul', [dy, hn]), axis0], { keepdims: 0 });
  const n = rowCount(g, dy);
  const centred = g.op('Sub', [g.op('Sub', [dy, g.op('Div', [dBeta, n])]), g.op('Mul', [hn, g.op('Div', [dGamma, n])])]);
  const dh = g.op('Mul', [centred, g.op('Mul', [gamma, invstd])]);
  return { dh, dGamma, dBeta };
}

/** Eval-mode BN's affine form from running stats: α = γ/√(var + eps) and shift = β − μ·α. */
export function batchNormEvalAffine(
  g: GraphBuilder,
  gamma: string,
  beta: string,
  runningMean: string,
  runningVar: string,
  eps: number,
): { alpha: string; shift: string } {
  const alpha = g.op('Div', [gamma, g.op('Sqrt', [g.op('Add', [runningVar, g.scalarF32(eps)])])]);
  return { alpha, shift: g.op('Sub', [beta, g.op('Mul', [runningMean, alpha])]) };
}

/** Eval-mode BN from running stats, as PyTorch applies it: x·α + (β − μ·α), α = γ/√(var + eps). */
export function addBatchNormEval(g: GraphBuilder, h: string, gamma: string, beta: string, runningMean: string, runningVar: string, eps: number): string {
  const { alpha, shift } = batchNormEvalAffine(g, gamma, beta, runningMean, runningVar, eps);
  return g.op('Add', [g.op('Mul', [h, alpha]), shift]);
}
