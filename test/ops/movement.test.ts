// transpose, concat, slice (ONNX semantics), reshape, identity and dropout: values, shapes and errors.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Dim } from '../../src/ir/shape.ts';
import * as R from '../reference/naive.ts';
import { BATCHES, checkOp, leaf, shapeError } from './harness.ts';

const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;


describe('transpose', () => {
  const CASES: [Dim[], number[]][] = [
    [['N', 3, 4], [0, 2, 1]],
    [['N', 2, 3, 4], [0, 3, 1, 2]],
    [['N', 2, 3, 4], [0, 2, 3, 1]],
    [['N', 5], [0, 1]],
    [[2, 3, 4], [2, 0, 1]],
    [[2, 3, 4], [1, 2, 0]],
    [[3, 4], [1, 0]],
    [[2, 1, 3, 2, 2], [4, 2, 0, 3, 1]],
    [[5], [0]],
    [[], []],
  ];
  for (const [shape, perm] of CASES) {
    for (const batch of shape[0] === 'N' ? BATCHES : [1]) {
      it(`${fmt(shape)} perm ${fmt(perm)} batch ${batch}`, () => {
        const { node } = checkOp({
          inputs: [{ shape }],
          build: ([x]) => makeNode('transpose', [x], { perm }),
          ref: ([x]) => R.transpose(x, perm),
          batch,
          rtol: 0,
          atol: 0,
        });
        expect(node.type.shape).toEqual(perm.map((p) => shape[p]));
      });
    }
  }

  it('rejects a bad perm, naming it and the rank', () => {
    const e = shapeError(() => makeNode('transpose', [leaf(['N', 3, 4])], { perm: [0, 1, 1] }));
    expect(e.message).toContain('[0,1,1]');
    expect(e.message).toContain('3 axes');
    expect(e.message).toContain('[N, 3, 4]');
    expect(() => makeNode('transpose', [leaf([3, 4])], { perm: [0, 1, 2] })).toThrow(/not a permutation of 2 axes/);
    expect(() => makeNode('transpose', [leaf([3, 4])], { perm: [0, 2] })).toThrow(/not a permutation/);
    expect(() => makeNode('transpose', [leaf([3, 4])], { perm: [-1, 0] })).toThrow(/attribute perm\[0\] must be an integer in \[0, 63\], got -1/);
    expect(() => makeNode('transpose', [leaf([3, 4])], { perm: [0.5, 1] })).toThrow(/attribute perm\[0\] must be an integer .* got 0.5/);
  });

  it('cannot move the batch dimension', () => {
    expect(() => makeNode('transpose', [leaf(['N', 3, 4])], { perm: [1, 0, 2] })).toThrow(/batch dimension/);
  });
});

describe('concat', () => {
  const CASES: [Dim[][], number, Dim[]][] = [
    [[['N', 2, 3], ['N', 4, 3]], 1, ['N', 6, 3]],
    [[['N', 2, 3], ['N', 2, 1], ['N', 2, 2]], -1, ['N', 2, 6]],
    [[['N', 2, 3], ['N', 2, 1], ['N', 2, 2]], 2, ['N', 2, 6]],
    [[['N', 3]], 1, ['N', 3]],
    [[['N', 1, 2, 2], ['N', 3, 2, 2]], 1, ['N', 4, 2, 2]],
    [[['N', 2, 2, 1], ['N', 2, 2, 3], ['N', 2, 2, 1], ['N', 2, 2, 2]], -1, ['N', 2, 2, 7]],
    [[[2, 3], [1, 3], [4, 3]], 0, [7, 3]],
    [[[2, 3], [2, 5]], -1, [2, 8]],
    [[[1], [1], [1]], 0, [3]],
  ];
  for (const [shapes, axis, out] of CASES) {
    for (const batch of shapes[0][0] === 'N' ? BATCHES : [1]) {
      it(`${shapes.map(fmt).join(' ++ ')} axis ${axis} batch ${batch}`, () => {
        const { node } = checkOp({
          inputs: shapes.map((shape) => ({ shape })),
          build: (xs) => makeNode('concat', xs, { axis }),
          ref: (ts) => R.concat(ts, axis),
          batch,
          rtol: 0,
          atol: 0,
        });
        expect(node.type.shape).toEqual(out);
      });
    }
  }

  it('the same node twice', () => {
    checkOp({ inputs: [{ shape: ['N', 2] }], build: ([x]) => makeNode('concat', [x, x], { axis: 1 }), ref: ([x]) => R.concat([x, x], 1), batch: 3 });
  });

  it('rejects mismatched shapes, naming both', () => {
    const e = shapeError(() => makeNode('concat', [leaf(['N', 2, 3]), leaf(['N', 2, 4])], { axis: 1 }));
    expect(e.message).toContain('[N, 2, 3]');
    expect(e.message).toContain('[N, 2, 4]');
    expect(() => makeNode('concat', [leaf(['N', 2, 3]), leaf(['N', 2])], { axis: 1 })).toThrow(/differ outside axis 1/);
    expect(() => makeNode('concat', [leaf(['N', 3]), leaf([2, 3])], { axis: 1 })).toThrow(ShapeError);
    expect(() => makeNode('concat', [leaf([3], 'float32'), leaf([3], 'float64')], { axis: 0 })).toThrow(/dtypes differ/);
  });

  it('rejects the batch axis and an out-of-range axis', () => {
    expect(() => makeNode('concat', [leaf(['N', 3]), leaf(['N', 3])], { axis: 0 })).toThrow(/batch dimension/);
    expect(() => makeNode('concat', [leaf(['N', 3]), leaf(['N', 3])], { axis: 2 })).toThrow(/out of range/);
    expect(() => makeNode('concat', [], { axis: 0 })).toThrow(/at least 1 input/);
  });
});

