/** Area under the ROC curve, equal to scikit-learn's `roc_auc_score` for 0/1 labels. */
import { checkSameLength, countBinaryLabels } from './checks.js';
import { LABEL_WEIGHTS, sweepThresholds } from './sweep.js';

/**
 * ROC AUC of `scores` (higher = more likely positive) against `labels` (0/1). Tied scores form one
 * threshold, so the curve steps diagonally across them, as in sklearn. Throws RangeError when the labels
 * hold only one class, where the curve is undefined.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength('rocAuc', scores, labels);
  const { positives, negatives } = countBinaryLabels('rocAuc', labels);
  if (positives === 0 || negatives === 0) {
    const only = positives === 0 ? 'negatives (0)' : 'positives (1)';
    throw new RangeError(`rocAuc: 'labels' hold only ${only}; ROC AUC is undefined with one class`);
  }
  // Twice the trapezoid area in units of counts: integers, so nothing rounds until the final division
  // (exact while 2·P·N < 2^53, i.e. up to ~1.3e8 elements).
  let tp = 0;
  let area2 = 0;
  sweepThresholds('rocAuc', scores, labels, LABEL_WEIGHTS, (_t, fpStep, tpStep) => {
    area2 += fpStep * (2 * tp + tpStep);
    tp += tpStep;
  });
  return area2 / (2 * positives * negatives);
}

/**
 * The ROC curve for plots: (FPR, TPR) from (0, 0) to (1, 1) through every threshold, thinned to
 * about `maxPoints` points (a point is kept when it moves 1/maxPoints along either axis).
 */
export function rocCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  opts: { maxPoints?: number } = {},
): { fpr: number[]; tpr: number[] } {
  checkSameLength('rocCurve', scores, labels);
  const { positives, negatives } = countBinaryLabels('rocCurve', labels);
  if (positives === 0 || negatives === 0) throw new RangeError("rocCurve: 'labels' must hold both classes");
  const step = 1 / (opts.maxPoints ?? 500);
  const out = { fpr: [0], tpr: [0] };
  let tp = 0;
  let fp = 0;
  sweepThresholds('rocCurve', scores, labels, LABEL_WEIGHTS, (_t, fpStep, tpStep) => {
    tp += tpStep;
    fp += fpStep;
    const x = fp / negatives;
    const y = tp / positives;
    const last = out.fpr.length - 1;
    if (x - out.fpr[last] >= step || y - out.tpr[last] >= step || (x === 1 && y === 1)) {
      out.fpr.push(x);
      out.tpr.push(y);
    }
  });
  return out;
}
