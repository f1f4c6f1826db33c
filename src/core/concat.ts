/** One typed array holding `parts` end to end. */
type Typed = Uint8Array | Int32Array | Float32Array;

/**
 * The parts joined in order into a new array of the given type.
 * @example const rows = concatTyped(Int32Array, [Int32Array.of(1), Int32Array.of(2, 3)]); // [1, 2, 3]
 */
export function concatTyped<T extends Typed>(Type: new (length: number) => T, parts: readonly T[]): T {
  const out = new Type(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
