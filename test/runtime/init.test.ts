// Tests for parameter initialisers: empirical bounds/stds against independently computed formulas.
import { describe, it, expect } from 'vitest';
import { Rng } from '../../runtime/rng.ts';
import { describeInit, initialize } from '../../runtime/init.ts';
import type { InitSpec } from '../../runtime/init.ts';

const SIZE = 100_000;
const FAN_IN = 300;
const FAN_OUT = 100;

function stats(xs: Float32Array): { mean: number; std: number; maxAbs: number; min: number; max: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    sum += x;
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const mean = sum / xs.length;
  let sq = 0;
  for (const x of xs) sq += (x - mean) ** 2;
  return { mean, std: Math.sqrt(sq / (xs.length - 1)), maxAbs: Math.max(-min, max), min, max };
}

describe('uniform initialisers', () => {
  const cases: [InitSpec, number][] = [
    [{ kind: 'glorotUniform', fanIn: FAN_IN, fanOut: FAN_OUT }, Math.sqrt(6 / 400)],
    [{ kind: 'heUniform', fanIn: FAN_IN, fanOut: FAN_OUT }, Math.sqrt(6 / 300)],
    [{ kind: 'lecunUniform', fanIn: FAN_IN, fanOut: FAN_OUT }, Math.sqrt(3 / 300)],
    // PyTorch's default a = sqrt(5) makes the bound exactly 1/sqrt(fanIn).
    [{ kind: 'kaimingUniform', fanIn: 784, a: Math.sqrt(5) }, 1 / 28],
    [{ kind: 'kaimingUniform', fanIn: 50, a: 0 }, Math.sqrt(2) * Math.sqrt(3 / 50)],
    [{ kind: 'uniform', low: -0.05, high: 0.05 }, 0.05],
  ];
  for (const [spec, limit] of cases) {
    it(`${describeInit(spec)} fills [-${limit.toFixed(5)}, ${limit.toFixed(5)}] uniformly`, () => {
      const xs = initialize(spec, SIZE, new Rng(1));
      const s = stats(xs);
      expect(s.maxAbs).toBeLessThanOrEqual(Math.fround(limit));
      expect(s.maxAbs).toBeGreaterThan(0.999 * limit);
      expect(Math.abs(s.mean)).toBeLessThan(0.01 * limit);
      expect(Math.abs(s.std - limit / Math.sqrt(3)) / (limit / Math.sqrt(3))).toBeLessThan(0.01);
    });
  }

  it('uniform(low, high) honours an asymmetric range', () => {
    const s = stats(initialize({ kind: 'uniform', low: 2, high: 3 }, SIZE, new Rng(2)));
    expect(s.min).toBeGreaterThanOrEqual(2);
    expect(s.max).toBeLessThanOrEqual(3);
    expect(Math.abs(s.mean - 2.5)).toBeLessThan(0.005);
  });
});

describe('normal initialisers', () => {
  const cases: [InitSpec, number][] = [
    [{ kind: 'glorotNormal', fanIn: FAN_IN, fanOut: FAN_OUT }, Math.sqrt(2 / 400)],
    [{ kind: 'heNormal', fanIn: FAN_IN, fanOut: FAN_OUT }, Math.sqrt(2 / 300)],
    [{ kind: 'lecunNormal', fanIn: FAN_IN, fanOut: FAN_OUT }, Math.sqrt(1 / 300)],
    [{ kind: 'normal', mean: 0, std: 0.02 }, 0.02],
  ];
  for (const [spec, std] of cases) {
    it(`${describeInit(spec)} has std ${std.toFixed(5)}`, () => {
      const s = stats(initialize(spec, SIZE, new Rng(3)));
      expect(Math.abs(s.mean)).toBeLessThan(0.016 * std);
      expect(Math.abs(s.std - std) / std).toBeLessThan(0.012);
      expect(s.maxAbs).toBeGreaterThan(3.5 * std); // untruncated tails
    });
  }

  for (const kind of ['glorotNormal', 'heNormal', 'lecunNormal'] as const) {
    it(`${kind} with truncated: true keeps the target std and cuts at 2 corrected stds`, () => {
      const target = { glorotNormal: Math.sqrt(2 / 400), heNormal: Math.sqrt(2 / 300), lecunNormal: Math.sqrt(1 / 300) }[kind];
      const corrected = target / 0.87962566103423978; // Keras's correction
      const s = stats(initialize({ kind, fanIn: FAN_IN, fanOut: FAN_OUT, truncated: true }, SIZE, new Rng(4)));
      expect(s.maxAbs).toBeLessThanOrEqual(Math.fround(2 * corrected));
      expect(s.maxAbs).toBeGreaterThan(1.99 * corrected);
      expect(Math.abs(s.std - target) / target).toBeLessThan(0.012);
    });
  }

  it('normal(mean, std) is shifted', () => {
    const s = stats(initialize({ kind: 'normal', mean: 1, std: 0.1 }, SIZE, new Rng(5)));
    expect(Math.abs(s.mean - 1)).toBeLessThan(0.002);
  });
});

