// Self-test of the toBeAllclose matcher from test/setup.ts: tolerances, specials, lengths, failure messages.
import { describe, expect, it } from 'vitest';

function failure(f: () => void): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the assertion to fail');
}

describe('toBeAllclose', () => {
  it('passes within rtol·|expected| + atol', () => {
    expect([1, 2, 3]).toBeAllclose([1, 2, 3]);
    expect(Float32Array.of(1, 2)).toBeAllclose(Float64Array.of(1 + 1e-6, 2 - 1e-6));
    expect([1000]).toBeAllclose([1000.009]);
    expect([0]).toBeAllclose([9e-7]);
    expect([1.09]).toBeAllclose([1], { rtol: 0.1, atol: 0 });
    expect([]).toBeAllclose([]);
  });

  it('fails outside the tolerance, with both defaults and given ones', () => {
    expect([1000]).not.toBeAllclose([1000.02]);
    expect([0]).not.toBeAllclose([2e-6]);
    expect([1.1]).not.toBeAllclose([1], { rtol: 0.05, atol: 0 });
    expect([1 + 1e-9]).not.toBeAllclose([1], { rtol: 0, atol: 0 });
  });

  it('treats NaN as equal to NaN only, and infinities as equal to themselves only', () => {
    expect([NaN, Infinity, -Infinity]).toBeAllclose([NaN, Infinity, -Infinity]);
    expect([NaN]).not.toBeAllclose([0]);
    expect([0]).not.toBeAllclose([NaN]);
    expect([Infinity]).not.toBeAllclose([-Infinity]);
    expect([Infinity]).not.toBeAllclose([1e308], { rtol: 1, atol: 1e308 });
    expect([-0]).toBeAllclose([0], { rtol: 0, atol: 0 });
  });

  it('fails on different lengths, naming both', () => {
    const msg = failure(() => expect([1, 2, 3]).toBeAllclose([1, 2]));
    expect(msg).toContain('received length 3');
    expect(msg).toContain('expected length 2');
  });

  it('reports the worst index and both values there', () => {
    const msg = failure(() => expect([1, 2, 3, 4]).toBeAllclose([1, 2.1, 5, 4]));
    expect(msg).toContain('2 of 4 elements differ');
    expect(msg).toContain('worst at index 2');
    expect(msg).toContain('received 3');
    expect(msg).toContain('expected 5');
    expect(msg).toContain('length 4');
  });

  it('ranks a NaN mismatch as worst', () => {
    const msg = failure(() => expect([1, NaN]).toBeAllclose([100, 2]));
    expect(msg).toContain('worst at index 1');
  });

  it('rejects non-arrays', () => {
    expect(failure(() => expect(3).toBeAllclose([3]))).toMatch(/expects two arrays/);
  });

  it('works as an asymmetric matcher', () => {
    expect({ y: Float64Array.of(1, 2) }).toEqual({ y: expect.toBeAllclose([1, 2 + 1e-9]) });
    expect({ y: [1] }).not.toEqual({ y: expect.toBeAllclose([2]) });
  });
});
