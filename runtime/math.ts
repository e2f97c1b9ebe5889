// Scalar special functions for kernels: a double-precision error function (used by exact GELU).

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2 / sqrt(pi)
const ONE_OVER_SQRT_PI = 0.5641895835477563; // 1 / sqrt(pi)
/** Below this |x| the power series is used; above it the continued fraction for erfc. */
const SERIES_LIMIT = 3;
/** erfc(x) < 2^-54 for x beyond this, so erf(x) rounds to exactly 1. */
const SATURATION = 6;
const MAX_SERIES_TERMS = 200;
const CONTINUED_FRACTION_TERMS = 60;

/**
 * erf(x) for 0 <= x < SERIES_LIMIT via the all-positive series
 * erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
 * which has no cancellation, unlike the alternating Taylor series.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < MAX_SERIES_TERMS; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc(x) for x >= SERIES_LIMIT via Laplace's continued fraction
 * erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...)))),
 * evaluated bottom-up with a fixed depth (ample for x >= 3).
 */
function erfcContinuedFraction(x: number): number {
  let t = x;
  for (let k = CONTINUED_FRACTION_TERMS; k >= 1; k--) t = x + k / 2 / t;
  return (ONE_OVER_SQRT_PI * Math.exp(-x * x)) / t;
}

/**
 * The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, accurate to about
 * 1e-15 relative in double precision. erf(±Infinity) = ±1, erf(NaN) = NaN, erf(-0) = -0.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  let value: number;
  if (a < SERIES_LIMIT) value = erfSeries(a);
  else if (a < SATURATION) value = 1 - erfcContinuedFraction(a);
  else value = 1;
  return x < 0 || Object.is(x, -0) ? -value : value;
}

/**
 * A uniform number in [0, 1) determined by (seed, index): a counter-based generator, so a
 * dropout mask is the same wherever and in whatever order its elements are computed.
 * Mixes with the murmur3 finaliser; both arguments are taken as 32-bit integers.
 */
export function hashUniform(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
