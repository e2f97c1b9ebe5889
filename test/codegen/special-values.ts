// Test data for kernels that must keep the interpreter's bits: small integers (many ties inside a
// window), ±0, a few NaN and infinities, from a fixed linear congruential sequence.

/** `n` deterministic values; with `special` false, small integers in [-4, 4] only. */
export function specialData(n: number, seed: number, special = true): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s >>> 24;
    out[i] = !special ? (r % 9) - 4 : r < 3 ? NaN : r < 6 ? -0 : r < 9 ? 0 : r === 9 ? -Infinity : r === 10 ? Infinity : (r % 7) - 3;
  }
  return out;
}

/** Float32 bit patterns, every NaN made one (a NaN's payload is not part of the contract). */
export function floatBits(a: ArrayLike<number>): number[] {
  const f = Float32Array.from(a);
  const u = new Uint32Array(f.buffer);
  return Array.from(u, (b, i) => (Number.isNaN(f[i]) ? 0x7fc00000 : b));
}
