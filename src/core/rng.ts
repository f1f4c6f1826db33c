/**
 * Small seeded PRNG (xoshiro128**, seeded through splitmix32) for weight init and epoch shuffling.
 * Deterministic across platforms: only 32-bit integer arithmetic.
 */

/**
 * A seeded random number generator (xoshiro128**): the same seed gives the same numbers on every
 * platform, so a training seed reproduces a model's initial weights, the held-out split and the
 * epoch order.
 * @throws TypeError from the constructor when `seed` is not a safe integer.
 * @example
 * const rng = new Rng(42);
 * const order = rng.shuffle([0, 1, 2, 3, 4]);
 * const noise = rng.normal();
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** Second Box–Muller value, kept for the next normal() call. */
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || Math.abs(seed) > Number.MAX_SAFE_INTEGER) {
      throw new TypeError(`Rng: seed must be a safe integer, got ${seed}`);
    }
    // Fold the high bits in too, so that seeds differing only above bit 32 give different streams.
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /**
   * The generator's whole state (checkpoints continue the same stream from it).
   * @example const saved = rng.getState(); // JSON-safe numbers
   */
  getState(): number[] {
    return this.spare === null ? [this.s0, this.s1, this.s2, this.s3] : [this.s0, this.s1, this.s2, this.s3, this.spare];
  }

  /**
   * Restores a state from `getState`, so the stream continues where it was saved.
   * @throws RangeError when `state` is not 4 or 5 finite numbers.
   * @example const resumed = new Rng(0); resumed.setState(saved); // saved = rng.getState() earlier
   */
  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || (state.length !== 4 && state.length !== 5) || !state.every(Number.isFinite)) {
      throw new RangeError(`Rng.setState: expected 4 or 5 finite numbers, got ${JSON.stringify(state)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state;
    this.spare = state.length === 5 ? state[4] : null;
  }

  /**
   * The next raw 32-bit output, an integer in [0, 2^32).
   * @example const bits = rng.nextUint32();
   */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * Uniform in [0, 1) with 53 random bits.
   * @example const keep = rng.nextFloat() < 0.9;
   */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Uniform integer in [0, n), without modulo bias.
   * @throws RangeError when `n` is not an integer in [1, 2^32].
   * @example const pick = images[rng.nextInt(images.length)];
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let u: number;
    do u = this.nextUint32();
    while (u >= limit);
    return u % n;
  }

  /**
   * Standard normal (Box–Muller): mean 0, variance 1.
   * @example const noisy = feature + 0.015 * rng.normal();
   */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u1 = 1 - this.nextFloat(); // (0, 1]: log stays finite
    const u2 = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Fisher–Yates shuffle in place; returns the same array.
   * @example const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
   */
  shuffle<T extends { length: number; [i: number]: unknown }>(indices: T): T {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = indices[i];
      indices[i] = indices[j];
      indices[j] = tmp;
    }
    return indices;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
