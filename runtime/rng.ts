// Seeded, deterministic PRNG (xoshiro128** seeded via splitmix32) with resumable, serialisable state.

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const TWO_PI = 2 * Math.PI;
const STATE_LENGTH = 6;

/** Serialisable generator state: `[s0, s1, s2, s3, hasSpareNormal (0|1), spareNormal]`. */
export type RngState = number[];

/** Rotates a 32-bit integer left by `k` bits. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * Advances a splitmix32 counter and returns `[nextCounter, output]`.
 * Used only to expand a 32-bit seed into the 128-bit xoshiro state.
 */
function splitmix32(counter: number): [number, number] {
  const next = (counter + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [next, z >>> 0];
}

/** Checks that `value` is an integer in [0, 2^32). */
function isUint32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < TWO_POW_32;
}

/**
 * Deterministic pseudo-random number generator.
 *
 * The core is xoshiro128** (128-bit state, period 2^128 - 1). A given seed always produces the
 * same sequence on every platform, and {@link Rng.getState} / {@link Rng.setState} let training
 * resume bit-identically, including the cached second Box-Muller value.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private hasSpare = false;
  private spare = 0;

  /**
   * @param seed any finite integer; it is reduced modulo 2^32 before expansion with splitmix32.
   * @throws RangeError if `seed` is not a finite integer.
   */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isInteger(seed)) {
      throw new RangeError(`Rng seed must be a finite integer, got ${String(seed)}`);
    }
    let counter = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(counter);
      counter = next;
      words.push(out);
    }
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1; // all-zero state is a fixed point
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  /** Creates a generator that continues exactly from a state captured with {@link Rng.getState}. */
  static fromState(state: readonly number[]): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** Returns the next raw 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  uniform(): number {
    return this.nextUint32() * INV_TWO_POW_32;
  }

  /** Uniform float in [lo, hi) (the upper bound can be hit only through floating-point rounding). */
  uniformRange(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Normally distributed value (Box-Muller; the second value of each pair is cached). */
  normal(mean = 0, std = 1): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return mean + std * this.spare;
    }
    let u1 = this.uniform();
    while (u1 === 0) u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return mean + std * r * Math.cos(theta);
  }

  /**
   * Normal value conditioned on lying within two standard deviations of the mean: draws
   * outside are discarded and redrawn, as Keras's TruncatedNormal does. Note that the resulting
   * standard deviation is about 0.8796 * `std`.
   */
  truncatedNormal(mean = 0, std = 1): number {
    let z = this.normal();
    while (z < -2 || z > 2) z = this.normal();
    return mean + std * z;
  }

  /**
   * Uniform integer in [0, n) without modulo bias (rejection sampling).
   * @throws RangeError unless `n` is an integer in [1, 2^32].
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new RangeError(`Rng.int(n) needs an integer n in [1, 2^32], got ${String(n)}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n); // largest multiple of n that is <= 2^32
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }

  /** Shuffles `array` in place (Fisher-Yates) and returns it. Works on arrays and typed arrays. */
  shuffle<A extends { length: number; [index: number]: unknown }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** Returns a plain, JSON-serialisable copy of the full generator state. */
  getState(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0, this.hasSpare ? 1 : 0, this.spare];
  }

  /**
   * Restores a state captured with {@link Rng.getState}.
   * @throws RangeError if the state is malformed.
   */
  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || state.length !== STATE_LENGTH) {
      throw new RangeError(`Rng state must be an array of ${STATE_LENGTH} numbers`);
    }
    const [a, b, c, d, flag, spare] = state;
    if (![a, b, c, d].every(isUint32)) {
      throw new RangeError('Rng state words must be integers in [0, 2^32)');
    }
    if ((a | b | c | d) === 0) throw new RangeError('Rng state must not be all zeros');
    if (flag !== 0 && flag !== 1) throw new RangeError('Rng state spare flag must be 0 or 1');
    if (typeof spare !== 'number' || !Number.isFinite(spare)) {
      throw new RangeError('Rng state spare value must be a finite number');
    }
    this.s0 = a | 0;
    this.s1 = b | 0;
    this.s2 = c | 0;
    this.s3 = d | 0;
    this.hasSpare = flag === 1;
    this.spare = spare;
  }
}
