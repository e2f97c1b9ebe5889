// reduceSum/Mean/Max/Min (axes, negative axes, keepdims, batch axis), argmax, softmax and logSoftmax.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Dim } from '../../src/ir/shape.ts';
import * as R from '../reference/naive.ts';
import { BATCHES, checkOp, leaf } from './harness.ts';

const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;

const KINDS = [
  ['reduceSum', 'sum'],
  ['reduceMean', 'mean'],
  ['reduceMax', 'max'],
  ['reduceMin', 'min'],
] as const;

/** [input shape, axes, output with keepdims false, output with keepdims true]. */
const REDUCTIONS: [Dim[], number[], Dim[], Dim[]][] = [
  [['N', 3, 4], [1], ['N', 4], ['N', 1, 4]],
  [['N', 3, 4], [-1], ['N', 3], ['N', 3, 1]],
  [['N', 3, 4], [1, 2], ['N'], ['N', 1, 1]],
  [['N', 3, 4], [-1, -2], ['N'], ['N', 1, 1]],
  [['N', 3, 4], [2, 1], ['N'], ['N', 1, 1]],
  [['N', 3, 4], [0], [3, 4], [1, 3, 4]],
  [['N', 3, 4], [0, -1], [3], [1, 3, 1]],
  [['N', 3, 4], [], [], [1, 1, 1]],
  [['N', 2, 3, 2], [1, 3], ['N', 3], ['N', 1, 3, 1]],
  [[2, 3, 4], [1], [2, 4], [2, 1, 4]],
  [[2, 3, 4], [-3], [3, 4], [1, 3, 4]],
  [[5], [0], [], [1]],
  [[5], [], [], [1]],
  [[1, 1], [0], [1], [1, 1]],
  [[], [], [], []],
];

describe.each(KINDS)('%s', (op, kind) => {
  for (const [shape, axes, out, outKeep] of REDUCTIONS) {
    for (const keepdims of [false, true]) {
      const batched = shape[0] === 'N';
      for (const batch of batched ? BATCHES : [1]) {
        it(`${fmt(shape)} axes ${fmt(axes)} keepdims ${keepdims}${batched ? ` batch ${batch}` : ''}`, () => {
          const { node } = checkOp({
            inputs: [{ shape }],
            build: ([x]) => makeNode(op, [x], { axes, keepdims }),
            ref: ([x]) => R.reduce(x, kind, axes, keepdims),
            batch,
            seed: 3 + batch,
          });
          expect(node.type.shape).toEqual(keepdims ? outKeep : out);
        });
      }
    }
  }

  it('float32 input', () => {
    checkOp({
      inputs: [{ shape: ['N', 4, 16], dtype: 'float32' }],
      build: ([x]) => makeNode(op, [x], { axes: [-1], keepdims: false }),
      ref: ([x]) => R.reduce(x, kind, [-1], false),
      batch: 3,
      rtol: 1e-5,
      atol: 1e-6,
    });
  });

  it('NaN and infinities', () => {
    const values = [NaN, 1, 2, Infinity, 1, 2, -Infinity, 0, 5, Infinity, -Infinity, 3];
    checkOp({
      inputs: [{ shape: [4, 3], values }],
      build: ([x]) => makeNode(op, [x], { axes: [1], keepdims: false }),
      ref: ([x]) => R.reduce(x, kind, [1], false),
    });
  });

  it('rejects repeated and out-of-range axes', () => {
    expect(() => makeNode(op, [leaf(['N', 3, 4])], { axes: [1, -2], keepdims: false })).toThrow(/repeat an axis/);
    expect(() => makeNode(op, [leaf(['N', 3, 4])], { axes: [3], keepdims: false })).toThrow(/axis 3 is out of range for rank 3/);
    expect(() => makeNode(op, [leaf(['N', 3, 4])], { axes: [-4], keepdims: true })).toThrow(ShapeError);
  });
});

