/** Average precision, equal to scikit-learn's `average_precision_score` for 0/1 labels. */
import type { Accumulator } from './accumulator.js';
import { checkSameLength, countBinaryLabels, requirePositives } from './checks.js';
import { LABEL_WEIGHTS, sweepThresholds } from './sweep.js';

/**
 * Σ (recall step) × precision over the distinct thresholds, highest first: the step-wise sum sklearn
 * uses (no interpolation), ties grouped into one threshold. Throws RangeError when there is no positive
 * (sklearn warns and returns 0 there, a number that would read as a real result).
 * @throws RangeError when the lengths differ, a label is not 0 or 1, there is no positive, or a
 * score is not finite.
 * @example averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.8333…
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkSameLength('averagePrecision', scores, labels);
  const { positives } = countBinaryLabels('averagePrecision', labels);
  requirePositives('averagePrecision', positives, 'average precision');
  const acc = averagePrecisionAccumulator(positives);
  sweepThresholds('averagePrecision', scores, labels, LABEL_WEIGHTS, acc.visit);
  return acc.result();
}

export function averagePrecisionAccumulator(positives: number): Accumulator<number> {
  let tp = 0;
  let fp = 0;
  let ap = 0;
  return {
    visit: (_t, fpStep, tpStep) => {
      tp += tpStep;
      fp += fpStep;
      if (tpStep > 0) ap += (tpStep / positives) * (tp / (tp + fp));
    },
    result: () => ap,
  };
}
