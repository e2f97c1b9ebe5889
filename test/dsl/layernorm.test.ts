// layerNorm against the defining formula (biased variance, ε inside the root), over the last axis
// and over two axes, PyTorch's normalizedShape; gradients by finite differences; errors.
import { describe, expect, it } from 'vitest';
import { input, layerNorm, ShapeError } from '../../src/index.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { checkGrads } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';
import { graphOf, layerCase, randomWeights, run } from './helpers.ts';

/** Normalises each group of `size` consecutive values; γ/β indexed by position in the group. */
function naive(x: Float32Array, size: number, gamma: Float32Array, beta: Float32Array, eps: number): number[] {
  const y: number[] = [];
  for (let s = 0; s < x.length; s += size) {
    const v = Array.from(x.slice(s, s + size));
    const mean = v.reduce((a, b) => a + b, 0) / size;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / size;
    v.forEach((e, i) => y.push(((e - mean) / Math.sqrt(variance + eps)) * gamma[i] + beta[i]));
  }
  return y;
}

describe('layerNorm', () => {
  it('last axis, ε = 1e-5 by default', () => {
    resetLayerNames();
    const x = input([3, 5], { name: 'x' });
    const g = graphOf([x], layerNorm(x, { name: 'ln' }));
    const w = randomWeights(g);
    const xs = Float32Array.from(new Lcg(1).array(2 * 15, -3, 3));
    const want = naive(xs, 5, w['ln/gamma'], w['ln/beta'], 1e-5);
    run(g, { x: xs }, w, 2).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
  });

  it('normalizedShape [3, 5] (PyTorch) equals axis [1, 2] (Keras); no γ/β with scale/center off', () => {
    resetLayerNames();
    const x = input([3, 5], { name: 'x' });
    const torch = graphOf([x], layerNorm(x, { name: 'a', normalizedShape: [3, 5], epsilon: 1e-3 }));
    const keras = graphOf([x], layerNorm(x, { name: 'b', axis: [1, 2], epsilon: 1e-3, scale: false, center: false }));
    const w = randomWeights(torch);
    const xs = Float32Array.from(new Lcg(2).array(2 * 15, -3, 3));
    const want = naive(xs, 15, w['a/gamma'], w['a/beta'], 1e-3);
    run(torch, { x: xs }, w, 2).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    const plain = naive(xs, 15, new Float32Array(15).fill(1), new Float32Array(15), 1e-3);
    run(keras, { x: xs }, {}, 2).forEach((v, i) => expect(v).toBeCloseTo(plain[i], 5));
  });

  it('errors name the layer, the shape and what was expected', () => {
    resetLayerNames();
    const x = input([3, 5], { name: 'x' });
    expect(() => layerNorm(x, { name: 'ln', normalizedShape: [4] })).toThrow(ShapeError);
    expect(() => layerNorm(x, { name: 'ln', normalizedShape: [4] })).toThrow(/'ln'.*normalizedShape \[4\] must equal the last dims of its input \[N, 3, 5\]/);
    expect(() => layerNorm(x, { name: 'ln', axis: 0 })).toThrow(/cannot normalise over the batch axis/);
    expect(() => layerNorm(x, { name: 'ln', axis: 3 })).toThrow(/axis 3 is out of range for its input \[N, 3, 5\]/);
  });

  it('gradients (input, γ, β) match finite differences, over one axis and over a middle one', async () => {
    const a = await checkGrads(layerCase('layernorm-last', () => {
      const x = input([2, 4], { name: 'x' });
      return { inputs: [x], output: layerNorm(x) };
    }), 'dsl-layernorm');
    expect(a.worst).toBeLessThan(1e-5);
    const b = await checkGrads(layerCase('layernorm-middle', () => {
      const x = input([3, 2], { name: 'x' });
      return { inputs: [x], output: layerNorm(x, { axis: 1 }) };
    }), 'dsl-layernorm');
    expect(b.worst).toBeLessThan(1e-5);
  });
});
