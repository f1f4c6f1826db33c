/**
 * The whole training step as ONE ONNX graph: adaptor → noise (optionally scaled per row, along or past the data, optionally turned by gradient ascent)
 * → discriminator on [real; fake] → truncated-L1 or logistic loss (optionally on the hardest rows
 * only) → hand-derived backward → AdamW (adaptor) and Adam (discriminator) updates and the BN
 * running-stat update. Shapes: X [R, D], R dynamic; Z = [A; A+ε] has 2R rows.
 *
 * The adaptor A = X·Waᵀ + ba feeds only the discriminator's first Linear, so the graph never forms A
 * or Z: H_real = X·(W1·Wa)ᵀ + (W1·ba + b1) and H_fake = H_real + ε·W1ᵀ, and the backward meets the
 * same products from the other side, P = dH_sumᵀ·X, dWa = W1ᵀ·P and dW1 = P·Waᵀ + dH_sumᵀ·1·baᵀ +
 * dH_fakeᵀ·ε. The same gradients as autograd on Z (the PyTorch goldens below hold), with four
 * R-row products of width D × Hd instead of eight R-row products (two of them D × D): 145 against
 * 261 GFLOP per step of 8 bottle images. Fakes formed through the adaptor from backbone offsets δ
 * (`fakesThroughAdaptor`) fit the same scheme: their rows of H_fake gain δ·(W1·Wa)ᵀ and P gains
 * dH_fakeᵀ·δ, since those rows saw X + δ where the others saw X.
 */
import { float, GraphBuilder } from '../onnx/builder.js';
import { addAdamUpdate, type AdamScalarInputs } from './adamGraph.js';
import { addBatchNormTrain, addBatchNormTrainBackward, batchNormEvalAffine, rowCount } from './batchNormGraph.js';
import type { HeadConfig } from './config.js';
import { ADAPTOR_TRAINABLE, DISC_TRAINABLE, PARAM_NAMES, paramShapes, TRAINABLE } from './params.js';

export type NoiseSource = 'input' | { seed: number };

export interface StepGraphOptions {
  /** 'input': ε is the graph input `noise` [R, D]; {seed}: drawn in-graph by RandomNormalLike. */
  noise: NoiseSource;
  featureDtype: 'float32' | 'float16';
  /** The step takes a per-step σ factor (`noise.factor`, a σ schedule); without it the graph has none. Default false. */
  noiseSchedule?: boolean;
  /**
   * The step takes given fakes (`fakes.offset` [K, D] at rows `fakes.rows` [K]): each such
   * row's offset is the given one (a synthetic defect's feature offset, training/syntheticFakes.ts)
   * in place of its drawn and turned ε. Default false.
   */
  givenFakes?: boolean;
  /**
   * The step takes given reals (`reals.offset` [H, D] at rows `reals.rows` [H]): each such row's
   * real feature is X + offset (a patch beside a synthetic defect, as that copy's features have it,
   * training/syntheticFakes.ts `haloReals`), and everything after, its fake included, starts from it.
   * Default false.
   */
  givenReals?: boolean;
  /**
   * Soft target of the given reals (`givenReals`; logistic loss, every row kept): each such row's
   * loss is binary cross-entropy against "fake with probability t", softplus(−s) + t·s, whose
   * optimum is the logit s = log((1 − t)/t) instead of +∞. 0 (default): a real like any other.
   * 'per-row': the step takes each given real's own target (`reals.target` [H], each in [0, 1)).
   */
  givenRealsTarget?: number | 'per-row';
}

/** Graph input / output names (outputs of updated tensors are the input name + NEXT). */
export const STEP_IO = {
  features: 'features',
  noise: 'noise',
  /** Scalar factor on σ for this step (in-graph noise only; `takesNoiseFactor`). */
  noiseFactor: 'noise.factor',
  /** Given fakes' offsets [K, D] and their row numbers [K] (int64, distinct; `StepGraphOptions.givenFakes`). */
  givenOffset: 'fakes.offset',
  givenRows: 'fakes.rows',
  /** Given reals' offsets [H, D] and their row numbers [H] (int64, distinct; `StepGraphOptions.givenReals`). */
  realsOffset: 'reals.offset',
  realsRows: 'reals.rows',
  /** Given reals' soft targets [H] (`StepGraphOptions.givenRealsTarget` 'per-row'). */
  realsTarget: 'reals.target',
  /** Per-row factor [R, 1] on σ (`HeadConfig.noiseLocality` > 0; `takesRowScale`). */
  noiseRowScale: 'noise.row_scale',
  loss: 'loss',
  pTrue: 'p_true',
  pFake: 'p_fake',
  adaptor: { stepSize: 'adaptor.step_size', bc2Sqrt: 'adaptor.bc2_sqrt', decay: 'adaptor.decay' },
  disc: { stepSize: 'discriminator.step_size', bc2Sqrt: 'discriminator.bc2_sqrt', l2: 'discriminator.l2' },
} as const;
export const NEXT = '.next';
export const expAvgName = (p: string): string => `${p}.exp_avg`;
export const expAvgSqName = (p: string): string => `${p}.exp_avg_sq`;