describe('slice', () => {
  interface SliceCase {
    shape: Dim[];
    starts: number[];
    ends: number[];
    axes?: number[];
    steps?: number[];
    out: Dim[];
  }
  const CASES: SliceCase[] = [
    { shape: ['N', 10, 6], starts: [2], ends: [8], axes: [1], out: ['N', 6, 6] },
    { shape: ['N', 10, 6], starts: [1, 0], ends: [9, 6], axes: [1, 2], steps: [3, 2], out: ['N', 3, 3] },
    { shape: ['N', 10, 6], starts: [-3], ends: [-1], axes: [-2], out: ['N', 2, 6] },
    { shape: ['N', 10, 6], starts: [-1], ends: [INT_MIN], axes: [1], steps: [-1], out: ['N', 10, 6] },
    { shape: ['N', 10, 6], starts: [8], ends: [1], axes: [1], steps: [-3], out: ['N', 3, 6] },
    { shape: ['N', 10, 6], starts: [INT_MAX], ends: [-8], axes: [1], steps: [-2], out: ['N', 4, 6] },
    { shape: ['N', 10, 6], starts: [0], ends: [1000], axes: [2], out: ['N', 10, 6] },
    { shape: ['N', 10, 6], starts: [-100], ends: [3], axes: [2], out: ['N', 10, 3] },
    { shape: ['N', 10, 6], starts: [4], ends: [4], axes: [1], out: ['N', 0, 6] },
    { shape: ['N', 10, 6], starts: [7], ends: [2], axes: [1], out: ['N', 0, 6] },
    { shape: ['N', 10, 6], starts: [2], ends: [7], axes: [1], steps: [-1], out: ['N', 0, 6] },
    { shape: ['N', 10, 6], starts: [5], ends: [6], axes: [1], steps: [100], out: ['N', 1, 6] },
    { shape: ['N', 10, 6], starts: [20], ends: [-20], axes: [2], steps: [-1], out: ['N', 10, 6] },
    { shape: ['N', 4, 5, 6], starts: [1, -1, 0], ends: [3, 0, 6], axes: [1, 2, -1], steps: [1, -2, 4], out: ['N', 2, 2, 2] },
    { shape: [6, 4], starts: [1, 1], ends: [5, 3], out: [4, 2] },
    { shape: [6, 4], starts: [5], ends: [-7], steps: [-2], out: [3, 4] },
    { shape: [5], starts: [-2], ends: [INT_MAX], out: [2] },
  ];
  for (const c of CASES) {
    const label = `${fmt(c.shape)} starts ${fmt(c.starts)} ends ${fmt(c.ends)} axes ${c.axes ? fmt(c.axes) : '-'} steps ${c.steps ? fmt(c.steps) : '-'}`;
    for (const batch of c.shape[0] === 'N' ? BATCHES : [1]) {
      it(`${label} batch ${batch}`, () => {
        const attrs: Record<string, unknown> = { starts: c.starts, ends: c.ends };
        if (c.axes) attrs.axes = c.axes;
        if (c.steps) attrs.steps = c.steps;
        const { node } = checkOp({
          inputs: [{ shape: c.shape }],
          build: ([x]) => makeNode('slice', [x], attrs),
          ref: ([x]) => R.slice(x, c.starts, c.ends, c.axes, c.steps),
          batch,
          rtol: 0,
          atol: 0,
        });
        expect(node.type.shape).toEqual(c.out);
      });
    }
  }

  it('rejects the batch axis, zero steps and ragged attributes', () => {
    expect(() => makeNode('slice', [leaf(['N', 4])], { starts: [0], ends: [1], axes: [0] })).toThrow(/batch dimension/);
    expect(() => makeNode('slice', [leaf(['N', 4])], { starts: [0], ends: [1], axes: [1], steps: [0] })).toThrow(/step cannot be 0/);
    expect(() => makeNode('slice', [leaf([4, 4])], { starts: [0, 1], ends: [1] })).toThrow(/one length/);
    expect(() => makeNode('slice', [leaf([4, 4])], { starts: [0], ends: [1], axes: [2] })).toThrow(/out of range/);
    expect(() => makeNode('slice', [leaf([6])], { starts: [0.5], ends: [6] })).toThrow(/attribute starts\[0\] must be an integer .* got 0.5/);
  });

  // Regression (fixed in resolveSlice): starts/ends were checked with isIntArray but steps
  // are not, so steps [1.5] infers shape [4] and the lowering reads fractional offsets: the
  // interpreter returns [0, NaN, 3, NaN] for x = [0..5]. Flip to `it` once steps are validated.
  it('rejects non-integer steps', () => {
    expect(() => makeNode('slice', [leaf([6])], { starts: [0], ends: [6], steps: [1.5] })).toThrow(ShapeError);
  });
});

