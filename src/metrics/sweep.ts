/**
 * The one sort behind every metric here: visit the distinct score values from highest to lowest with,
 * for each, how many negatives sit at exactly that value and the summed weight of the positives there.
 * A curve over "predict positive when score >= t" then needs only running sums, in O(n log n) overall.
 *
 * Elements carry a tag: 0 marks a negative, t > 0 a positive that weighs `tagWeights[t]` (1 for plain
 * labels; 1/area for a defect region in AUPRO).
 */
import { radixSortPacked } from './radixSort.js';

/** Weights for 0/1 labels used as tags: a positive counts once. */
export const LABEL_WEIGHTS = new Float64Array([0, 1]);

/** Called once per distinct score, highest first. */
export type ThresholdVisitor = (threshold: number, negatives: number, positiveWeight: number) => void;

/**
 * Scores that are float32 values become float64 with 29 mantissa bits to spare; putting the tag there lets
 * the native (comparator-free) Float64Array sort carry it along. Ties stay contiguous because a tag moves
 * the value by less than one float32 step. This is ~4x faster than binary-searching a sorted copy, whose
 * random accesses miss the cache on millions of pixels.
 */
const TAG_BITS = 29;
const TAG_MASK = (1 << TAG_BITS) - 1;
const VALUE_MASK = ~TAG_MASK;
const RADIX_FROM = 1 << 18;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Throws RangeError (naming `fn`) on a non-finite score. `tags[i]` must index `tagWeights`. The path is
 * chosen from the data; `opts.packed` forces one, for tests.
 */
export function sweepThresholds(
  fn: string,
  scores: ArrayLike<number>,
  tags: ArrayLike<number>,
  tagWeights: Float64Array,
  visit: ThresholdVisitor,
  opts: { packed?: boolean } = {},
): void {
  const packed = opts.packed ?? canPack(scores, tagWeights.length - 1);
  if (packed) sweepPacked(fn, scores, tags, tagWeights, visit);
  else sweepGeneric(fn, scores, tags, tagWeights, visit);
}

function canPack(scores: ArrayLike<number>, maxTag: number): boolean {
  if (!LITTLE_ENDIAN || maxTag > TAG_MASK) return false;
  if (scores instanceof Float32Array) return true;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (Math.fround(v) !== v) return false;
  }
  return true;
}

function notFinite(fn: string, i: number, v: number): RangeError {
  return new RangeError(`${fn}: scores must be finite numbers (element ${i} is ${v})`);
}

function sweepPacked(fn: string, scores: ArrayLike<number>, tags: ArrayLike<number>, tagWeights: Float64Array, visit: ThresholdVisitor): void {
  const n = scores.length;
  const keys = new Float64Array(n);
  const words = new Uint32Array(keys.buffer);
  for (let i = 0; i < n; i++) {
    const v = scores[i];
    // Infinity has no spare bits (a tag would turn it into NaN); sklearn rejects non-finite input anyway.
    if (v - v !== 0) throw notFinite(fn, i, v);
    if (Math.fround(v) !== v) throw new RangeError(`${fn}: element ${i} (${v}) is not a float32 value`);
    keys[i] = v + 0; // -0 becomes +0: one group for zero, as numpy sees it
    words[2 * i] |= tags[i]; // the low word also holds the last 3 bits of the float32 mantissa
  }
  // The native sort wins on small inputs; radix passes win from about a million elements.
  if (n >= RADIX_FROM) radixSortPacked(words, n);
  else keys.sort();

  const scratch = new Float64Array(1);
  const scratchWords = new Uint32Array(scratch.buffer);
  let negatives = 0;
  let weight = 0;
  for (let i = n - 1; i >= 0; i--) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    const tag = lo & TAG_MASK;
    if (tag === 0) negatives++;
    else weight += tagWeights[tag];
    if (i === 0 || hi !== words[2 * i - 1] || ((lo ^ words[2 * i - 2]) & VALUE_MASK) !== 0) {
      scratchWords[0] = lo & VALUE_MASK;
      scratchWords[1] = hi;
      visit(scratch[0], negatives, weight);
      negatives = 0;
      weight = 0;
    }
  }
}

/** Any finite doubles: sort a copy, keep distinct values, then find each element's value by binary search. */
function sweepGeneric(fn: string, scores: ArrayLike<number>, tags: ArrayLike<number>, tagWeights: Float64Array, visit: ThresholdVisitor): void {
  const n = scores.length;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = scores[i];
    if (v - v !== 0) throw notFinite(fn, i, v);
    values[i] = v + 0;
  }
  values.sort();
  let k = 0;
  for (let i = 0; i < n; i++) if (k === 0 || values[i] !== values[k - 1]) values[k++] = values[i];

  const negatives = new Float64Array(k);
  const weights = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const v = scores[i];
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    const tag = tags[i];
    if (tag === 0) negatives[lo]++;
    else weights[lo] += tagWeights[tag];
  }
  for (let r = k - 1; r >= 0; r--) visit(values[r], negatives[r], weights[r]);
}