/** Names of every tensor that the step reads and writes back (params, buffers, optimizer states). */
export const STATE_NAMES: readonly string[] = [...PARAM_NAMES, ...TRAINABLE.flatMap((p) => [expAvgName(p), expAvgSqName(p)])];

/** ONNX RandomNormalLike takes its seed as a float attribute: keep it an exact float32 integer. */
export function noiseSeedAttr(seed: number): number {
  if (!Number.isInteger(seed)) throw new TypeError(`noise.seed must be an integer, got ${seed}`);
  let z = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x45d9f3b) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  return z & 0xffffff; // < 2^24: exactly representable
}

/**
 * Whether the step graph reads the scalar `noise.factor`: only when a σ schedule asks for it, and
 * only noise drawn in-graph with σ > 0 has a σ to scale (runs without a schedule pay no per-step Mul).
 */
export function takesNoiseFactor(cfg: Pick<HeadConfig, 'noiseStd'>, opts: Pick<StepGraphOptions, 'noise' | 'noiseSchedule'>): boolean {
  return opts.noiseSchedule === true && opts.noise !== 'input' && cfg.noiseStd > 0;
}

/**
 * Whether the step graph reads the per-row σ factors `noise.row_scale` [R, 1]: only with
 * `noiseLocality` > 0 and noise drawn in-graph with σ > 0 (noise fed as input is used as given).
 */
export function takesRowScale(cfg: Pick<HeadConfig, 'noiseStd' | 'noiseLocality'>, opts: Pick<StepGraphOptions, 'noise'>): boolean {
  return cfg.noiseLocality > 0 && opts.noise !== 'input' && cfg.noiseStd > 0;
}

/**
 * The noise ε [R, D] of the fakes A + ε as a node of `g`: fed as the input `noise`, or drawn
 * in-graph with σ `cfg.noiseStd` (per row σ·s^u when `cfg.noiseSpread` s > 1), times the scalar
 * value `factor` when given (a σ schedule). `like` is any [R, D] float value (the drawn stream
 * depends only on its shape and the seed). Undefined when σ = 0: the fakes equal A.
 */
export function addNoise(
  g: GraphBuilder,
  like: string,
  cfg: Pick<HeadConfig, 'featureDim' | 'noiseStd' | 'noiseSpread'>,
  noise: NoiseSource,
  factor?: string,
): string | undefined {
  if (noise === 'input') return g.input(STEP_IO.noise, 'float32', ['R', cfg.featureDim]);
  if (cfg.noiseStd === 0) {
    // onnxruntime aborts the process on a zero scale; zero noise means the fakes equal A.
    noiseSeedAttr(noise.seed);
    return undefined;
  }
  const eps = g.op('RandomNormalLike', [like], {
    dtype: 1,
    mean: float(0),
    scale: float(cfg.noiseStd),
    seed: float(noiseSeedAttr(noise.seed)),
  });
  const spread = cfg.noiseSpread === 1 ? eps : g.op('Mul', [eps, rowSpread(g, like, cfg.noiseSpread, noise.seed)]);
  return factor ? g.op('Mul', [spread, factor]) : spread;
}

/**
 * One factor s^u per row of `a`, u ~ U(−1, 1) drawn in-graph ([R, 1]); its seed is the noise seed's
 * neighbour, so the ε stream is the same as without spread.
 */
function rowSpread(g: GraphBuilder, a: string, spread: number, seed: number): string {
  const column = g.op('Slice', [a, g.ints([0]), g.ints([1]), g.ints([1])]);
  const u = g.op('RandomUniformLike', [column], { dtype: 1, low: float(-1), high: float(1), seed: float(noiseSeedAttr(seed + 1)) });
  return g.op('Exp', [g.op('Mul', [u, g.scalarF32(Math.log(spread))])]);
}

/** The row norms of `v` [R, D] as [R, 1]. */
function rowNorm(g: GraphBuilder, v: string): string {
  return g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [v, v]), g.ints([1])], { keepdims: 1 })]);
}

