/**
 * Hyper-parameters of the trainable heads (adaptor + discriminator) and their optimizers.
 * Defaults are the published SimpleNet run (spec §3–§6): every number can be overridden. The
 * graph builders take only the fields they need (`initHeadParams` the two sizes).
 * @example
 * const dims: Pick<HeadConfig, 'featureDim' | 'hiddenDim'> = { featureDim: 1536, hiddenDim: 1024 };
 * const params = initHeadParams(dims, new Rng(0));
 */
export interface HeadConfig {
  /** Patch feature length D (input and output of the adaptor). Default 1536. */
  readonly featureDim: number;
  /** Discriminator hidden width Hd. Default 1024. */
  readonly hiddenDim: number;
  /** σ of the Gaussian noise that turns adapted features into fakes. Default 0.015. */
  readonly noiseStd: number;
  /**
   * Spread of σ across fakes: each fake row gets its own σ·s^u, u uniform in [−1, 1] (log-uniform
   * in [σ/s, σ·s]), so the discriminator sees fakes at a range of distances from the normal
   * features rather than on one shell of radius σ·√D. 1 (default, the paper): every fake uses σ.
   * Only in-graph noise is spread; noise fed as input is used as given.
   */
  readonly noiseSpread: number;
  /**
   * The discriminator's loss: 'truncated-l1' (the paper: max(0, th − D) on reals, max(0, th + D)
   * on fakes, no gradient once a score is past its margin) or 'logistic' (binary cross-entropy on
   * the logit D: softplus(−D) on reals, softplus(D) on fakes, a proper scoring rule, so D keeps
   * moving towards the log-odds of real against fake everywhere). Default 'truncated-l1'.
   */
  readonly loss: HeadLoss;
  /**
   * Hard-example fraction f: each step trains on the ⌈f·R⌉ real and the ⌈f·R⌉ fake rows with the
   * largest loss (each branch's loss is their mean), so the discriminator's capacity goes to the
   * normal patches it finds least normal and the fakes it finds most normal. 1 (default, the
   * paper): every row.
   */
  readonly hardFraction: number;
  /**
   * Gradient-ascent steps on each fake (GLASS's global anomaly synthesis): each turns the fake's
   * offset from its real patch towards where the discriminator finds it most normal, keeping its
   * length (`ascentSize` sets how far). 0 (default, the paper): the Gaussian fakes as drawn.
   */
  readonly ascentSteps: number;
  /**
   * Share of the fakes whose offset points along the data (0 default, the paper: every offset is
   * Gaussian): such a fake keeps its Gaussian offset's length, but its direction is from its real
   * patch towards another patch of the same batch (a random pairing drawn in-graph), so it leaves
   * the normal features the way foreign content of the part itself would rather than in one of the
   * many directions no real patch takes. The ascent, if any, then turns it as any other fake.
   */
  readonly dataDirections: number;
  /**
   * Share of the fakes that lie past another training patch (0 default, the paper: none): the
   * offset is t·(X_j − X_i), t ~ U(1.5, 2), for a random partner j of the same batch, so the fake
   * lies half to one pair distance beyond X_j on the line from X_i. Gaussian fakes never go far
   * along the data's own directions, and there a discriminator trained on them calls points far
   * from every normal patch normal (stepGraph.ts `addExtrapolatedFakes`). Applied after
   * `dataDirections` (its rows win) and before the ascent, which then turns it as any other fake.
   */
  readonly extrapolatedFakes: number;
  /**
   * Whether fakes made from the data (given fakes such as the stains, `dataDirections`,
   * `extrapolatedFakes`) are the adaptor applied to the synthetic backbone feature X + δ, with its
   * gradient (true), or A + δ, δ applied in the adaptor's output space as the Gaussian ε is (false,
   * default, the form the stains were adopted in). The adaptor drifts from the identity while it
   * trains (on bottle its map of data differences keeps cos ≈ 0.91–0.95 and length × 1.08–1.11), so
   * A + δ is not the feature such content would have: the discriminator can tell those fakes by the
   * part of δ the adaptor does not reproduce. Costs two K-row products per step for K given rows;
   * `dataDirections` and `extrapolatedFakes` lie on lines between real rows, which the adaptor (affine)
   * maps to lines between their adapted rows, so they cost no product at all.
   */
  readonly fakesThroughAdaptor: boolean;
  /**
   * How much each fake's σ follows its own patch's neighbourhood (0 default, the paper: one σ for
   * all): σ_i = σ·f_i with f_i ∝ (d_i / mean d)^noiseLocality, d_i the distance from training patch i
   * to the nearest patch of other training images, clamped to [1/4, 4] and scaled to mean 1. Where
   * normal patches are dense the fakes come closer, where they are sparse they stay farther, as a
   * nearest-neighbour score would draw the boundary. The factors are the step's input
   * `noise.row_scale` (training/localScale.ts computes them from the cached features).
   */
  readonly noiseLocality: number;
  /** Each ascent step adds ascentSize·‖ε‖ along the unit gradient before ε is rescaled to ‖ε‖. Default 0.1 (0.5 collapsed the discriminator on bottle). */
  readonly ascentSize: number;
  /** Hinge margin th: reals pushed to D ≥ th, fakes to D ≤ −th ('truncated-l1'; also the p_true / p_fake cut). Default 0.5. */
  readonly margin: number;
  /** Negative slope of the discriminator's LeakyReLU. Default 0.2. */
  readonly leakySlope: number;
  /** Batch-norm running-statistics momentum (PyTorch's convention). Default 0.1. */
  readonly bnMomentum: number;
  /** Batch-norm epsilon. Default 1e-5. */
  readonly bnEps: number;
  /** AdamW (decoupled weight decay) on the adaptor: learning rate. Default 1e-4. */
  readonly adaptorLr: number;
  /** The adaptor's AdamW weight decay. Default 0.01. */
  readonly adaptorWeightDecay: number;
  /** Adam with L2 weight decay (added to the gradient) on the discriminator: learning rate. Default 2e-4. */
  readonly discLr: number;
  /** The discriminator's L2 weight decay. Default 1e-5. */
  readonly discWeightDecay: number;
  /** Adam β1 of both optimisers. Default 0.9. */
  readonly beta1: number;
  /** Adam β2 of both optimisers. Default 0.999. */
  readonly beta2: number;
  /** Adam epsilon of both optimisers. Default 1e-8. */
  readonly adamEps: number;
}

