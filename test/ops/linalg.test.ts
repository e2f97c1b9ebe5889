// matmul: plain, transposed operands, broadcast leading dims, batch-dim reduction, and shape errors.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Dim } from '../../src/ir/shape.ts';
import * as R from '../reference/naive.ts';
import { BATCHES, checkOp, leaf, shapeError } from './harness.ts';

interface MatmulCase {
  a: Dim[];
  b: Dim[];
  transA?: boolean;
  transB?: boolean;
  out: Dim[];
}

const CASES: MatmulCase[] = [
  { a: [3, 4], b: [4, 5], out: [3, 5] },
  { a: [1, 1], b: [1, 1], out: [1, 1] },
  { a: [3, 1], b: [1, 4], out: [3, 4] },
  { a: [1, 7], b: [7, 1], out: [1, 1] },
  { a: ['N', 4], b: [4, 5], out: ['N', 5] },
  { a: ['N', 3, 4], b: [4, 5], out: ['N', 3, 5] },
  { a: ['N', 3, 4], b: ['N', 4, 2], out: ['N', 3, 2] },
  { a: ['N', 3, 4], b: [1, 4, 2], out: ['N', 3, 2] },
  { a: [3, 4], b: ['N', 4, 2], out: ['N', 3, 2] },
  { a: ['N', 2, 3, 4], b: [2, 4, 5], out: ['N', 2, 3, 5] },
  { a: [2, 1, 3, 4], b: [5, 4, 6], out: [2, 5, 3, 6] },
  { a: [1, 3, 4], b: [2, 1, 4, 2], out: [2, 1, 3, 2] },
  { a: [4, 3], b: [4, 5], transA: true, out: [3, 5] },
  { a: [3, 4], b: [5, 4], transB: true, out: [3, 5] },
  { a: [4, 3], b: [5, 4], transA: true, transB: true, out: [3, 5] },
  { a: ['N', 4], b: [5, 4], transB: true, out: ['N', 5] },
  { a: ['N', 4, 3], b: ['N', 4, 2], transA: true, out: ['N', 3, 2] },
  { a: ['N', 3, 4], b: ['N', 2, 4], transB: true, out: ['N', 3, 2] },
  { a: [2, 1, 4, 3], b: [3, 5, 4], transA: true, transB: true, out: [2, 3, 3, 5] },
  // The weight gradient of a dense layer: xᵀ · dy sums over the batch dimension.
  { a: ['N', 3], b: ['N', 5], transA: true, out: [3, 5] },
  { a: ['N', 6], b: ['N', 2], transA: true, out: [6, 2] },
  { a: ['N', 1, 3, 4], b: [2, 4, 5], out: ['N', 2, 3, 5] },
];

const fmt = (s: Dim[]) => `[${s.join(', ')}]`;
const label = (c: MatmulCase) => `${fmt(c.a)}${c.transA ? 'ᵀ' : ''} · ${fmt(c.b)}${c.transB ? 'ᵀ' : ''} → ${fmt(c.out)}`;

describe('matmul', () => {
  for (const c of CASES) {
    const batched = c.a[0] === 'N' || c.b[0] === 'N';
    for (const batch of batched ? BATCHES : [1]) {
      it(`${label(c)}${batched ? ` batch ${batch}` : ''}`, () => {
        const attrs = { transA: c.transA ?? false, transB: c.transB ?? false };
        const { node } = checkOp({
          inputs: [{ shape: c.a }, { shape: c.b }],
          build: ([a, b]) => makeNode('matmul', [a, b], attrs),
          ref: ([a, b]) => R.matmul(a, b, attrs.transA, attrs.transB),
          batch,
          seed: 31 * batch + c.a.length,
        });
        expect(node.type.shape).toEqual(c.out);
      });
    }
  }

  it('attributes default to no transposition', () => {
    checkOp({
      inputs: [{ shape: ['N', 3, 4] }, { shape: [4, 2] }],
      build: ([a, b]) => makeNode('matmul', [a, b]),
      ref: ([a, b]) => R.matmul(a, b),
      batch: 3,
    });
  });

  it('weights as param nodes (a dense layer: x·W + b)', () => {
    checkOp({
      inputs: [{ shape: ['N', 6] }, { shape: [6, 4], param: true }, { shape: [4], param: true }],
      build: ([x, w, b]) => makeNode('add', [makeNode('matmul', [x, w]), b]),
      ref: ([x, w, b]) => R.add(R.matmul(x, w), b),
      batch: 3,
    });
  });

  it('float32 accumulates within single-precision tolerance', () => {
    const { got } = checkOp({
      inputs: [
        { shape: ['N', 8, 32], dtype: 'float32' },
        { shape: [32, 8], dtype: 'float32' },
      ],
      build: ([a, b]) => makeNode('matmul', [a, b]),
      ref: ([a, b]) => R.matmul(a, b),
      batch: 2,
      rtol: 1e-5,
      atol: 1e-5,
    });
    expect(got).toBeInstanceOf(Float32Array);
  });

  it('an identity matrix leaves the operand unchanged', () => {
    const eye = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    checkOp({
      inputs: [{ shape: ['N', 3, 4] }, { shape: [4, 4], values: eye }],
      build: ([a, b]) => makeNode('matmul', [a, b]),
      ref: ([a]) => a,
      batch: 3,
    });
  });

  it('propagates NaN and infinities', () => {
    checkOp({
      inputs: [
        { shape: [2, 2], values: [NaN, 1, Infinity, 1] },
        { shape: [2, 2], values: [1, 2, 3, -Infinity] },
      ],
      build: ([a, b]) => makeNode('matmul', [a, b]),
      ref: ([a, b]) => R.matmul(a, b),
    });
  });
});

describe('matmul shape errors', () => {

  it('inner dimension mismatch names both shapes and both sizes', () => {
    const e = shapeError(() => makeNode('matmul', [leaf(['N', 3, 4]), leaf([5, 6])]));
    expect(e.message).toContain('[N, 3, 4]');
    expect(e.message).toContain('[5, 6]');
    expect(e.message).toMatch(/4 vs 5/);
    expect(e.site.op).toBe('matmul');
  });

  it('inner dimension mismatch after transposition', () => {
    expect(() => makeNode('matmul', [leaf([3, 4]), leaf([4, 5])], { transB: true })).toThrow(/4 vs 5/);
    expect(() => makeNode('matmul', [leaf([3, 4]), leaf([4, 5])], { transA: true })).toThrow(/3 vs 4/);
    expect(() => makeNode('matmul', [leaf(['N', 3]), leaf([3, 5])], { transA: true })).toThrow(ShapeError);
  });

  it('operands of rank < 2', () => {
    const e = shapeError(() => makeNode('matmul', [leaf([4]), leaf([4, 5])]));
    expect(e.message).toContain('[4]');
    expect(e.message).toContain('[4, 5]');
  });

  it('leading dims that do not broadcast', () => {
    const e = shapeError(() => makeNode('matmul', [leaf([2, 3, 4]), leaf([3, 4, 5])]));
    expect(e.message).toContain('[2, 3, 4]');
    expect(e.message).toContain('[3, 4, 5]');
  });

  it('mixed dtypes', () => {
    expect(() => makeNode('matmul', [leaf([2, 3], 'float32'), leaf([3, 2], 'float64')])).toThrow(/dtypes differ/);
  });
});
