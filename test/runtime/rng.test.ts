// Tests for the seeded Rng: determinism, resumable state, and distribution statistics.
import { describe, it, expect } from 'vitest';
import { Rng } from '../../runtime/rng.ts';

const N = 100_000;

function draws(rng: Rng, n: number, f: (r: Rng) => number): number[] {
  return Array.from({ length: n }, () => f(rng));
}

function meanAndVariance(xs: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i];
  const mean = sum / xs.length;
  let sq = 0;
  for (let i = 0; i < xs.length; i++) sq += (xs[i] - mean) ** 2;
  return { mean, variance: sq / (xs.length - 1) };
}

describe('Rng determinism', () => {
  it('reproduces the same sequence for the same seed', () => {
    const a = draws(new Rng(42), 1000, (r) => r.nextUint32());
    const b = draws(new Rng(42), 1000, (r) => r.nextUint32());
    expect(a).toEqual(b);
    expect(a.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it('gives different sequences for different seeds', () => {
    const seqs = [0, 1, 2, 12345].map((s) => draws(new Rng(s), 16, (r) => r.nextUint32()).join(','));
    expect(new Set(seqs).size).toBe(4);
  });

  it('reduces seeds modulo 2^32', () => {
    expect(draws(new Rng(-1), 8, (r) => r.nextUint32())).toEqual(draws(new Rng(2 ** 32 - 1), 8, (r) => r.nextUint32()));
  });

  it('implements xoshiro128** (hand-derived outputs from state [1, 2, 3, 4])', () => {
    // out = rotl(s1 * 5, 7) * 9: s1 = 2 -> 11520; then s1 = 0 -> 0; then s1 = 1029 -> 5927040; then s1 = 12295.
    const rng = Rng.fromState([1, 2, 3, 4, 0, 0]);
    expect(draws(rng, 4, (r) => r.nextUint32())).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('resumes bit-identically from a saved state, including the cached normal', () => {
    const rng = new Rng(7);
    draws(rng, 37, (r) => r.uniform());
    rng.normal(); // leaves the second Box-Muller value cached
    const state = rng.getState();
    expect(state[4]).toBe(1);
    const mixed = (r: Rng): number[] => [r.normal(), r.uniform(), r.int(10), r.normal(2, 3), r.truncatedNormal(0, 1), r.nextUint32()];
    const expected = Array.from({ length: 50 }, () => mixed(rng)).flat();

    const restored = Rng.fromState(JSON.parse(JSON.stringify(state)) as number[]);
    expect(Array.from({ length: 50 }, () => mixed(restored)).flat()).toEqual(expected);

    const other = new Rng(999);
    other.setState(state);
    expect(Array.from({ length: 50 }, () => mixed(other)).flat()).toEqual(expected);
  });

  it('getState returns a copy, not live state', () => {
    const rng = new Rng(3);
    const state = rng.getState();
    const before = state.slice();
    rng.nextUint32();
    expect(state).toEqual(before);
    expect(rng.getState()).not.toEqual(before);
  });

  it('rejects bad seeds and malformed states', () => {
    expect(() => new Rng(1.5)).toThrow(RangeError);
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
    const rng = new Rng(1);
    expect(() => rng.setState([1, 2, 3])).toThrow(RangeError);
    expect(() => rng.setState([0, 0, 0, 0, 0, 0])).toThrow(/all zeros/);
    expect(() => rng.setState([1, 2, 3, 2 ** 32, 0, 0])).toThrow(RangeError);
    expect(() => rng.setState([1, 2, 3, 4, 2, 0])).toThrow(RangeError);
    expect(() => rng.setState([1, 2, 3, 4, 1, Number.NaN])).toThrow(RangeError);
  });
});

describe('Rng distributions', () => {
  it('uniform() lies in [0, 1) with mean 1/2 and variance 1/12', () => {
    const xs = draws(new Rng(1), N, (r) => r.uniform());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const { mean, variance } = meanAndVariance(xs);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005); // ~5 sigma
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.0015);
  });

  it('uniformRange(lo, hi) is scaled and shifted', () => {
    const xs = draws(new Rng(2), N, (r) => r.uniformRange(-3, 5));
    expect(xs.every((x) => x >= -3 && x <= 5)).toBe(true);
    const { mean, variance } = meanAndVariance(xs);
    expect(Math.abs(mean - 1)).toBeLessThan(0.04);
    expect(Math.abs(variance - 64 / 12) / (64 / 12)).toBeLessThan(0.02);
  });

  it('normal() has mean 0, std 1 and the right mass within one sigma', () => {
    const xs = draws(new Rng(3), N, (r) => r.normal());
    const { mean, variance } = meanAndVariance(xs);
    expect(Math.abs(mean)).toBeLessThan(0.016);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.012);
    const within = xs.filter((x) => Math.abs(x) < 1).length / N;
    expect(Math.abs(within - 0.6826894921370859)).toBeLessThan(0.01);
  });

  it('normal(mean, std) is scaled and shifted', () => {
    const xs = draws(new Rng(4), N, (r) => r.normal(3, 2));
    const { mean, variance } = meanAndVariance(xs);
    expect(Math.abs(mean - 3)).toBeLessThan(0.032);
    expect(Math.abs(Math.sqrt(variance) - 2)).toBeLessThan(0.024);
  });

  it('truncatedNormal() stays within 2 std and has the truncated std', () => {
    const xs = draws(new Rng(5), N, (r) => r.truncatedNormal(1, 0.5));
    expect(xs.every((x) => x >= 0 && x <= 2)).toBe(true);
    const { mean, variance } = meanAndVariance(xs);
    expect(Math.abs(mean - 1)).toBeLessThan(0.008);
    // std of a standard normal truncated to [-2, 2] is 0.8796256610342398
    expect(Math.abs(Math.sqrt(variance) - 0.5 * 0.8796256610342398)).toBeLessThan(0.005);
  });

  it('int(n) covers [0, n) roughly uniformly', () => {
    const rng = new Rng(6);
    const counts = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < N; i++) {
      const k = rng.int(10);
      if (Number.isInteger(k) && k >= 0 && k < 10) counts[k]++;
      else outOfRange++;
    }
    expect(outOfRange).toBe(0);
    const chiSquare = counts.reduce((s, c) => s + (c - N / 10) ** 2 / (N / 10), 0);
    expect(chiSquare).toBeLessThan(30); // 9 degrees of freedom; p < 0.001 above ~27.9
    expect(new Rng(1).int(1)).toBe(0);
    expect(new Rng(1).int(2 ** 32)).toBeLessThan(2 ** 32);
  });

  it('int(n) has no modulo bias for large n', () => {
    // With n = 3 * 2^30, plain `x % n` would land below 2^30 half the time instead of a third.
    const rng = new Rng(8);
    const n = 3 * 2 ** 30;
    let low = 0;
    for (let i = 0; i < N; i++) if (rng.int(n) < 2 ** 30) low++;
    expect(Math.abs(low / N - 1 / 3)).toBeLessThan(0.008);
  });

  it('int(n) rejects invalid bounds', () => {
    const rng = new Rng(1);
    for (const n of [0, -1, 2.5, 2 ** 32 + 1, Number.NaN]) expect(() => rng.int(n)).toThrow(RangeError);
  });
});

describe('Rng.shuffle', () => {
  it('produces a permutation, deterministically', () => {
    const base = Array.from({ length: 1000 }, (_, i) => i);
    const a = new Rng(9).shuffle(base.slice());
    const b = new Rng(9).shuffle(base.slice());
    expect(a).toEqual(b);
    expect(a).not.toEqual(base);
    expect(a.slice().sort((x, y) => x - y)).toEqual(base);
  });

  it('shuffles typed arrays in place and handles tiny arrays', () => {
    const arr = Float32Array.from({ length: 100 }, (_, i) => i);
    const out = new Rng(10).shuffle(arr);
    expect(out).toBe(arr);
    expect(Array.from(arr).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Rng(1).shuffle([])).toEqual([]);
    expect(new Rng(1).shuffle(['x'])).toEqual(['x']);
  });

  it('makes all orderings of three items about equally likely', () => {
    const rng = new Rng(11);
    const counts = new Map<string, number>();
    const trials = 60_000;
    for (let i = 0; i < trials; i++) {
      const key = rng.shuffle([0, 1, 2]).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - trials / 6)).toBeLessThan(500);
  });
});