describe('reshape and views', () => {
  const CASES: [Dim[], Dim[], Dim[]][] = [
    [['N', 20, 20, 20], [-1, 8000], ['N', 8000]],
    [['N', 4, 6], [-1, 2, 12], ['N', 2, 12]],
    [['N', 4, 6], [-1, 3, -1], ['N', 3, 8]],
    [['N', 4, 6], ['N', 24], ['N', 24]],
    [['N', 24], [-1, 2, 3, 4], ['N', 2, 3, 4]],
    [['N', 3], [-1, 3, 1], ['N', 3, 1]],
    [[2, 3, 4], [4, -1], [4, 6]],
    [[2, 3, 4], [24], [24]],
    [[6], [1, 6, 1], [1, 6, 1]],
    [[], [1], [1]],
    [[1, 1], [], []],
  ];
  for (const [shape, target, out] of CASES) {
    for (const batch of shape[0] === 'N' ? BATCHES : [1]) {
      it(`${fmt(shape)} → ${fmt(target)} batch ${batch}`, () => {
        const { node } = checkOp({
          inputs: [{ shape }],
          build: ([x]) => makeNode('reshape', [x], { shape: target }),
          ref: ([x]) => R.reshape(x, target.map((d, i) => (i === 0 && shape[0] === 'N' ? batch : d)) as number[]),
          batch,
          rtol: 0,
          atol: 0,
        });
        expect(node.type.shape).toEqual(out);
      });
    }
  }

  it.each(BATCHES)('reshape feeds a transpose correctly (a view, then a movement) at batch %i', (batch) => {
    checkOp({
      inputs: [{ shape: ['N', 12] }],
      build: ([x]) => makeNode('transpose', [makeNode('reshape', [x], { shape: [-1, 3, 4] })], { perm: [0, 2, 1] }),
      ref: ([x]) => R.transpose(R.reshape(x, [batch, 3, 4]), [0, 2, 1]),
      batch,
    });
  });

  it('[N, 20, 20, 20] → [-1, 320] names both element counts', () => {
    const e = shapeError(() => makeNode('reshape', [leaf(['N', 20, 20, 20])], { shape: [-1, 320] }));
    expect(e.message).toContain('8000');
    expect(e.message).toContain('320');
    expect(e.message).toContain('[N, 20, 20, 20]');
    expect(e.site.op).toBe('reshape');
  });

  it('rejects other bad targets', () => {
    expect(() => makeNode('reshape', [leaf(['N', 4, 6])], { shape: [24, -1] })).toThrow(/keep the batch first/);
    expect(() => makeNode('reshape', [leaf([4, 6])], { shape: [-1, -1] })).toThrow(/invalid reshape target/);
    expect(() => makeNode('reshape', [leaf([4, 6])], { shape: [5, -1] })).toThrow(/cannot reshape \[4, 6\] \(24 values\)/);
    expect(() => makeNode('reshape', [leaf([4, 6])], { shape: [4, -2] })).toThrow(/attribute shape\[1\] must be an integer in \[-1, 2147483647\] or 'N', got -2/);
  });

  it.each([
    ['identity', {}],
    ['dropout', { rate: 0 }],
    ['dropout', { rate: 0.5 }],
  ] as const)('%s %o is the identity at inference', (op, attrs) => {
    for (const batch of BATCHES) {
      checkOp({ inputs: [{ shape: ['N', 3, 2] }], build: ([x]) => makeNode(op, [x], attrs), ref: ([x]) => x, batch, rtol: 0, atol: 0 });
    }
  });

  it('dropout rejects a rate outside [0, 1)', () => {
    expect(() => makeNode('dropout', [leaf(['N', 3])], { rate: 1 })).toThrow(/rate must be in \[0, 1\)/);
    expect(() => makeNode('dropout', [leaf(['N', 3])], { rate: -0.1 })).toThrow(ShapeError);
  });
});