/**
 * Fakes made from the data: `eps` is ε with the chosen rows (`use`, bool [R, 1]) replaced by their
 * `offset` [R, D] (a backbone-feature offset), for fakes A + offset; with
 * `HeadConfig.fakesThroughAdaptor` the graph instead forms those rows' fakes as the adaptor of X + offset.
 * Every such offset lies on the line to the row's partner, offset = coef·(X_partner − X), `coef`
 * [R, 1] (0 on the rows not chosen), which is what lets the step form them without a dense product.
 */
export interface DataFakes {
  eps: string;
  use: string;
  offset: string;
  partner: string;
  coef: string;
}

/** A random pairing j of the batch's rows (the order of uniform draws: a permutation) and X_j − X_i with its row norms. */
function pairRows(g: GraphBuilder, x: string, column: string, seed: number): { partner: string; diff: string; diffNorm: string } {
  const order = g.op('Reshape', [g.op('RandomUniformLike', [column], { dtype: 1, seed: float(noiseSeedAttr(seed)) }), g.ints([-1])]);
  const [, partner] = g.opN('TopK', [order, g.op('Shape', [order])], 2, { axis: 0, largest: 1, sorted: 1 });
  const diff = g.op('Sub', [g.op('Gather', [x, partner], { axis: 0 }), x]);
  return { partner, diff, diffNorm: rowNorm(g, diff) };
}

/** The rows [R, 1] (bool) drawn with probability `fraction` whose partner differs from them. */
function pickRows(g: GraphBuilder, column: string, diffNorm: string, fraction: number, seed: number): string {
  const picked = g.op('Less', [g.op('RandomUniformLike', [column], { dtype: 1, seed: float(noiseSeedAttr(seed)) }), g.scalarF32(fraction)]);
  return g.op('And', [picked, g.op('Greater', [diffNorm, g.scalarF32(1e-6)])]);
}

/**
 * Fakes along the data (`HeadConfig.dataDirections` = p > 0): a share p of the rows, drawn
 * in-graph, get the offset ‖ε‖·(X_j − X_i)/‖X_j − X_i‖ in place of their Gaussian ε, j a random
 * pairing of the batch's rows. Gaussian noise in D
 * dimensions leaves the normal features in directions no real patch takes; real defects are made
 * of image content, so their features move along the data. The length stays the Gaussian's, so
 * σ still sets how far fakes are. A row paired with itself, or with an identical feature, keeps ε.
 * `x` [R, D] are the features (the noise's scale is measured on them too). Returns the new ε, the
 * pairing j [R] (int64) and the 0/1 mask [R, 1] of the rows that took a data direction.
 */
export function addDataDirections(g: GraphBuilder, x: string, eps: string, fraction: number, seed: number): DataFakes & { mask: string } {
  const column = g.op('Slice', [x, g.ints([0]), g.ints([1]), g.ints([1])]);
  const { partner, diff, diffNorm } = pairRows(g, x, column, seed + 2);
  const use = pickRows(g, column, diffNorm, fraction, seed + 3);
  const scale = g.op('Div', [rowNorm(g, eps), g.op('Max', [diffNorm, g.scalarF32(1e-12)])]);
  const along = g.op('Mul', [diff, scale]);
  const coef = g.op('Where', [use, scale, g.scalarF32(0)]);
  return { eps: g.op('Where', [use, along, eps]), use, offset: along, partner, coef, mask: g.cast(use, 'float32') };
}

/** Where extrapolated fakes lie on the line from X_i through X_j: X_i + t·(X_j − X_i), t ~ U(EXTRAPOLATE_FROM, EXTRAPOLATE_TO). */
export const EXTRAPOLATE_FROM = 1.5;
export const EXTRAPOLATE_TO = 2;

/**
 * Fakes past the data (`HeadConfig.extrapolatedFakes` = p > 0): a share p of the rows get the
 * offset t·(X_j − X_i), t ~ U(1.5, 2) per row, j a random pairing of the batch's rows: the fake
 * lies beyond another training patch, half to one pair distance past it, on the line from its own.
 * Fakes along data directions within the pair distance sit among normal patches; but without fakes
 * beyond it, a discriminator trained on Gaussian fakes scores points far out along the data's own
 * directions as normal (on a trained bottle model, points at t = 2 lie a median 28.7 from every
 * other image's patch, 7.7× the normal nearest-neighbour distance, and score more normal than the
 * real patches: docs/studies/fast-convergence.md, "Fakes past the data"). The distance follows the data's own spread, no σ.
 * A row paired with itself, or with an identical feature, keeps ε. Returns the new ε, the pairing
 * j [R] (int64), each row's t [R, 1] and the 0/1 mask [R, 1] of the rows that took it.
 */
