/**
 * One Adam / AdamW parameter update as graph nodes, following PyTorch 1.13's single-tensor code
 * path operation by operation. Per-step factors arrive as float32 scalar inputs computed in JS
 * (double precision), so learning rates can change per step without rebuilding the graph.
 */
import type { GraphBuilder } from '../onnx/builder.js';

export interface AdamScalarInputs {
  /** lr / (1 − β1^t). */
  stepSize: string;
  /** √(1 − β2^t). */
  bc2Sqrt: string;
  /** Adam's L2 weight decay: g += l2·p. */
  l2?: string;
  /** AdamW's decoupled decay factor 1 − lr·wd: p *= decay before the update. */
  decay?: string;
}

export interface AdamConsts {
  beta1: number;
  beta2: number;
  adamEps: number;
}

export function addAdamUpdate(
  g: GraphBuilder,
  param: string,
  grad: string,
  expAvg: string,
  expAvgSq: string,
  s: AdamScalarInputs,
  c: AdamConsts,
): { param: string; expAvg: string; expAvgSq: string } {
  let gr = grad;
  if (s.l2) gr = g.op('Add', [gr, g.op('Mul', [param, s.l2])]);
  let p = param;
  if (s.decay) p = g.op('Mul', [p, s.decay]);
  const m = g.op('Add', [g.op('Mul', [expAvg, g.scalarF32(c.beta1)]), g.op('Mul', [gr, g.scalarF32(1 - c.beta1)])]);
  const v = g.op('Add', [g.op('Mul', [expAvgSq, g.scalarF32(c.beta2)]), g.op('Mul', [g.op('Mul', [gr, gr]), g.scalarF32(1 - c.beta2)])]);
  const denom = g.op('Add', [g.op('Div', [g.op('Sqrt', [v]), s.bc2Sqrt]), g.scalarF32(c.adamEps)]);
  const next = g.op('Sub', [p, g.op('Mul', [g.op('Div', [m, denom]), s.stepSize])]);
  return { param: next, expAvg: m, expAvgSq: v };
}

/** The per-step factors for step number `t` (1-based), in double precision. */
export function adamFactors(
  t: number,
  lr: number,
  weightDecay: number,
  c: Pick<AdamConsts, 'beta1' | 'beta2'>,
): { stepSize: number; bc2Sqrt: number; decay: number; l2: number } {
  if (!Number.isInteger(t) || t < 1) throw new RangeError(`adamFactors: t must be an integer ≥ 1, got ${t}`);
  if (!Number.isFinite(lr) || lr < 0) throw new RangeError(`adamFactors: lr must be a finite number ≥ 0, got ${lr}`);
  const bc1 = 1 - c.beta1 ** t;
  const bc2 = 1 - c.beta2 ** t;
  return { stepSize: lr / bc1, bc2Sqrt: Math.sqrt(bc2), decay: 1 - lr * weightDecay, l2: weightDecay };
}
