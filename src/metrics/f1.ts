/** The best F1 score over all thresholds of scikit-learn's `precision_recall_curve`. */
import type { Accumulator } from './accumulator.js';
import { checkSameLength, countBinaryLabels, requirePositives } from './checks.js';
import { LABEL_WEIGHTS, sweepThresholds } from './sweep.js';

/**
 * The best F1 over all thresholds and where it is reached. From `f1Max` or `binaryMetrics`.
 * @example
 * const { f1, threshold } = f1Max(scores, labels);
 * console.log(`F1 ${f1.toFixed(3)} when score >= ${threshold}`);
 */
export interface F1Max {
  /** The maximum F1. */
  f1: number;
  /** Predict positive when score >= threshold; one of the scores. */
  threshold: number;
  /** Precision at that threshold. */
  precision: number;
  /** Recall at that threshold. */
  recall: number;
}

/**
 * Maximum of F1 = 2PR/(P+R) (0 where P+R = 0) over the distinct scores as thresholds. P, R and F1 are
 * computed with the same floating-point operations as sklearn, so exact ties between thresholds break
 * the same way as `np.argmax` over sklearn's ascending thresholds: the lowest threshold wins.
 * Throws RangeError when there is no positive (recall is undefined).
 * @throws RangeError when the lengths differ, a label is not 0 or 1, there is no positive, or a
 * score is not finite.
 * @example f1Max([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // { f1: 0.8, threshold: 0.35, precision: 0.6667, recall: 1 }
 */
export function f1Max(scores: ArrayLike<number>, labels: ArrayLike<number>): F1Max {
  checkSameLength('f1Max', scores, labels);
  const { positives } = countBinaryLabels('f1Max', labels);
  requirePositives('f1Max', positives, 'F1');
  const acc = f1MaxAccumulator(positives);
  sweepThresholds('f1Max', scores, labels, LABEL_WEIGHTS, acc.visit);
  return acc.result();
}

export function f1MaxAccumulator(positives: number): Accumulator<F1Max> {
  let tp = 0;
  let fp = 0;
  let best = -1;
  let bestThreshold = NaN;
  let bestPrecision = 0;
  let bestRecall = 0;
  return {
    visit: (threshold, fpStep, tpStep) => {
      tp += tpStep;
      fp += fpStep;
      const precision = tp / (tp + fp);
      const recall = tp / positives;
      const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
      if (f1 >= best) {
        best = f1;
        bestThreshold = threshold;
        bestPrecision = precision;
        bestRecall = recall;
      }
    },
    result: () => ({ f1: best, threshold: bestThreshold, precision: bestPrecision, recall: bestRecall }),
  };
}