export function addExtrapolatedFakes(g: GraphBuilder, x: string, eps: string, fraction: number, seed: number): DataFakes & { t: string; mask: string } {
  const column = g.op('Slice', [x, g.ints([0]), g.ints([1]), g.ints([1])]);
  const { partner, diff, diffNorm } = pairRows(g, x, column, seed + 4);
  const use = pickRows(g, column, diffNorm, fraction, seed + 5);
  const t = g.op('RandomUniformLike', [column], { dtype: 1, low: float(EXTRAPOLATE_FROM), high: float(EXTRAPOLATE_TO), seed: float(noiseSeedAttr(seed + 6)) });
  const offset = g.op('Mul', [diff, t]);
  const mask = g.cast(use, 'float32');
  return { eps: g.op('Where', [use, offset, eps]), use, offset, partner, coef: g.op('Mul', [t, mask]), t, mask };
}

/**
 * The k = max(1, ⌈f·R⌉) rows of each branch of `rowLoss` [2, R] with the largest loss: their
 * values [2, k], a 0/1 mask [2, R] of them (from TopK's indices, so exactly k per branch) and k as
 * a float scalar. `r` is R as a float scalar.
 */
function addHardRows(g: GraphBuilder, rowLoss: string, r: string, fraction: number): { values: string; mask: string; k: string } {
  const k = g.op('Max', [g.op('Ceil', [g.op('Mul', [r, g.scalarF32(fraction)])]), g.scalarF32(1)]);
  const kVec = g.op('Reshape', [g.cast(k, 'int64'), g.ints([1])]);
  const [values, indices] = g.opN('TopK', [rowLoss, kVec], 2, { axis: 1, largest: 1, sorted: 0 });
  const zeros = g.op('Expand', [g.scalarF32(0), g.op('Shape', [rowLoss])]);
  const ones = g.op('Expand', [g.scalarF32(1), g.op('Shape', [values])]);
  return { values, mask: g.op('ScatterElements', [zeros, indices, ones], { axis: 1 }), k };
}

/**
 * Hard fakes by gradient ascent (GLASS, Chen et al., ECCV 2024, "global anomaly synthesis"): each
 * fake's offset ε = F − A is turned, `cfg.ascentSteps` times, towards the direction in which the
 * discriminator finds F most normal, ε ← ε + η‖ε‖·ĝ (ĝ the unit gradient of the score D(F),
 * η = `cfg.ascentSize`), then rescaled to its old length, so a fake keeps its distance from its
 * real patch and only its direction gets harder. ĝ uses the batch norm's running statistics (the
 * eval-mode network, one R-row pass: no coupling between rows). The backward treats the final ε as
 * a constant offset, as it treats the noise. `hReal` is the real rows' first Linear (A·W1ᵀ + b1),
 * so each pass costs ε·W1ᵀ and the gradient's product; returns the turned ε.
 */
function addAscent(g: GraphBuilder, hReal: string, eps0: string, inp: Record<string, string>, cfg: HeadConfig): string {
  const w1 = inp['discriminator.fc1.weight'];
  const { alpha, shift } = batchNormEvalAffine(
    g,
    inp['discriminator.bn.weight'],
    inp['discriminator.bn.bias'],
    inp['discriminator.bn.running_mean'],
    inp['discriminator.bn.running_var'],
    cfg.bnEps,
  );
  const w2Scaled = g.op('Mul', [inp['discriminator.fc2.weight'], alpha]); // [1, Hd]: d score / d BN input per unit slope
  let eps = eps0;
  const length = rowNorm(g, eps);
  const stepLength = g.op('Mul', [length, g.scalarF32(cfg.ascentSize)]);
  for (let k = 0; k < cfg.ascentSteps; k++) {
    const h = g.op('Add', [hReal, g.op('Gemm', [eps, w1], { transB: 1 })]);
    const y = g.op('Add', [g.op('Mul', [h, alpha]), shift]);
    const slope = g.op('Where', [g.op('Greater', [y, g.scalarF32(0)]), g.scalarF32(1), g.scalarF32(cfg.leakySlope)]);
    const grad = g.op('MatMul', [g.op('Mul', [slope, w2Scaled]), w1]); // [R, D]
    const unit = g.op('Div', [grad, g.op('Add', [rowNorm(g, grad), g.scalarF32(1e-12)])]);
    const moved = g.op('Add', [eps, g.op('Mul', [unit, stepLength])]);
    eps = g.op('Mul', [moved, g.op('Div', [length, g.op('Add', [rowNorm(g, moved), g.scalarF32(1e-12)])])]);
  }
  return eps;
}

