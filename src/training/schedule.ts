/**
 * Learning-rate factors per optimizer step: constant (the paper's published configuration),
 * or cosine decay to `minFactor` (the official code's `--cos_lr`, eta_min = 0.4·lr), each with an
 * optional linear warm-up.
 */
export interface ScheduleOptions {
  kind: 'constant' | 'cosine';
  /** Cosine floor as a fraction of the base rate. */
  minFactor: number;
  /** Linear warm-up over this many epochs (0: none). */
  warmupEpochs: number;
}

export function lrFactor(step: number, totalSteps: number, stepsPerEpoch: number, o: ScheduleOptions): number {
  const warmSteps = o.warmupEpochs * stepsPerEpoch;
  const warm = warmSteps > 0 && step < warmSteps ? (step + 1) / warmSteps : 1;
  if (o.kind === 'constant') return warm;
  const t = Math.min(1, step / Math.max(1, totalSteps - 1));
  return warm * (o.minFactor + (1 - o.minFactor) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/**
 * The factor on σ at optimizer step `step` of `totalSteps`: 1 at the first step, falling linearly to
 * `decay` at the last (`train.noiseDecay`; 1: constant, the paper).
 * @example noiseFactor(143, 144, 0.5) // 0.5
 */
export function noiseFactor(step: number, totalSteps: number, decay: number): number {
  if (decay === 1) return 1;
  return 1 - (1 - decay) * Math.min(1, step / Math.max(1, totalSteps - 1));
}
