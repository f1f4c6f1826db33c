/**
 * Whether training stopped while validation was still improving. The default epoch count was
 * chosen on bottle (README, "Fast convergence"), where an epoch is 24 optimizer steps; a training
 * set half that size gets half the steps in the same epochs, and its validation can still be
 * rising at the end. Selection on validation means more epochs cannot make the kept model worse on
 * validation, so saying so is a cheap, honest hint; nothing here is chosen on test data.
 */
import type { EpochLog } from '../model/modelDir.js';

/** The smallest rise of the validation score (image + patch AUROC) at the last epoch worth a hint. */
export const STILL_IMPROVING_RISE = 0.002;

/**
 * When the kept epoch is the last one and its validation score (image + patch AUROC) beats the
 * previous validated epoch's by at least `STILL_IMPROVING_RISE`, that rise and the two epochs;
 * otherwise undefined (also without validation or with fewer than two validated epochs).
 * @example
 * const rise = stillImproving(result.training.log, result.training.selected);
 * if (rise) console.warn(`validation still rising at epoch ${rise.epoch} (+${rise.rise.toFixed(4)})`);
 */
export function stillImproving(
  log: readonly EpochLog[],
  selected: { by: 'final' | 'validation'; epoch: number } | undefined,
): { epoch: number; previousEpoch: number; rise: number } | undefined {
  if (selected?.by !== 'validation') return undefined;
  const validated = log.filter((e) => e.valImageAuroc !== undefined && e.valPatchAuroc !== undefined);
  if (validated.length < 2) return undefined;
  const [prev, last] = validated.slice(-2);
  if (last.epoch !== selected.epoch || last.epoch !== log.at(-1)?.epoch) return undefined;
  const score = (e: EpochLog) => (e.valImageAuroc as number) + (e.valPatchAuroc as number);
  const rise = score(last) - score(prev);
  return rise >= STILL_IMPROVING_RISE ? { epoch: last.epoch, previousEpoch: prev.epoch, rise } : undefined;
}
