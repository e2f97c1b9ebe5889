// Broadcasting binary ops (add, sub, mul, div, pow, maximum, minimum): NumPy rules, batch dim, scalars, errors.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Dim } from '../../src/ir/shape.ts';
import * as R from '../reference/naive.ts';
import type { Tensor } from '../reference/naive.ts';
import { BATCHES, checkOp, leaf, run } from './harness.ts';

interface BinaryCase {
  op: OpName;
  ref: (a: Tensor, b: Tensor) => Tensor;
  rangeA?: [number, number];
  rangeB?: [number, number];
}

const BINARY: BinaryCase[] = [
  { op: 'add', ref: R.add },
  { op: 'sub', ref: R.sub },
  { op: 'mul', ref: R.mul },
  { op: 'div', ref: R.div, rangeB: [0.25, 3] },
  { op: 'pow', ref: R.pow, rangeA: [0.1, 3], rangeB: [-2.5, 2.5] },
  { op: 'maximum', ref: R.maximum },
  { op: 'minimum', ref: R.minimum },
];

/** [a, b, expected output] in IR shapes. */
const PAIRS: [Dim[], Dim[], Dim[]][] = [
  [['N', 3, 4], ['N', 3, 4], ['N', 3, 4]],
  [['N', 3, 4], [4], ['N', 3, 4]],
  [[4], ['N', 3, 4], ['N', 3, 4]],
  [['N', 3, 1], [1, 4], ['N', 3, 4]],
  [['N', 1, 4], [3, 1], ['N', 3, 4]],
  [['N', 4], [1, 4], ['N', 4]],
  [[1, 4], ['N', 1], ['N', 4]],
  [['N', 2, 3], [2, 1], ['N', 2, 3]],
  [['N', 3], [], ['N', 3]],
  [[], ['N', 2, 2], ['N', 2, 2]],
  [[2, 1, 4], [3, 1], [2, 3, 4]],
  [[3, 1], [2, 1, 4], [2, 3, 4]],
  [[5, 1, 3], [1, 2, 1], [5, 2, 3]],
  [[2, 3], [2, 3], [2, 3]],
  [[], [], []],
  [[1], [6], [6]],
  [[2, 1, 3, 1], [4, 1, 5], [2, 4, 3, 5]],
];

const fmt = (s: Dim[]) => `[${s.join(', ')}]`;

describe.each(BINARY.map((c) => [c.op, c] as const))('%s', (_op, c) => {
  for (const [a, b, out] of PAIRS) {
    const batched = a[0] === 'N' || b[0] === 'N';
    for (const batch of batched ? BATCHES : [1]) {
      it(`${fmt(a)} ∘ ${fmt(b)} → ${fmt(out)}${batched ? ` batch ${batch}` : ''}`, () => {
        const { node } = checkOp({
          inputs: [
            { shape: a, range: c.rangeA },
            { shape: b, range: c.rangeB },
          ],
          build: ([x, y]) => makeNode(c.op, [x, y]),
          ref: ([x, y]) => c.ref(x, y),
          batch,
          seed: 100 + batch,
        });
        expect(node.type.shape).toEqual(out);
      });
    }
  }

  it('float32 operands give float32 results', () => {
    const { got } = checkOp({
      inputs: [
        { shape: ['N', 3, 4], dtype: 'float32', range: c.rangeA },
        { shape: [4], dtype: 'float32', range: c.rangeB },
      ],
      build: ([x, y]) => makeNode(c.op, [x, y]),
      ref: ([x, y]) => c.ref(x, y),
      batch: 3,
      rtol: 1e-6,
      atol: 1e-7,
    });
    expect(got).toBeInstanceOf(Float32Array);
  });

  it('the same node on both sides', () => {
    checkOp({
      inputs: [{ shape: ['N', 5], range: c.rangeA ?? c.rangeB }],
      build: ([x]) => makeNode(c.op, [x, x]),
      ref: ([x]) => c.ref(x, x),
      batch: 3,
    });
  });

  it('a const operand (scalar and full)', () => {
    const scalarConst = makeNode('const', [], { dtype: 'float64', shape: [], values: [1.5] });
    const fullConst = makeNode('const', [], { dtype: 'float64', shape: [3], values: [0.5, 2, 3] });
    checkOp({
      inputs: [{ shape: ['N', 2, 3], range: c.rangeA }],
      build: ([x]) => makeNode(c.op, [x, scalarConst]),
      ref: ([x]) => c.ref(x, R.tensor([], [1.5])),
      batch: 3,
    });
    checkOp({
      inputs: [{ shape: ['N', 2, 3], range: c.rangeA }],
      build: ([x]) => makeNode(c.op, [fullConst, x]),
      ref: ([x]) => c.ref(R.tensor([3], [0.5, 2, 3]), x),
      batch: 1,
    });
  });
});