/**
 * The given fakes' inputs: `fakes.offset` [K, D] for the rows `fakes.rows` [K] (int64, distinct),
 * the rows as ScatterND/GatherND indices [K, 1]. Only the K given rows are fed, so a step pays for
 * its few stained patches, not for a dense [R, D] offset. Without `fakesThroughAdaptor` a given
 * row's fake is A + offset, the offset applied in the adaptor's output space as the Gaussian ε is
 * (the identity-initialised adaptor maps backbone offsets nearly unchanged at first); with it, the
 * adaptor of X + offset. Either way the backward treats the offset as a constant, as it treats ε.
 */
interface GivenFakeInputs {
  rows: string;
  offset: string;
}
function givenFakeInputs(g: GraphBuilder, D: number): GivenFakeInputs {
  const offset = g.input(STEP_IO.givenOffset, 'float32', ['K', D]);
  return { rows: g.op('Unsqueeze', [g.input(STEP_IO.givenRows, 'int64', ['K']), g.ints([1])]), offset };
}

/** Fakes on the line from each row to its `partner` [R] (int64, a permutation): X + coef·(X_partner − X), `coef` [R, 1]. */
interface PairFakes {
  partner: string;
  coef: string;
}

/**
 * X with the given reals' offsets added on their rows (X + offset there, X elsewhere). Every use of X
 * after this (H_real, the fakes, P = dH·X) sees the shifted rows, so the backward needs nothing more.
 */
function addGivenReals(g: GraphBuilder, x: string, D: number): { x: string; rows: string } {
  const rows = g.op('Unsqueeze', [g.input(STEP_IO.realsRows, 'int64', ['H']), g.ints([1])]);
  const offset = g.input(STEP_IO.realsOffset, 'float32', ['H', D]);
  return { x: g.op('ScatterND', [x, rows, g.op('Add', [g.op('GatherND', [x, rows]), offset])]), rows };
}

/**
 * t/R on the given reals' rows of the real branch, 0 elsewhere [R]: the soft target's term of
 * d loss / d s (its loss term is t·s on those rows, mean over the R real rows). `t` is one target
 * for every given real or ('per-row') the graph's input of one per row.
 */
function softTargetGrad(g: GraphBuilder, realScores: string, rows: string, t: number | 'per-row', r: string): string {
  const atRows =
    t === 'per-row'
      ? g.op('Div', [g.input(STEP_IO.realsTarget, 'float32', ['H']), r])
      : g.op('Expand', [g.op('Div', [g.scalarF32(t), r]), g.op('Shape', [rows], { end: 1 })]);
  return g.op('ScatterND', [zerosLike(g, realScores), rows, atRows]);
}

/** float32 zeros of `like`'s shape. */
function zerosLike(g: GraphBuilder, like: string): string {
  return g.op('ConstantOfShape', [g.op('Shape', [like])]); // float32 0 by default
}

