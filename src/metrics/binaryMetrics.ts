/**
 * ROC AUC, average precision, F1-max and (optionally) the ROC curve from one sort: the same numbers
 * as the separate functions (the same accumulators), a third of the time on 100 M pixels.
 */
import type { Accumulator } from './accumulator.js';
import { averagePrecisionAccumulator } from './averagePrecision.js';
import { checkSameLength, countBinaryLabels } from './checks.js';
import { type F1Max, f1MaxAccumulator } from './f1.js';
import { type RocCurve, rocAucAccumulator, rocCurveAccumulator } from './roc.js';
import { LABEL_WEIGHTS, sweepThresholds } from './sweep.js';

/**
 * ROC AUC, average precision and F1-max of one set of scores, each null where the labels make it
 * undefined (with the reason in `notes`). From `binaryMetrics`.
 * @example
 * const m: BinaryMetrics = binaryMetrics(scores, labels);
 * console.log(m.rocAuc ?? m.notes.join('; '));
 */
export interface BinaryMetrics {
  /** null with one class only (see `notes`). */
  rocAuc: number | null;
  /** null without positives. */
  averagePrecision: number | null;
  /** null without positives. */
  f1Max: F1Max | null;
  /** With `curve: true`: the ROC curve, null with one class only. */
  rocCurve?: RocCurve | null;
  /** Why a metric is null. */
  notes: string[];
}

/**
 * ROC AUC, average precision, F1-max and optionally the ROC curve of `scores` against 0/1
 * `labels`, from one sort: the same numbers as `rocAuc`, `averagePrecision` and `f1Max`, faster on
 * millions of pixels. One class only gives nulls and notes, not an error.
 * @throws RangeError when the lengths differ, a label is not 0 or 1, or a score is not finite.
 * @example const { rocAuc, averagePrecision, f1Max } = binaryMetrics(maps, masks, { curve: false });
 */
export function binaryMetrics(scores: ArrayLike<number>, labels: ArrayLike<number>, opts: { curve?: boolean; maxPoints?: number } = {}): BinaryMetrics {
  checkSameLength('binaryMetrics', scores, labels);
  const { positives, negatives } = countBinaryLabels('binaryMetrics', labels);
  const notes: string[] = [];
  if (positives === 0) notes.push('no positives (1): ROC AUC, average precision and F1 are undefined');
  else if (negatives === 0) notes.push('no negatives (0): ROC AUC is undefined');
  const roc = positives > 0 && negatives > 0 ? rocAucAccumulator(positives, negatives) : undefined;
  const curve = opts.curve && roc ? rocCurveAccumulator(positives, negatives, opts.maxPoints) : undefined;
  const ap = positives > 0 ? averagePrecisionAccumulator(positives) : undefined;
  const f1 = positives > 0 ? f1MaxAccumulator(positives) : undefined;
  const active = [roc, curve, ap, f1].filter((a): a is Accumulator<never> => a !== undefined);
  if (active.length > 0) {
    sweepThresholds('binaryMetrics', scores, labels, LABEL_WEIGHTS, (t, fp, tp) => {
      for (const a of active) a.visit(t, fp, tp);
    });
  }
  return {
    rocAuc: roc ? roc.result() : null,
    averagePrecision: ap ? ap.result() : null,
    f1Max: f1 ? f1.result() : null,
    ...(opts.curve ? { rocCurve: curve ? curve.result() : null } : {}),
    notes,
  };
}