describe('constant initialisers and general behaviour', () => {
  it('fills zeros, ones and constants exactly without consuming randomness', () => {
    const rng = new Rng(6);
    const before = rng.getState();
    expect(Array.from(initialize({ kind: 'zeros' }, 4, rng))).toEqual([0, 0, 0, 0]);
    expect(Array.from(initialize({ kind: 'ones' }, 3, rng))).toEqual([1, 1, 1]);
    expect(Array.from(initialize({ kind: 'constant', value: 0.1 }, 2, rng))).toEqual([Math.fround(0.1), Math.fround(0.1)]);
    expect(rng.getState()).toEqual(before);
  });

  it('is deterministic for a given seed and returns Float32Array of the requested size', () => {
    const spec: InitSpec = { kind: 'glorotUniform', fanIn: 10, fanOut: 5 };
    const a = initialize(spec, 50, new Rng(7));
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(50);
    expect(a).toEqual(initialize(spec, 50, new Rng(7)));
    expect(a).not.toEqual(initialize(spec, 50, new Rng(8)));
    expect(initialize(spec, 0, new Rng(7)).length).toBe(0);
  });

  it('describes specs readably', () => {
    expect(describeInit({ kind: 'glorotUniform', fanIn: 784, fanOut: 64 })).toBe('glorotUniform(fanIn=784, fanOut=64)');
    expect(describeInit({ kind: 'heNormal', fanIn: 9, fanOut: 3, truncated: true })).toBe('heNormal(fanIn=9, fanOut=3, truncated)');
    expect(describeInit({ kind: 'kaimingUniform', fanIn: 784, a: Math.sqrt(5) })).toBe('kaimingUniform(fanIn=784, a=sqrt(5))');
    expect(describeInit({ kind: 'zeros' })).toBe('zeros()');
    expect(describeInit({ kind: 'constant', value: 0.5 })).toBe('constant(value=0.5)');
    expect(describeInit({ kind: 'uniform', low: -1, high: 1 })).toBe('uniform(low=-1, high=1)');
    expect(describeInit({ kind: 'normal', mean: 0, std: 0.02 })).toBe('normal(mean=0, std=0.02)');
  });

  it('rejects invalid specs and sizes', () => {
    const rng = new Rng(1);
    expect(() => initialize({ kind: 'glorotUniform', fanIn: 0, fanOut: 5 }, 4, rng)).toThrow(/fanIn must be a positive/);
    expect(() => initialize({ kind: 'heNormal', fanIn: 3, fanOut: Number.NaN }, 4, rng)).toThrow(RangeError);
    expect(() => initialize({ kind: 'uniform', low: 1, high: 0 }, 4, rng)).toThrow(/low must not exceed high/);
    expect(() => initialize({ kind: 'normal', mean: 0, std: -1 }, 4, rng)).toThrow(/std must not be negative/);
    expect(() => initialize({ kind: 'zeros' }, -1, rng)).toThrow(/size must be a non-negative integer/);
    expect(() => initialize({ kind: 'zeros' }, 1.5, rng)).toThrow(RangeError);
    const bogus = { kind: 'xavier', fanIn: 1, fanOut: 1 } as unknown as InitSpec;
    expect(() => initialize(bogus, 4, rng)).toThrow(/unknown initialiser kind "xavier"/);
  });
});
