/** Area under the ROC curve, equal to scikit-learn's `roc_auc_score` for 0/1 labels, and its curve. */
import type { Accumulator } from './accumulator.js';
import { checkSameLength, countBinaryLabels } from './checks.js';
import { LABEL_WEIGHTS, sweepThresholds } from './sweep.js';

export function requireBothClasses(fn: string, positives: number, negatives: number): void {
  if (positives === 0 || negatives === 0) {
    const only = positives === 0 ? 'negatives (0)' : 'positives (1)';
    throw new RangeError(`${fn}: 'labels' hold only ${only}; ROC AUC is undefined with one class`);
  }
}

/**
 * Twice the trapezoid area in units of counts: integers, so nothing rounds until the final division
 * (exact while 2·P·N < 2^53, i.e. up to ~1.3e8 elements).
 */
export function rocAucAccumulator(positives: number, negatives: number): Accumulator<number> {
  let tp = 0;
  let area2 = 0;
  return {
    visit: (_t, fpStep, tpStep) => {
      area2 += fpStep * (2 * tp + tpStep);
      tp += tpStep;
    },
    result: () => area2 / (2 * positives * negatives),
  };
}

/**
 * ROC AUC of `scores` (higher = more likely positive) against `labels` (0/1). Tied scores form one
 * threshold, so the curve steps diagonally across them, as in sklearn. Throws RangeError when the labels
 * hold only one class, where the curve is undefined.
 * @throws RangeError when the lengths differ, a label is not 0 or 1, the labels hold one class
 * only, or a score is not finite.
 * @example rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.75
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength('rocAuc', scores, labels);
  const { positives, negatives } = countBinaryLabels('rocAuc', labels);
  requireBothClasses('rocAuc', positives, negatives);
  const acc = rocAucAccumulator(positives, negatives);
  sweepThresholds('rocAuc', scores, labels, LABEL_WEIGHTS, acc.visit);
  return acc.result();
}

/**
 * ROC curve points, thinned for plotting, from (0, 0) to (1, 1). From `binaryMetrics` with
 * `curve: true`, or an evaluation's `curves`.
 * @example
 * const { rocCurve } = binaryMetrics(scores, labels, { curve: true });
 * if (rocCurve) plot(rocCurve.fpr, rocCurve.tpr);
 */
export interface RocCurve {
  /** False-positive rates, ascending. */
  fpr: number[];
  /** True-positive rates at the same thresholds. */
  tpr: number[];
}

/** Curve points, thinned: a point is kept when it moves 1/maxPoints along either axis. */
export function rocCurveAccumulator(positives: number, negatives: number, maxPoints = 500): Accumulator<RocCurve> {
  const step = 1 / maxPoints;
  const out: RocCurve = { fpr: [0], tpr: [0] };
  let tp = 0;
  let fp = 0;
  return {
    visit: (_t, fpStep, tpStep) => {
      tp += tpStep;
      fp += fpStep;
      const x = fp / negatives;
      const y = tp / positives;
      const last = out.fpr.length - 1;
      if (x - out.fpr[last] >= step || y - out.tpr[last] >= step || (x === 1 && y === 1)) {
        out.fpr.push(x);
        out.tpr.push(y);
      }
    },
    result: () => out,
  };
}

/** The ROC curve for plots: (FPR, TPR) from (0, 0) to (1, 1) through every threshold, thinned. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, opts: { maxPoints?: number } = {}): RocCurve {
  checkSameLength('rocCurve', scores, labels);
  const { positives, negatives } = countBinaryLabels('rocCurve', labels);
  requireBothClasses('rocCurve', positives, negatives);
  const acc = rocCurveAccumulator(positives, negatives, opts.maxPoints);
  sweepThresholds('rocCurve', scores, labels, LABEL_WEIGHTS, acc.visit);
  return acc.result();
}
