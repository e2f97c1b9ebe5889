// batchNorm (inference form, channels on axis 1): values against (x − mean)/√(var + ε)·scale + bias, and shape errors.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { DType } from '../../src/ir/dtype.ts';
import type { Dim } from '../../src/ir/shape.ts';
import * as R from '../reference/naive.ts';
import { BATCHES, checkOp, leaf, run, type InputSpec } from './harness.ts';

const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;

/** x, then scale, bias, mean and variance of shape [C] (variance positive), optionally as params. */
function bnInputs(shape: Dim[], dtype: DType = 'float64', param = false): InputSpec[] {
  const c = shape[1] as number;
  return [
    { shape, dtype, range: [-3, 3] },
    { shape: [c], dtype, param, range: [0.5, 2] },
    { shape: [c], dtype, param, range: [-1, 1] },
    { shape: [c], dtype, param, range: [-0.5, 0.5] },
    { shape: [c], dtype, param, range: [0.1, 3] },
  ];
}

describe('batchNorm', () => {
  const SHAPES: Dim[][] = [['N', 4], ['N', 3, 5], ['N', 3, 4, 4], ['N', 2, 2, 3, 2], [2, 3, 2, 2], [1, 1]];
  for (const shape of SHAPES) {
    for (const epsilon of [1e-5, 1e-3, 0]) {
      for (const batch of shape[0] === 'N' ? BATCHES : [1]) {
        it(`${fmt(shape)} ε=${epsilon} batch ${batch}`, () => {
          const { node } = checkOp({
            inputs: bnInputs(shape),
            build: (xs) => makeNode('batchNorm', xs, { epsilon, momentum: 0.9 }),
            ref: ([x, scale, bias, mean, variance]) => R.batchNorm(x, scale, bias, mean, variance, epsilon),
            batch,
            seed: 41 + batch,
          });
          expect(node.type.shape).toEqual(shape);
        });
      }
    }
  }

  it('statistics as parameters, float32', () => {
    const { got } = checkOp({
      inputs: bnInputs(['N', 3, 4, 4], 'float32', true),
      build: (xs) => makeNode('batchNorm', xs, { epsilon: 1e-5 }),
      ref: ([x, scale, bias, mean, variance]) => R.batchNorm(x, scale, bias, mean, variance, 1e-5),
      batch: 3,
      rtol: 1e-5,
      atol: 1e-6,
    });
    expect(got).toBeInstanceOf(Float32Array);
  });

  it('default statistics (ones, zeros, zeros, ones) are (nearly) the identity', () => {
    const c = 3;
    checkOp({
      inputs: [
        { shape: ['N', c, 2, 2] },
        { shape: [c], values: [1, 1, 1] },
        { shape: [c], values: [0, 0, 0] },
        { shape: [c], values: [0, 0, 0] },
        { shape: [c], values: [1, 1, 1] },
      ],
      build: (xs) => makeNode('batchNorm', xs, { epsilon: 0 }),
      ref: ([x]) => x,
      batch: 2,
    });
  });

  it('rejects statistics of the wrong shape, naming it', () => {
    const x = leaf(['N', 3, 4, 4]);
    const ok = () => leaf([3]);
    let err: unknown;
    try {
      makeNode('batchNorm', [x, ok(), ok(), leaf([4]), ok()], { epsilon: 1e-5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toContain('must be [3], got [4]');
    expect(() => makeNode('batchNorm', [x, ok(), ok(), ok(), leaf([3, 1])], { epsilon: 1e-5 })).toThrow(/got \[3, 1\]/);
  });

  // Regression (fixed in src/ir/ops/norm.ts): `epsilon` was not checked; without it the lowering added
  // E.num(undefined) to the variance and every output is NaN. Flip to `it` once it is validated
  // (or defaulted to 1e-5 as in ONNX).
  it('without epsilon neither throws nor returns NaN', () => {
    const xs = [leaf(['N', 2]), leaf([2]), leaf([2]), leaf([2]), leaf([2])];
    let y;
    try {
      y = makeNode('batchNorm', xs, {});
    } catch (e) {
      if (e instanceof ShapeError) return; // rejecting the node is also acceptable
      throw e;
    }
    const feeds = Object.fromEntries(xs.map((n, i) => [n.attrs.name as string, Float64Array.of(i + 1, i + 2)]));
    const out = run(xs, y, feeds, {}, 1);
    expect(Array.from(out).some(Number.isNaN)).toBe(false);
  });

  it('rejects rank < 2, mixed dtypes and a wrong input count', () => {
    expect(() => makeNode('batchNorm', [leaf([3]), leaf([3]), leaf([3]), leaf([3]), leaf([3])], { epsilon: 1e-5 })).toThrow(/\[N, C, \.\.\.\]/);
    const f32 = leaf([3], 'float32');
    expect(() => makeNode('batchNorm', [leaf(['N', 3]), f32, leaf([3]), leaf([3]), leaf([3])], { epsilon: 1e-5 })).toThrow(/dtypes differ/);
    expect(() => makeNode('batchNorm', [leaf(['N', 3]), leaf([3])], { epsilon: 1e-5 })).toThrow(/batchNorm takes 5 input\(s\), got 2/);
  });
});
