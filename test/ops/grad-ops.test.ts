// Forward results of the ops gradients are made of (masks, broadcasts, backward kernels of the
// windowed ops), against naive loops written from their definitions.
import { describe, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { hashUniform } from '../../runtime/math.ts';
import { checkOp } from './harness.ts';
import { at, ravel, tensor, unravel, type Tensor } from '../reference/tensor.ts';

/** out[idx] = f(idx) over a shape. */
function build(shape: number[], f: (idx: number[]) => number): Tensor {
  const t = tensor(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = f(unravel(i, shape));
  return t;
}

const window = { strides: [2, 1] as [number, number], pads: [1, 0, 0, 1] as [number, number, number, number], dilations: [1, 1] as [number, number] };

describe('mask and broadcast ops', () => {
  it('step: 1 where x > 0', () => {
    checkOp({ inputs: [{ shape: ['N', 5], values: [-1, 0, 2, -0, 3, 1, -2, 0.5, 0, -3] }], build: ([x]) => makeNode('step', [x]), ref: ([x]) => build(x.shape, (i) => (at(x, i) > 0 ? 1 : 0)) });
  });
  it('sign', () => {
    checkOp({ inputs: [{ shape: ['N', 3] }], build: ([x]) => makeNode('sign', [x]), ref: ([x]) => build(x.shape, (i) => Math.sign(at(x, i))) });
  });
  it('isEqual broadcasts and marks equal elements', () => {
    checkOp({
      inputs: [{ shape: ['N', 3], values: [1, 2, 3, 3, 2, 1] }, { shape: [3], values: [1, 2, 1] }],
      build: ([a, b]) => makeNode('isEqual', [a, b]),
      ref: ([a, b]) => build(a.shape, ([n, j]) => (at(a, [n, j]) === at(b, [j]) ? 1 : 0)),
    });
  });
  it('expand to a batched shape', () => {
    checkOp({ inputs: [{ shape: [1, 4] }], build: ([x]) => makeNode('expand', [x], { shape: ['N', 3, 4] }), ref: ([x]) => build([2, 3, 4], ([, , k]) => at(x, [0, k])) });
  });
  it('oneHot of int32 labels', () => {
    checkOp({
      inputs: [{ shape: ['N'], dtype: 'int32', values: [2, 0, 4] }],
      batch: 3,
      build: ([y]) => makeNode('oneHot', [y], { depth: 5 }),
      ref: ([y]) => build([3, 5], ([n, k]) => (at(y, [n]) === k ? 1 : 0)),
    });
  });
  it('batchSize is the run-time batch', () => {
    checkOp({ inputs: [], batch: 7, build: () => makeNode('batchSize', [], { dtype: 'float64' }), ref: () => tensor([], [7]) });
  });
  it('dropoutMask: 1/(1-rate) where hashUniform(seed, flat index) ≥ rate, else 0', () => {
    const rate = 0.3;
    checkOp({
      inputs: [{ shape: ['N', 4, 5] }, { shape: [], values: [12345] }],
      build: ([x, seed]) => makeNode('dropoutMask', [x, seed], { rate }),
      ref: ([x, seed]) => build(x.shape, (i) => (hashUniform(seed.data[0], ravel(i, x.shape)) >= rate ? 1 / (1 - rate) : 0)),
    });
  });
});

describe('backward kernels', () => {
  it('sliceBackward puts the gradient back on the slice grid', () => {
    const attrs = { starts: [1, -1], ends: [6, -6], axes: [1, 2], steps: [2, -2], inputShape: ['N', 7, 6] };
    checkOp({
      inputs: [{ shape: ['N', 3, 3] }],
      build: ([g]) => makeNode('sliceBackward', [g], attrs),
      ref: ([g]) => build([2, 7, 6], ([n, r, c]) => {
        // Forward slice: rows 1,3,5; columns 5,3,1 (from -1 backwards by 2).
        const ri = [1, 3, 5].indexOf(r);
        const ci = [5, 3, 1].indexOf(c);
        return ri >= 0 && ci >= 0 ? at(g, [n, ri, ci]) : 0;
      }),
    });
  });

  it('conv2dBackwardInput: dx[n,c,h,w] = Σ dy[n,f,oh,ow]·w[f,c,i,j] over taps that read (h, w)', () => {
    const x = [2, 4, 5, 5];
    const w = [3, 2, 3, 2];
    const attrs = { ...window, group: 2, inputShape: ['N', 4, 5, 5] };
    const oh = Math.floor((5 + 1 - 3) / 2) + 1;
    const ow = Math.floor((5 + 1 - 2) / 1) + 1;
    const f = 6;
    checkOp({
      inputs: [{ shape: ['N', f, oh, ow] }, { shape: [f, w[1], w[2], w[3]] }],
      build: ([dy, k]) => makeNode('conv2dBackwardInput', [dy, k], attrs),
      ref: ([dy, k]) => {
        const dx = tensor(x);
        for (let n = 0; n < 2; n++)
          for (let fo = 0; fo < f; fo++)
            for (let y = 0; y < oh; y++)
              for (let z = 0; z < ow; z++)
                for (let c = 0; c < 2; c++)
                  for (let i = 0; i < 3; i++)
                    for (let j = 0; j < 2; j++) {
                      const h = y * 2 - 1 + i;
                      const col = z - 0 + j;
                      const channel = Math.floor(fo / 3) * 2 + c;
                      if (h >= 0 && h < 5 && col >= 0 && col < 5) dx.data[ravel([n, channel, h, col], x)] += at(dy, [n, fo, y, z]) * at(k, [fo, c, i, j]);
                    }
        return dx;
      },
    });
  });

  it('conv2dBackwardFilter: dw[f,c,i,j] = Σ over batch and positions of dy·x', () => {
    const attrs = { ...window, group: 1, inputShape: [3, 2, 3, 2] };
    const oh = 2;
    const ow = 5;
    checkOp({
      inputs: [{ shape: ['N', 3, oh, ow] }, { shape: ['N', 2, 4, 5] }],
      build: ([dy, x]) => makeNode('conv2dBackwardFilter', [dy, x], attrs),
      ref: ([dy, x]) =>
        build([3, 2, 3, 2], ([f, c, i, j]) => {
          let s = 0;
          for (let n = 0; n < 2; n++)
            for (let y = 0; y < oh; y++)
              for (let z = 0; z < ow; z++) {
                const h = y * 2 - 1 + i;
                const col = z + j;
                if (h >= 0 && h < 4 && col >= 0 && col < 5) s += at(dy, [n, f, y, z]) * at(x, [n, c, h, col]);
              }
          return s;
        }),
    });
  });

  it('maxPool2dBackward routes each gradient to the inputs equal to its window maximum', () => {
    // Distinct inputs so each window has one maximum; y holds the true maxima.
    const xs = Array.from({ length: 2 * 16 }, (_, i) => ((i * 7) % 32) / 8);
    const attrs = { kernel: [2, 2] as [number, number], strides: [2, 2] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as [number, number] };
    const maxima = (x: number[]) => build([2, 1, 2, 2], ([n, , a, b]) => Math.max(...[0, 1].flatMap((i) => [0, 1].map((j) => x[n * 16 + (2 * a + i) * 4 + 2 * b + j]))));
    const y = Array.from(maxima(xs).data);
    checkOp({
      inputs: [{ shape: ['N', 1, 2, 2] }, { shape: ['N', 1, 4, 4], values: xs }, { shape: ['N', 1, 2, 2], values: y }],
      build: ([g, x, m]) => makeNode('maxPool2dBackward', [g, x, m], attrs),
      ref: ([g, x, m]) => build([2, 1, 4, 4], ([n, c, h, w]) => (at(x, [n, c, h, w]) === at(m, [n, c, h >> 1, w >> 1]) ? at(g, [n, c, h >> 1, w >> 1]) : 0)),
    });
  });

  it('avgPool2dBackward spreads each gradient over its window, divided by the given counts', () => {
    const attrs = { kernel: [2, 2] as [number, number], strides: [1, 1] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number], dilations: [1, 1] as [number, number], inputShape: ['N', 1, 3, 3] };
    checkOp({
      inputs: [{ shape: ['N', 1, 2, 2] }, { shape: [2, 2], values: [4, 4, 4, 4] }],
      build: ([g, d]) => makeNode('avgPool2dBackward', [g, d], attrs),
      ref: ([g]) =>
        build([2, 1, 3, 3], ([n, c, h, w]) => {
          let s = 0;
          for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) if (h - a >= 0 && h - a < 2 && w - b >= 0 && w - b < 2) s += at(g, [n, c, h - a, w - b]) / 4;
          return s;
        }),
    });
  });
});
