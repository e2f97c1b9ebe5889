// A tiny seeded linear congruential generator (Numerical Recipes constants) for reproducible test data.

/** 32-bit LCG: state ← 1664525·state + 1013904223 (mod 2^32). */
export class Lcg {
  private state: number;

  constructor(seed = 1) {
    this.state = seed >>> 0;
  }

  /** The next raw 32-bit state. */
  nextU32(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 2 ** 32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo = -1, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor((hi - lo) * this.next());
  }

  /** `n` uniform values in [lo, hi). */
  array(n: number, lo = -1, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }
}
