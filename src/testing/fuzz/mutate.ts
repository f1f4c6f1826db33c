/**
 * Seeded byte mutations for the fuzz corpus (issue 11): the damage files get in real life (a
 * truncated copy, flipped bits, a header that lies about a size) applied to valid files.
 */

/** A seeded generator (mulberry32): the same seed gives the same corpus on every machine. */
export class Rand {
  private a: number;

  constructor(seed: number) {
    this.a = seed >>> 0;
  }

  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.a ^ (this.a >>> 15), 1 | this.a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
}

export type Mutation = (b: Uint8Array, r: Rand) => Uint8Array;

const HUGE = [0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 0];

/** Named mutations; each returns a new array and leaves its input alone. */
export const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, r) => b.slice(0, r.int(0, Math.max(0, b.length - 1))),
  truncateHead: (b, r) => b.slice(0, r.int(0, Math.min(64, b.length))),
  flipBits: (b, r) => {
    const out = b.slice();
    for (let k = r.int(1, 8); k > 0 && out.length; k--) out[r.int(0, out.length - 1)] ^= 1 << r.int(0, 7);
    return out;
  },
  flipHeader: (b, r) => {
    const out = b.slice();
    for (let k = r.int(1, 4); k > 0 && out.length; k--) out[r.int(0, Math.min(out.length, 48) - 1)] = r.int(0, 255);
    return out;
  },
  zeroRange: (b, r) => {
    const out = b.slice();
    const at = r.int(0, Math.max(0, out.length - 1));
    out.fill(0, at, at + r.int(1, 256));
    return out;
  },
  hugeU32: (b, r) => {
    const out = b.slice();
    if (out.length < 4) return out;
    new DataView(out.buffer).setUint32(r.int(0, Math.min(out.length, 256) - 4), r.pick(HUGE), r.next() < 0.5);
    return out;
  },
  duplicate: (b, r) => {
    const at = r.int(0, b.length);
    const len = r.int(1, 512);
    const out = new Uint8Array(b.length + Math.min(len, b.length - at));
    out.set(b.subarray(0, at));
    out.set(b.subarray(at, at + len), at);
    out.set(b.subarray(at), at + Math.min(len, b.length - at));
    return out;
  },
  randomBytes: (b, r) => Uint8Array.from({ length: r.int(0, Math.max(16, b.length)) }, () => r.int(0, 255)),
  empty: () => new Uint8Array(0),
};

export function mutate(bytes: Uint8Array, r: Rand): { bytes: Uint8Array; how: string } {
  const how = r.pick(Object.keys(MUTATIONS));
  // A plain Uint8Array: Buffer's fill and slice check their ranges differently.
  return { bytes: MUTATIONS[how](new Uint8Array(bytes), r), how };
}