describe('argmax', () => {
  const CASES: [Dim[], number, Dim[]][] = [
    [['N', 5], -1, ['N']],
    [['N', 5], 1, ['N']],
    [['N', 3, 4], 1, ['N', 4]],
    [['N', 3, 4], -1, ['N', 3]],
    [['N', 3, 4], 0, [3, 4]],
    [[2, 3, 4], 0, [3, 4]],
    [[7], 0, []],
    [[1, 3], 0, [3]],
  ];
  for (const [shape, axis, out] of CASES) {
    for (const keepdims of [false, true]) {
      for (const batch of shape[0] === 'N' ? BATCHES : [1]) {
        it(`${fmt(shape)} axis ${axis} keepdims ${keepdims} batch ${batch}`, () => {
          const { got, node } = checkOp({
            inputs: [{ shape }],
            build: ([x]) => makeNode('argmax', [x], { axis, keepdims }),
            ref: ([x]) => R.argmax(x, axis, keepdims),
            batch,
            rtol: 0,
            atol: 0,
          });
          expect(got).toBeInstanceOf(Int32Array);
          expect(node.type.dtype).toBe('int32');
          const ax = axis < 0 ? axis + shape.length : axis;
          expect(node.type.shape).toEqual(keepdims ? shape.map((d, i) => (i === ax ? 1 : d)) : out);
        });
      }
    }
  }

  it('returns the first of tied maxima', () => {
    const values = [1, 3, 3, 0, 2, 2, 2, 2, -1, -5, -1, -1, 0, 0, 0, 0];
    const { got } = checkOp({
      inputs: [{ shape: [4, 4], values }],
      build: ([x]) => makeNode('argmax', [x], { axis: 1, keepdims: false }),
      ref: ([x]) => R.argmax(x, 1, false),
    });
    expect(Array.from(got)).toEqual([1, 0, 0, 0]);
  });

  it('finds an infinite maximum and handles all -Infinity', () => {
    const { got } = checkOp({
      inputs: [{ shape: [2, 3], values: [1, Infinity, 2, -Infinity, -Infinity, -Infinity] }],
      build: ([x]) => makeNode('argmax', [x], { axis: -1, keepdims: false }),
      ref: ([x]) => R.argmax(x, -1, false),
    });
    expect(Array.from(got)).toEqual([1, 0]);
  });
});

describe.each([
  ['softmax', R.softmax],
  ['logSoftmax', R.logSoftmax],
] as const)('%s', (op, ref) => {
  const CASES: [Dim[], number][] = [
    [['N', 10], -1],
    [['N', 10], 1],
    [['N', 3, 4], 1],
    [['N', 3, 4], -2],
    [['N', 3, 4], 2],
    [['N', 3, 4], 0],
    [['N', 2, 3, 2], 1],
    [[2, 5], 0],
    [[6], 0],
    [[3, 1], -1],
  ];
  for (const [shape, axis] of CASES) {
    for (const batch of shape[0] === 'N' ? BATCHES : [1]) {
      it(`${fmt(shape)} axis ${axis} batch ${batch}`, () => {
        const { node } = checkOp({
          inputs: [{ shape, range: [-6, 6] }],
          build: ([x]) => makeNode(op, [x], { axis }),
          ref: ([x]) => ref(x, axis),
          batch,
          seed: 77 + batch,
        });
        expect(node.type).toEqual({ dtype: 'float64', shape });
      });
    }
  }

  it('is stable for large logits', () => {
    const values = [1000, 1001, 1002, -1000, -1001, -1002, 0, 800, -800];
    checkOp({
      inputs: [{ shape: [3, 3], values }],
      build: ([x]) => makeNode(op, [x], { axis: -1 }),
      ref: ([x]) => ref(x, -1),
    });
  });

  it('float32 input', () => {
    checkOp({
      inputs: [{ shape: ['N', 8], dtype: 'float32', range: [-5, 5] }],
      build: ([x]) => makeNode(op, [x], { axis: -1 }),
      ref: ([x]) => ref(x, -1),
      batch: 3,
      rtol: 1e-5,
      atol: 1e-6,
    });
  });

  it('rejects int32 input and a bad axis', () => {
    expect(() => makeNode(op, [leaf(['N', 4], 'int32')], { axis: -1 })).toThrow(/float/);
    expect(() => makeNode(op, [leaf(['N', 4])], { axis: 2 })).toThrow(/out of range/);
  });
});

describe('softmax identities', () => {
  it.each(BATCHES)('softmax rows sum to 1 and exp(logSoftmax) equals softmax at batch %i', (batch) => {
    const { got: s } = checkOp({
      inputs: [{ shape: ['N', 7] }],
      build: ([x]) => makeNode('softmax', [x], { axis: -1 }),
      ref: ([x]) => R.softmax(x, -1),
      batch,
      seed: 9,
    });
    const { got: ls } = checkOp({
      inputs: [{ shape: ['N', 7] }],
      build: ([x]) => makeNode('logSoftmax', [x], { axis: -1 }),
      ref: ([x]) => R.logSoftmax(x, -1),
      batch,
      seed: 9,
    });
    const sums = Array.from({ length: batch }, (_, b) => R.sumOf(Array.from(s.slice(b * 7, b * 7 + 7))));
    expect(sums).toBeAllclose(Array(batch).fill(1), { rtol: 1e-14, atol: 1e-14 });
    expect(Array.from(ls, Math.exp)).toBeAllclose(s, { rtol: 1e-13, atol: 1e-15 });
  });
});
