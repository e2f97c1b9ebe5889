// Global test setup: the `toBeAllclose` matcher (elementwise |a - e| <= atol + rtol·|e|, NaN equals NaN).
import { expect } from 'vitest';

export interface AllcloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
}

type NumberArrayLike = ArrayLike<number>;

/** One element pair's agreement: identical specials, or finite values within tolerance. */
function close(a: number, e: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return a === e;
  return Math.abs(a - e) <= atol + rtol * Math.abs(e);
}

/** How badly a pair disagrees, for picking the worst index (specials rank above any finite gap). */
function badness(a: number, e: number, rtol: number, atol: number): number {
  if (close(a, e, rtol, atol)) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(e)) return Infinity;
  return Math.abs(a - e) / (atol + rtol * Math.abs(e));
}

function isArrayLikeOfNumbers(x: unknown): x is NumberArrayLike {
  return (ArrayBuffer.isView(x) && !(x instanceof DataView)) || Array.isArray(x);
}

expect.extend({
  toBeAllclose(received: unknown, expected: unknown, options: AllcloseOptions = {}) {
    const { rtol = 1e-5, atol = 1e-6 } = options;
    if (!isArrayLikeOfNumbers(received) || !isArrayLikeOfNumbers(expected)) {
      return {
        pass: false,
        message: () => `toBeAllclose expects two arrays or typed arrays, got ${typeof received} and ${typeof expected}`,
      };
    }
    const got = received as NumberArrayLike;
    const want = expected as NumberArrayLike;
    if (got.length !== want.length) {
      return {
        pass: false,
        message: () => `expected arrays of equal length: received length ${got.length}, expected length ${want.length}`,
      };
    }
    let worst = -1;
    let worstBad = 0;
    let mismatches = 0;
    for (let i = 0; i < got.length; i++) {
      const b = badness(Number(got[i]), Number(want[i]), rtol, atol);
      if (b > 0) mismatches++;
      if (b > worstBad) [worst, worstBad] = [i, b];
    }
    const pass = mismatches === 0;
    const tol = `rtol=${rtol}, atol=${atol}`;
    return {
      pass,
      message: () =>
        pass
          ? `expected arrays (length ${got.length}) not to be allclose (${tol}), but every element is`
          : `expected arrays to be allclose (${tol}): ${mismatches} of ${got.length} elements differ; ` +
            `worst at index ${worst}: received ${got[worst]}, expected ${want[worst]} ` +
            `(|diff| = ${Math.abs(Number(got[worst]) - Number(want[worst]))}; received length ${got.length}, expected length ${want.length})`,
    };
  },
});

interface AllcloseMatchers<R = unknown> {
  /** Elementwise closeness of two equal-length arrays: |a - e| <= atol + rtol·|e|; NaN and ±Infinity must match exactly. */
  toBeAllclose(expected: ArrayLike<number>, options?: AllcloseOptions): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface Assertion<T = any> extends AllcloseMatchers<void> {}
  interface AsymmetricMatchersContaining extends AllcloseMatchers {}
}
