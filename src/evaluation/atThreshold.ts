/** How a fixed threshold does on labelled data: what a deployed model's decisions would score. */

/** Precision, recall, F1 and false-positive rate of the scorer's labels. */
export function atThreshold(pred: Uint8Array, labels: Uint8Array) {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    pos += labels[i];
    if (pred[i]) {
      if (labels[i]) tp++;
      else fp++;
    }
  }
  const neg = labels.length - pos;
  const precision = tp + fp > 0 ? tp / (tp + fp) : null;
  const recall = pos > 0 ? tp / pos : null;
  return {
    image_precision_at_threshold: precision,
    image_recall_at_threshold: recall,
    image_f1_at_threshold: pos === 0 ? null : precision && recall ? (2 * precision * recall) / (precision + recall) : 0,
    image_fpr_at_threshold: neg > 0 ? fp / neg : null,
  };
}

/** Pixel F1 with "defect where map > threshold". */
export function f1At(maps: Float32Array, masks: Uint8Array, threshold: number): number {
  let tp = 0;
  let fp = 0;
  let pos = 0;
  for (let i = 0; i < maps.length; i++) {
    pos += masks[i];
    if (maps[i] > threshold) {
      if (masks[i]) tp++;
      else fp++;
    }
  }
  if (pos === 0) throw new RangeError('no defect pixels');
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + (pos - tp));
}
