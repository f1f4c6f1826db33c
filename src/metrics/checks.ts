/** Argument checks shared by the metrics, so that every metric words its errors the same way. */

export function checkSameLength(fn: string, scores: ArrayLike<number>, labels: ArrayLike<number>, names = ['scores', 'labels']): void {
  if (labels.length !== scores.length) {
    throw new RangeError(`${fn}: '${names[1]}' must have the same length as '${names[0]}' (${labels.length} vs ${scores.length})`);
  }
}

/** Counts the 1s and 0s of `labels`, rejecting anything else (sklearn would guess a positive class; we do not). */
export function countBinaryLabels(fn: string, labels: ArrayLike<number>, name = 'labels'): { positives: number; negatives: number } {
  let positives = 0;
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const v = labels[i];
    if (v === 1) positives++;
    else if (v !== 0) throw new RangeError(`${fn}: '${name}' must hold only 0 and 1 (${name}[${i}] is ${v})`);
  }
  return { positives, negatives: n - positives };
}

export function requirePositives(fn: string, positives: number, what: string): void {
  if (positives === 0) {
    throw new RangeError(`${fn}: 'labels' hold no positives (1); ${what} is undefined without them`);
  }
}