describe('NaN and infinities through binary ops', () => {
  const a = [NaN, 1, Infinity, -Infinity, 0, 2, -0, NaN];
  const b = [1, NaN, Infinity, Infinity, 0, -Infinity, 0, NaN];
  it.each(BINARY.map((c) => [c.op, c] as const))('%s matches IEEE / NumPy', (_op, c) => {
    checkOp({
      inputs: [
        { shape: [a.length], values: a },
        { shape: [b.length], values: b },
      ],
      build: ([x, y]) => makeNode(c.op, [x, y]),
      ref: ([x, y]) => c.ref(x, y),
    });
  });
});

describe('chained broadcasting', () => {
  it.each(BATCHES)('(x + bias) * scale - shift at batch %i', (batch) => {
    checkOp({
      inputs: [{ shape: ['N', 2, 3, 4] }, { shape: [3, 1] }, { shape: [4] }, { shape: [] }],
      build: ([x, bias, scale, shift]) => makeNode('sub', [makeNode('mul', [makeNode('add', [x, bias]), scale]), shift]),
      ref: ([x, bias, scale, shift]) => R.sub(R.mul(R.add(x, bias), scale), shift),
      batch,
    });
  });

  it('the output buffer follows the batch size', () => {
    const x = leaf(['N', 3]);
    const bias = leaf([3]);
    const y = makeNode('add', [x, bias]);
    for (const batch of [1, 2, 5]) {
      const feeds = { [x.attrs.name as string]: new Float64Array(3 * batch).fill(1), [bias.attrs.name as string]: Float64Array.of(1, 2, 3) };
      const out = run([x, bias], y, feeds, {}, batch);
      expect(out).toBeAllclose(Array.from({ length: 3 * batch }, (_, i) => 2 + (i % 3)));
    }
  });
});

describe('broadcast shape errors', () => {
  const BAD: [Dim[], Dim[]][] = [
    [['N', 3, 4], [3]],
    [['N', 3], [4, 3]],
    [[2, 3], ['N', 3]],
    [[2, 1, 4], [3, 2]],
    [[1, 1, 4], ['N', 4]],
  ];
  it.each(BAD.map(([a, b]) => [fmt(a), fmt(b), a, b] as const))('%s with %s is a ShapeError naming both shapes', (fa, fb, a, b) => {
    for (const op of BINARY.map((c) => c.op)) {
      let err: unknown;
      try {
        makeNode(op, [leaf(a), leaf(b)]);
      } catch (e) {
        err = e;
      }
      expect(err, op).toBeInstanceOf(ShapeError);
      const message = (err as ShapeError).message;
      expect(message).toContain(fa);
      expect(message).toContain(fb);
      expect((err as ShapeError).site.op).toBe(op);
    }
  });

  it('mixed dtypes are a ShapeError', () => {
    expect(() => makeNode('add', [leaf([3], 'float32'), leaf([3], 'float64')])).toThrow(/dtypes differ: float32 and float64/);
  });
});