export function buildStepGraph(cfg: HeadConfig, opts: StepGraphOptions): Uint8Array {
  const g = new GraphBuilder('simplenet_train_step');
  const D = cfg.featureDim;
  const Hd = cfg.hiddenDim;
  const shapes = paramShapes(cfg);
  const inp: Record<string, string> = {};
  for (const name of PARAM_NAMES) inp[name] = g.input(name, 'float32', shapes[name]);
  for (const name of TRAINABLE) {
    inp[expAvgName(name)] = g.input(expAvgName(name), 'float32', shapes[name]);
    inp[expAvgSqName(name)] = g.input(expAvgSqName(name), 'float32', shapes[name]);
  }
  const scalar = (n: string): string => g.input(n, 'float32', []);
  const aS: AdamScalarInputs = {
    stepSize: scalar(STEP_IO.adaptor.stepSize),
    bc2Sqrt: scalar(STEP_IO.adaptor.bc2Sqrt),
    decay: scalar(STEP_IO.adaptor.decay),
  };
  const dS: AdamScalarInputs = {
    stepSize: scalar(STEP_IO.disc.stepSize),
    bc2Sqrt: scalar(STEP_IO.disc.bc2Sqrt),
    l2: scalar(STEP_IO.disc.l2),
  };

  // ---- forward ----
  const feats = g.input(STEP_IO.features, opts.featureDtype, ['R', D]);
  const x32 = opts.featureDtype === 'float32' ? feats : g.cast(feats, 'float32');
  const reals = opts.givenReals ? addGivenReals(g, x32, D) : undefined;
  const x = reals ? reals.x : x32;
  const target = opts.givenRealsTarget ?? 0;
  if (!(target === 'per-row' || (target >= 0 && target < 1))) {
    throw new RangeError(`buildStepGraph: givenRealsTarget must be in [0, 1) or 'per-row', got ${target}`);
  }
  const isSoft = target === 'per-row' || target > 0;
  if (isSoft && !(reals && cfg.loss === 'logistic' && cfg.hardFraction === 1)) {
    throw new TypeError("buildStepGraph: givenRealsTarget > 0 or 'per-row' needs givenReals, the logistic loss and hardFraction 1");
  }
  const w1 = inp['discriminator.fc1.weight'];
  const wa = inp['adaptor.weight'];
  const ba = g.op('Reshape', [inp['adaptor.bias'], g.ints([1, D])]);
  // fc1 after the adaptor as one Linear: W1·Wa [Hd, D] and W1·ba + b1 [Hd].
  const wFused = g.op('MatMul', [w1, wa]);
  const bFused = g.op('Reshape', [g.op('Gemm', [ba, w1, inp['discriminator.fc1.bias']], { transB: 1 }), g.ints([Hd])]);
  const hReal = g.op('Gemm', [x, wFused, bFused], { transB: 1 }); // = A·W1ᵀ + b1
  let drawn = addNoise(g, x, cfg, opts.noise, takesNoiseFactor(cfg, opts) ? scalar(STEP_IO.noiseFactor) : undefined);
  if (cfg.noiseLocality > 0 && opts.noise === 'input') {
    throw new TypeError("buildStepGraph: noiseLocality needs noise drawn in-graph ({seed}), not 'input'");
  }
  // Before the data directions and the ascent: both keep each row's length, so its σ stays.
  if (drawn && takesRowScale(cfg, opts)) drawn = g.op('Mul', [drawn, g.input(STEP_IO.noiseRowScale, 'float32', ['R', 1])]);
  // Fakes made from the data: A + offset, or (fakesThroughAdaptor) the adaptor of X + offset,
  // whose rows then leave ε (zero there) for `pairs`: a later kind takes its rows from an earlier.
  const through = cfg.fakesThroughAdaptor;
  const pairs: PairFakes[] = [];
  const takeData = (f: DataFakes): string => {
    if (!through) return f.eps;
    for (const q of pairs) q.coef = g.op('Where', [f.use, g.scalarF32(0), q.coef]);
    pairs.push({ partner: f.partner, coef: f.coef });
    return g.op('Where', [f.use, g.scalarF32(0), f.eps]);
  };
  if (cfg.dataDirections > 0) {
    if (opts.noise === 'input') throw new TypeError("buildStepGraph: dataDirections needs noise drawn in-graph ({seed}), not 'input'");
    if (drawn) drawn = takeData(addDataDirections(g, x, drawn, cfg.dataDirections, opts.noise.seed));
  }
  if (cfg.extrapolatedFakes > 0) {
    if (opts.noise === 'input') throw new TypeError("buildStepGraph: extrapolatedFakes needs noise drawn in-graph ({seed}), not 'input'");
    if (drawn) drawn = takeData(addExtrapolatedFakes(g, x, drawn, cfg.extrapolatedFakes, opts.noise.seed));
  }
  const turned = drawn && cfg.ascentSteps > 0 ? addAscent(g, hReal, drawn, inp, cfg) : drawn;
  const given = opts.givenFakes ? givenFakeInputs(g, D) : undefined;
  let eps = turned;
  let sparse: GivenFakeInputs | undefined; // given rows formed through the adaptor one by one (no dense offset)
  if (given && !through) eps = g.op('ScatterND', [turned ?? zerosLike(g, x), given.rows, given.offset]);
  else if (given) {
    eps = g.op('ScatterND', [turned ?? zerosLike(g, x), given.rows, zerosLike(g, given.offset)]);
    // A given row's fake is its own offset's alone.
    if (pairs.length > 0) {
      const none = zerosLike(g, g.op('GatherND', [pairs[0].coef, given.rows]));
      for (const q of pairs) q.coef = g.op('ScatterND', [q.coef, given.rows, none]);
    }
    sparse = given;
  }
  let hFake = eps ? g.op('Add', [hReal, g.op('Gemm', [eps, w1], { transB: 1 })]) : hReal;
  // The adaptor is affine, so A(X_i + c·(X_j − X_i)) = A_i + c·(A_j − A_i), and so is its first Linear:
  // a fake on the line to its partner costs a gather of the real rows' h, not an R-row product.
  for (const q of pairs) {
    const toPartner = g.op('Sub', [g.op('Gather', [hReal, q.partner], { axis: 0 }), hReal]);
    hFake = g.op('Add', [hFake, g.op('Mul', [toPartner, q.coef])]);
  }
  // The adaptor is linear: A(X + δ) = A + δ·Waᵀ, so its first Linear adds δ·(W1·Wa)ᵀ.
  if (sparse) {
    const rowsH = g.op('Add', [g.op('GatherND', [hFake, sparse.rows]), g.op('Gemm', [sparse.offset, wFused], { transB: 1 })]);
    hFake = g.op('ScatterND', [hFake, sparse.rows, rowsH]);
  }
  const h = g.op('Concat', [hReal, hFake], { axis: 0 });
  const bn = addBatchNormTrain(
    g,
    h,
    inp['discriminator.bn.weight'],
    inp['discriminator.bn.bias'],
    inp['discriminator.bn.running_mean'],
    inp['discriminator.bn.running_var'],
    { momentum: cfg.bnMomentum, eps: cfg.bnEps },
  );
  const act = g.op('LeakyRelu', [bn.y], { alpha: float(cfg.leakySlope) });
  const scores = g.op('Gemm', [act, inp['discriminator.fc2.weight']], { transB: 1 }); // [2R, 1]

  // ---- loss: rows of [2, R] are (real, fake), sign = (−1, +1); truncated L1: relu(t) with
  // t = sign·s + margin; logistic: softplus(t) with t = sign·s (BCE with logits, real = 1) ----
  const s2 = g.op('Reshape', [scores, g.ints([2, -1])]);
  const sign = g.constant({ dtype: 'float32', dims: [2, 1], data: Float32Array.from([-1, 1]) }, 'sign');
  const logistic = cfg.loss === 'logistic';
  const signed = g.op('Mul', [s2, sign]);
  const t = logistic ? signed : g.op('Add', [signed, g.scalarF32(cfg.margin)]);
  const r = rowCount(g, x);
  const rowLoss = g.op(logistic ? 'Softplus' : 'Relu', [t]); // [2, R]
  const hard = cfg.hardFraction < 1 ? addHardRows(g, rowLoss, r, cfg.hardFraction) : undefined;
  const perBranch = g.op('ReduceMean', [hard ? hard.values : rowLoss], { axes: [1], keepdims: 0 });
  const plainLoss = g.op('ReduceSum', [perBranch, g.ints([0])], { keepdims: 0 });
  const real = g.op('Gather', [s2, g.scalarI64(0)], { axis: 0 });
  const soft = reals && isSoft ? softTargetGrad(g, real, reals.rows, target, r) : undefined;
  // softplus(−s) + t·s on a given real: the plain loss plus Σ (t/R)·s over those rows.
  const loss = soft ? g.op('Add', [plainLoss, g.op('ReduceSum', [g.op('Mul', [soft, real])], { keepdims: 0 })]) : plainLoss;
  g.output(loss, STEP_IO.loss, 'float32', []);
  // p_true = mean(real ≥ th), p_fake = mean(fake < −th); both are "t ≤ 0" except at the boundary.
  const fk = g.op('Gather', [s2, g.scalarI64(1)], { axis: 0 });
  const pTrue = g.op('ReduceMean', [g.cast(g.op('GreaterOrEqual', [real, g.scalarF32(cfg.margin)]), 'float32')], { keepdims: 0 });
  const pFake = g.op('ReduceMean', [g.cast(g.op('Less', [fk, g.scalarF32(-cfg.margin)]), 'float32')], { keepdims: 0 });
  g.output(pTrue, STEP_IO.pTrue, 'float32', []);
  g.output(pFake, STEP_IO.pFake, 'float32', []);

  // ---- backward ----
  // d loss / d t = [t ≥ 0]/R (clamp passes the gradient at 0, as PyTorch) or sigmoid(t)/R
  // (softplus), d t / d s = sign; with hard rows only the k kept rows of each branch, over k.
  const dLoss = logistic ? g.op('Sigmoid', [t]) : g.cast(g.op('GreaterOrEqual', [t, g.scalarF32(0)]), 'float32');
  const dT = hard ? g.op('Div', [g.op('Mul', [dLoss, hard.mask]), hard.k]) : g.op('Div', [dLoss, r]);
  const dSigned = g.op('Mul', [dT, sign]); // [2, R]
  const softRow = soft ? g.op('Unsqueeze', [soft, g.ints([0])]) : undefined; // [1, R], the real branch's
  const dS2 = softRow ? g.op('Add', [dSigned, g.op('Concat', [softRow, zerosLike(g, softRow)], { axis: 0 })]) : dSigned;
  const dScores = g.op('Reshape', [dS2, g.ints([-1, 1])]); // [2R, 1]
  const dW2 = g.op('Gemm', [dScores, act], { transA: 1 }); // [1, Hd]
  const dAct = g.op('Mul', [dScores, inp['discriminator.fc2.weight']]); // outer product [2R, Hd]
  // LeakyReLU backward uses y > 0 (PyTorch); at exactly 0 the slope branch applies.
  const slope = g.op('Where', [g.op('Greater', [bn.y, g.scalarF32(0)]), g.scalarF32(1), g.scalarF32(cfg.leakySlope)]);
  const dY = g.op('Mul', [dAct, slope]);
  const bnb = addBatchNormTrainBackward(g, dY, bn.hn, bn.invstd, inp['discriminator.bn.weight']);
  const db1 = g.op('ReduceSum', [bnb.dh, g.ints([0])], { keepdims: 0 });
  // A feeds both halves of Z (F = A + ε): dA = dH_sum·W1 with dH_sum = dH_real + dH_fake, and
  // everything the backward needs from A and Z comes through P = dH_sumᵀ·X (one R-row product).
  const dH2 = g.op('Reshape', [bnb.dh, g.ints([2, -1, Hd])]);
  const dHsum = g.op('ReduceSum', [dH2, g.ints([0])], { keepdims: 0 }); // [R, Hd]
  const dHfake = g.op('Gather', [dH2, g.scalarI64(1)], { axis: 0 }); // [R, Hd]
  // Fakes through the adaptor saw X + δ where the others saw X: P gains dH_fakeᵀ·δ on their rows.
  // For a fake on the line to its partner, δ = c·(X_j − X_i): its row's dH moves c·dH_fake from
  // row i to row j (a permutation, so a scatter without collisions), and P stays one product.
  let dHx = dHsum;
  for (const q of pairs) {
    const moved = g.op('Mul', [dHfake, q.coef]);
    const arrive = g.op('ScatterND', [zerosLike(g, moved), g.op('Unsqueeze', [q.partner, g.ints([1])]), moved]);
    dHx = g.op('Add', [g.op('Sub', [dHx, moved]), arrive]);
  }
  const pX = g.op('Gemm', [dHx, x], { transA: 1 }); // [Hd, D]
  const p = sparse ? g.op('Gemm', [g.op('GatherND', [dHfake, sparse.rows]), sparse.offset, pX], { transA: 1 }) : pX;
  const dHcol = g.op('ReduceSum', [dHsum, g.ints([0])], { keepdims: 1 }); // [1, Hd]
  // dW1 = dH_realᵀ·A + dH_fakeᵀ·(A + ε) = P·Waᵀ + dH_sumᵀ·1·baᵀ (+ dH_fakeᵀ·ε)
  const dW1Real = g.op('Gemm', [dHcol, ba, g.op('Gemm', [p, wa], { transB: 1 })], { transA: 1 });
  const dW1 = eps ? g.op('Add', [dW1Real, g.op('Gemm', [dHfake, eps], { transA: 1 })]) : dW1Real; // [Hd, D]
  const dWa = g.op('Gemm', [w1, p], { transA: 1 }); // W1ᵀ·P = dAᵀ·X [D, D]
  const dba = g.op('Reshape', [g.op('MatMul', [dHcol, w1]), g.ints([D])]); // Σ_rows dA

  // ---- optimizer updates ----
  const grads: Record<string, string> = {
    'adaptor.weight': dWa,
    'adaptor.bias': dba,
    'discriminator.fc1.weight': dW1,
    'discriminator.fc1.bias': db1,
    'discriminator.bn.weight': bnb.dGamma,
    'discriminator.bn.bias': bnb.dBeta,
    'discriminator.fc2.weight': dW2,
  };
  const update = (name: string, s: AdamScalarInputs): void => {
    const u = addAdamUpdate(g, inp[name], grads[name], inp[expAvgName(name)], inp[expAvgSqName(name)], s, cfg);
    g.output(u.param, name + NEXT, 'float32', shapes[name as keyof typeof shapes]);
    g.output(u.expAvg, expAvgName(name) + NEXT, 'float32', shapes[name as keyof typeof shapes]);
    g.output(u.expAvgSq, expAvgSqName(name) + NEXT, 'float32', shapes[name as keyof typeof shapes]);
  };
  for (const name of ADAPTOR_TRAINABLE) update(name, aS);
  for (const name of DISC_TRAINABLE) update(name, dS);
  g.output(bn.runningMean, 'discriminator.bn.running_mean' + NEXT, 'float32', [Hd]);
  g.output(bn.runningVar, 'discriminator.bn.running_var' + NEXT, 'float32', [Hd]);
  return g.toModel({ purpose: 'simplenet head training step' });
}
