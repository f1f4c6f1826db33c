/**
 * LSD radix sort of packed float64 keys (a float32 score widened to float64, a tag in the low 29
 * bits; see sweep.ts) by their top 35 bits: the float32 value. Tags ride along unsorted, which the
 * sweep does not need. Four 9-bit passes (skipped where every key shares the digit) beat the
 * native comparison sort several times over on 100 M pixels.
 */

const SIGN = 0x80000000;
/** The low word's top 3 bits are the float32 mantissa's last 3 bits. */
const LOW_VALUE = 0xe0000000;

type Digit = (lo: number, hi: number) => number;

const DIGITS: [Digit, number][] = [
  [(lo, hi) => ((hi & 0x3f) << 3) | (lo >>> 29), 512],
  [(_lo, hi) => (hi >>> 6) & 0x1ff, 512],
  [(_lo, hi) => (hi >>> 15) & 0x1ff, 512],
  [(_lo, hi) => hi >>> 24, 256],
];

/** Sorts the first n (low, high) word pairs of `words` ascending by value, in place. */
export function radixSortPacked(words: Uint32Array, n: number): void {
  // Order-preserving unsigned keys: flip the sign of positives, invert the value bits of negatives.
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1];
    if (hi & SIGN) {
      words[2 * i + 1] = ~hi >>> 0;
      words[2 * i] = (words[2 * i] ^ LOW_VALUE) >>> 0;
    } else {
      words[2 * i + 1] = (hi | SIGN) >>> 0;
    }
  }
  const hist = DIGITS.map(([, size]) => new Uint32Array(size));
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    hist[0][((hi & 0x3f) << 3) | (lo >>> 29)]++;
    hist[1][(hi >>> 6) & 0x1ff]++;
    hist[2][(hi >>> 15) & 0x1ff]++;
    hist[3][hi >>> 24]++;
  }
  let src = words;
  let dst: Uint32Array | undefined;
  DIGITS.forEach(([digit], p) => {
    const h = hist[p];
    if (h.some((c) => c === n)) return; // one bucket holds everything: this digit orders nothing
    dst ??= new Uint32Array(2 * n);
    const offsets = new Uint32Array(h.length);
    for (let d = 1; d < h.length; d++) offsets[d] = offsets[d - 1] + h[d - 1];
    for (let i = 0; i < n; i++) {
      const lo = src[2 * i];
      const hi = src[2 * i + 1];
      const j = offsets[digit(lo, hi)]++;
      dst[2 * j] = lo;
      dst[2 * j + 1] = hi;
    }
    [src, dst] = [dst, src];
  });
  if (src !== words) words.set(src.subarray(0, 2 * n));
  for (let i = 0; i < n; i++) {
    const hi = words[2 * i + 1];
    if (hi & SIGN) {
      words[2 * i + 1] = (hi ^ SIGN) >>> 0;
    } else {
      words[2 * i + 1] = ~hi >>> 0;
      words[2 * i] = (words[2 * i] ^ LOW_VALUE) >>> 0;
    }
  }
}