/**
 * The discriminator's loss (see `HeadConfig.loss`).
 * @example const loss: HeadLoss = 'truncated-l1';
 */
export type HeadLoss = 'truncated-l1' | 'logistic';

export const DEFAULT_HEAD_CONFIG: HeadConfig = Object.freeze({
  featureDim: 1536,
  hiddenDim: 1024,
  noiseStd: 0.015,
  noiseSpread: 1,
  loss: 'truncated-l1',
  hardFraction: 1,
  ascentSteps: 0,
  ascentSize: 0.1,
  dataDirections: 0,
  extrapolatedFakes: 0,
  fakesThroughAdaptor: false,
  noiseLocality: 0,
  margin: 0.5,
  leakySlope: 0.2,
  bnMomentum: 0.1,
  bnEps: 1e-5,
  adaptorLr: 1e-4,
  adaptorWeightDecay: 0.01,
  discLr: 2e-4,
  discWeightDecay: 1e-5,
  beta1: 0.9,
  beta2: 0.999,
  adamEps: 1e-8,
});

/** The defaults with `overrides` applied, checked so that a bad number fails here, not in a graph. */
export function headConfig(overrides: Partial<HeadConfig> = {}): HeadConfig {
  const cfg: HeadConfig = { ...DEFAULT_HEAD_CONFIG, ...overrides };
  for (const k of ['featureDim', 'hiddenDim'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new RangeError(`headConfig: ${k} must be a positive integer, got ${cfg[k]}`);
  }
  for (const k of ['noiseStd', 'margin', 'leakySlope', 'bnEps', 'adaptorLr', 'adaptorWeightDecay', 'discLr', 'discWeightDecay', 'adamEps'] as const) {
    if (!Number.isFinite(cfg[k]) || cfg[k] < 0) throw new RangeError(`headConfig: ${k} must be a finite number ≥ 0, got ${cfg[k]}`);
  }
  if (!(Number.isFinite(cfg.noiseSpread) && cfg.noiseSpread >= 1))
    throw new RangeError(`headConfig: noiseSpread must be a finite number ≥ 1, got ${cfg.noiseSpread}`);
  if (!(Number.isInteger(cfg.ascentSteps) && cfg.ascentSteps >= 0))
    throw new RangeError(`headConfig: ascentSteps must be an integer ≥ 0, got ${cfg.ascentSteps}`);
  if (!(Number.isFinite(cfg.ascentSize) && cfg.ascentSize > 0))
    throw new RangeError(`headConfig: ascentSize must be a finite number > 0, got ${cfg.ascentSize}`);
  if (!(cfg.dataDirections >= 0 && cfg.dataDirections <= 1)) throw new RangeError(`headConfig: dataDirections must be in [0, 1], got ${cfg.dataDirections}`);
  if (!(cfg.extrapolatedFakes >= 0 && cfg.extrapolatedFakes <= 1))
    throw new RangeError(`headConfig: extrapolatedFakes must be in [0, 1], got ${cfg.extrapolatedFakes}`);
  if (typeof cfg.fakesThroughAdaptor !== 'boolean')
    throw new RangeError(`headConfig: fakesThroughAdaptor must be a boolean, got ${String(cfg.fakesThroughAdaptor)}`);
  if (!(cfg.noiseLocality >= 0 && cfg.noiseLocality <= 2)) throw new RangeError(`headConfig: noiseLocality must be in [0, 2], got ${cfg.noiseLocality}`);
  if (!(cfg.hardFraction > 0 && cfg.hardFraction <= 1)) throw new RangeError(`headConfig: hardFraction must be in (0, 1], got ${cfg.hardFraction}`);
  if (cfg.loss !== 'truncated-l1' && cfg.loss !== 'logistic')
    throw new RangeError(`headConfig: loss must be 'truncated-l1' or 'logistic', got ${String(cfg.loss)}`);
  for (const k of ['bnMomentum', 'beta1', 'beta2'] as const) {
    if (!(cfg[k] >= 0 && cfg[k] < 1)) throw new RangeError(`headConfig: ${k} must be in [0, 1), got ${cfg[k]}`);
  }
  return Object.freeze(cfg);
}
