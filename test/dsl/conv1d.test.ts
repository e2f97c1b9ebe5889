// conv1d and 1-D pooling against naive loops (strides, dilation, groups, 'same' and 'causal'
// padding, channels-last), their gradients by finite differences, and their shape errors.
import { describe, expect, it } from 'vitest';
import { avgPool1d, conv1d, globalAvgPool1d, globalMaxPool1d, input, maxPool1d, ShapeError, type Conv1dOptions } from '../../src/index.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { checkGrads } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';
import { graphOf, layerCase, randomWeights, run } from './helpers.ts';

/** PyTorch's Conv1d on [N, C, L] with explicit pads, written as loops. */
function naiveConv1d(x: Float32Array, n: number, c: number, l: number, w: Float32Array, b: Float32Array, f: number, k: number, s: number, d: number, groups: number, padL: number, padR: number): number[] {
  const out = Math.floor((l + padL + padR - (k - 1) * d - 1) / s) + 1;
  const cg = c / groups, fg = f / groups;
  const y: number[] = [];
  for (let i = 0; i < n; i++)
    for (let o = 0; o < f; o++)
      for (let t = 0; t < out; t++) {
        let acc = b[o];
        const g = Math.floor(o / fg);
        for (let ci = 0; ci < cg; ci++)
          for (let j = 0; j < k; j++) {
            const pos = t * s + j * d - padL;
            if (pos >= 0 && pos < l) acc += x[(i * c + g * cg + ci) * l + pos] * w[(o * cg + ci) * k + j];
          }
        y.push(acc);
      }
  return y;
}

const CASES: [string, Conv1dOptions, number, number][] = [
  // name, options, left pad, right pad (computed by hand for C=4, L=9)
  ['valid', { filters: 2, kernelSize: 3 }, 0, 0],
  ['stride-dilation', { filters: 4, kernelSize: 2, strides: 2, dilation: 3 }, 0, 0],
  ['same', { filters: 2, kernelSize: 4 }, 1, 2],
  ['same-stride', { filters: 2, kernelSize: 3, strides: 2 }, 1, 1],
  ['causal-dilated', { filters: 2, kernelSize: 3, dilation: 2, padding: 'causal' }, 4, 0],
  ['groups', { filters: 6, kernelSize: 3, groups: 2, padding: 1 }, 1, 1],
];

describe('conv1d', () => {
  for (const [name, o, padL, padR] of CASES) {
    it(`${name}: matches a naive loop`, () => {
      resetLayerNames();
      const x = input([4, 9], { name: 'x' });
      const padding = name.startsWith('same') ? 'same' : o.padding;
      const y = conv1d(x, { ...o, padding, name: 'c' });
      const g = graphOf([x], y);
      const w = randomWeights(g);
      const xs = Float32Array.from(new Lcg(2).array(2 * 4 * 9));
      const want = naiveConv1d(xs, 2, 4, 9, w['c/kernel'], w['c/bias'], o.filters, o.kernelSize, o.strides ?? 1, o.dilation ?? 1, o.groups ?? 1, padL, padR);
      expect(y.type.shape).toEqual(['N', o.filters, want.length / 2 / o.filters]);
      run(g, { x: xs }, w, 2).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    });
  }

  it('channelsLast reads and writes [N, L, C]', () => {
    resetLayerNames();
    const x = input([9, 4], { name: 'x' });
    const y = conv1d(x, { filters: 3, kernelSize: 3, padding: 'causal', channelsLast: true, name: 'c' });
    expect(y.type.shape).toEqual(['N', 9, 3]);
    const g = graphOf([x], y);
    const w = randomWeights(g);
    const nlc = Float32Array.from(new Lcg(4).array(9 * 4));
    const ncl = Float32Array.from({ length: 36 }, (_, i) => nlc[(i % 9) * 4 + Math.floor(i / 9)]);
    const want = naiveConv1d(ncl, 1, 4, 9, w['c/kernel'], w['c/bias'], 3, 3, 1, 1, 1, 2, 0);
    run(g, { x: nlc }, w, 1).forEach((v, i) => expect(v).toBeCloseTo(want[(i % 3) * 9 + Math.floor(i / 3)], 5));
  });

  it('shape errors name the layer and the shapes', () => {
    resetLayerNames();
    const flat = input([8], { name: 'flat' });
    expect(() => conv1d(flat, { filters: 2, kernelSize: 3, name: 'c1' })).toThrow(ShapeError);
    expect(() => conv1d(flat, { filters: 2, kernelSize: 3, name: 'c1' })).toThrow(/'c1'.*needs an \[N, C, L\] input; its input has shape \[N, 8\]/);
    const short = input([2, 3], { name: 'short' });
    expect(() => conv1d(short, { filters: 2, kernelSize: 4, name: 'c2' })).toThrow(/'c2'.*window spans 4 steps.*only 3/);
    expect(() => conv1d(short, { filters: 3, kernelSize: 1, groups: 2, name: 'c3' })).toThrow(/groups \(2\) must divide both the input channels \(2\) and the filters \(3\)/);
  });

  it('gradients (input, kernel, bias) match finite differences: causal, dilated, grouped, strided', async () => {
    const r = await checkGrads(layerCase('conv1d', () => {
      const x = input([4, 7], { name: 'x' });
      return { inputs: [x], output: conv1d(x, { filters: 4, kernelSize: 3, dilation: 2, groups: 2, strides: 2, padding: 'causal' }) };
    }), 'dsl-conv1d');
    expect(r.worst).toBeLessThan(1e-5);
  });
});

describe('1-D pooling', () => {
  it('max, average (padding not counted) and global pools match naive loops', () => {
    resetLayerNames();
    const x = input([2, 7], { name: 'x' });
    const g = graphOf([x], maxPool1d(x, { poolSize: 3, strides: 2 }));
    const xs = Float32Array.from(new Lcg(5).array(14));
    const row = (c: number) => Array.from(xs.slice(c * 7, c * 7 + 7));
    const wantMax = [0, 1].flatMap((c) => [0, 2, 4].map((t) => Math.max(...row(c).slice(t, t + 3))));
    expect(Array.from(run(g, { x: xs }, {}, 1))).toEqual(wantMax.map(Math.fround));
    const avg = graphOf([x], avgPool1d(x, { poolSize: 2, padding: 'same' }));
    // L = 7, pool 2, stride 2, 'same': 4 windows, the last holding only position 6.
    const wantAvg = [0, 1].flatMap((c) => [0, 2, 4, 6].map((t) => { const w = row(c).slice(t, t + 2); return w.reduce((a, b) => a + b, 0) / w.length; }));
    run(avg, { x: xs }, {}, 1).forEach((v, i) => expect(v).toBeCloseTo(wantAvg[i], 6));
    const gavg = run(graphOf([x], globalAvgPool1d(x)), { x: xs }, {}, 1);
    const gmax = run(graphOf([x], globalMaxPool1d(x)), { x: xs }, {}, 1);
    [0, 1].forEach((c) => {
      expect(gavg[c]).toBeCloseTo(row(c).reduce((a, b) => a + b, 0) / 7, 6);
      expect(gmax[c]).toBe(Math.fround(Math.max(...row(c))));
    });
  });

  it('gradients match finite differences', async () => {
    const r = await checkGrads(layerCase('pool1d', () => {
      const x = input([3, 8], { name: 'x' });
      return { inputs: [x], output: globalMaxPool1d(avgPool1d(x, { poolSize: 3, strides: 1, padding: 'same' })) };
    }), 'dsl-conv1d');
    expect(r.worst).toBeLessThan(1e-5);
  });
});
