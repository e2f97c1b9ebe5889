// conv2d, maxPool2d, avgPool2d and globalAvgPool on NCHW: strides, pads (incl. asymmetric), dilations, groups.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { ShapeError } from '../../src/ir/errors.ts';
import type { Dim } from '../../src/ir/shape.ts';
import * as R from '../reference/naive.ts';
import { BATCHES, checkOp, leaf } from './harness.ts';

type Pair = [number, number];
type Pads = [number, number, number, number];

interface ConvCase {
  x: Dim[];
  w: number[];
  strides?: Pair;
  pads?: Pads;
  dilations?: Pair;
  group?: number;
  out: Dim[];
}

const CONV: ConvCase[] = [
  { x: ['N', 1, 5, 5], w: [2, 1, 3, 3], out: ['N', 2, 3, 3] },
  { x: ['N', 3, 7, 6], w: [4, 3, 3, 2], strides: [2, 1], out: ['N', 4, 3, 5] },
  { x: ['N', 2, 5, 5], w: [3, 2, 3, 3], pads: [1, 1, 1, 1], out: ['N', 3, 5, 5] },
  // 'same' padding for an even kernel: the extra row/column goes after (TF/Keras).
  { x: ['N', 2, 4, 4], w: [2, 2, 2, 2], pads: [0, 0, 1, 1], out: ['N', 2, 4, 4] },
  // 'same' with stride 2 on odd input: total pad 2 → [1, 1, 1, 1]; on even input total 1 → [0, 0, 1, 1].
  { x: ['N', 1, 7, 7], w: [2, 1, 3, 3], strides: [2, 2], pads: [1, 1, 1, 1], out: ['N', 2, 4, 4] },
  { x: ['N', 1, 6, 6], w: [2, 1, 3, 3], strides: [2, 2], pads: [0, 0, 1, 1], out: ['N', 2, 3, 3] },
  { x: ['N', 2, 5, 6], w: [3, 2, 3, 3], pads: [1, 0, 2, 1], out: ['N', 3, 6, 5] },
  { x: ['N', 1, 7, 7], w: [1, 1, 3, 3], dilations: [2, 2], out: ['N', 1, 3, 3] },
  { x: ['N', 2, 6, 7], w: [2, 2, 3, 2], dilations: [2, 3], pads: [2, 1, 2, 2], out: ['N', 2, 6, 7] },
  { x: ['N', 1, 9, 8], w: [2, 1, 2, 3], strides: [3, 2], dilations: [2, 1], pads: [1, 2, 0, 1], out: ['N', 2, 3, 5] },
  { x: ['N', 4, 5, 5], w: [6, 2, 3, 3], group: 2, out: ['N', 6, 3, 3] },
  { x: ['N', 4, 5, 5], w: [4, 1, 3, 3], group: 4, pads: [1, 1, 1, 1], out: ['N', 4, 5, 5] },
  { x: ['N', 3, 6, 6], w: [6, 1, 3, 3], group: 3, strides: [2, 2], pads: [1, 1, 0, 0], out: ['N', 6, 3, 3] },
  { x: ['N', 6, 4, 4], w: [4, 3, 1, 1], group: 2, out: ['N', 4, 4, 4] },
  { x: ['N', 3, 4, 4], w: [5, 3, 1, 1], out: ['N', 5, 4, 4] },
  { x: ['N', 2, 4, 3], w: [3, 2, 4, 3], out: ['N', 3, 1, 1] },
  { x: [2, 2, 4, 4], w: [2, 2, 2, 2], strides: [2, 2], out: [2, 2, 2, 2] },
  { x: [1, 1, 1, 1], w: [1, 1, 1, 1], out: [1, 1, 1, 1] },
];

const fmt = (s: readonly Dim[]) => `[${s.join(', ')}]`;
const convAttrs = (c: ConvCase) => ({ strides: c.strides ?? [1, 1], pads: c.pads ?? [0, 0, 0, 0], dilations: c.dilations ?? [1, 1], group: c.group ?? 1 });

describe('conv2d', () => {
  for (const c of CONV) {
    const a = convAttrs(c);
    const batched = c.x[0] === 'N';
    for (const batch of batched ? BATCHES : [1]) {
      it(`x ${fmt(c.x)} w ${fmt(c.w)} s${fmt(a.strides)} p${fmt(a.pads)} d${fmt(a.dilations)} g${a.group}${batched ? ` batch ${batch}` : ''}`, () => {
        const { node } = checkOp({
          inputs: [{ shape: c.x }, { shape: c.w, param: true }],
          build: ([x, w]) => makeNode('conv2d', [x, w], a),
          ref: ([x, w]) => R.conv2d(x, w, a),
          batch,
          seed: 5 + batch,
        });
        expect(node.type.shape).toEqual(c.out);
      });
    }
  }

  it('with a bias broadcast over [F, 1, 1] and float32 data', () => {
    const a = convAttrs({ x: [], w: [], out: [], pads: [1, 1, 1, 1] });
    checkOp({
      inputs: [
        { shape: ['N', 3, 6, 6], dtype: 'float32' },
        { shape: [4, 3, 3, 3], dtype: 'float32' },
        { shape: [4, 1, 1], dtype: 'float32' },
      ],
      build: ([x, w, b]) => makeNode('add', [makeNode('conv2d', [x, w], a), b]),
      ref: ([x, w, b]) => R.add(R.conv2d(x, w, a), b),
      batch: 2,
      rtol: 1e-5,
      atol: 1e-5,
    });
  });
});

interface PoolCase {
  x: Dim[];
  kernel: Pair;
  strides?: Pair;
  pads?: Pads;
  dilations?: Pair;
  out: Dim[];
}

const POOL: PoolCase[] = [
  { x: ['N', 2, 4, 4], kernel: [2, 2], strides: [2, 2], out: ['N', 2, 2, 2] },
  { x: ['N', 1, 5, 5], kernel: [2, 2], strides: [2, 2], out: ['N', 1, 2, 2] },
  { x: ['N', 2, 5, 5], kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], out: ['N', 2, 5, 5] },
  { x: ['N', 1, 7, 6], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], out: ['N', 1, 4, 3] },
  // 'same' pooling of a 5×5 map with 2×2 / stride 2: pad one row and column after.
  { x: ['N', 2, 5, 5], kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], out: ['N', 2, 3, 3] },
  { x: ['N', 1, 6, 5], kernel: [3, 2], strides: [1, 2], pads: [1, 0, 1, 1], out: ['N', 1, 6, 3] },
  { x: ['N', 1, 4, 4], kernel: [2, 2], strides: [1, 1], out: ['N', 1, 3, 3] },
  { x: ['N', 1, 7, 7], kernel: [2, 2], strides: [1, 1], dilations: [2, 2], out: ['N', 1, 5, 5] },
  { x: ['N', 2, 6, 6], kernel: [3, 3], strides: [2, 2], dilations: [2, 2], pads: [2, 2, 2, 2], out: ['N', 2, 3, 3] },
  { x: ['N', 1, 3, 4], kernel: [3, 4], strides: [1, 1], out: ['N', 1, 1, 1] },
  { x: [2, 3, 4, 4], kernel: [2, 3], strides: [2, 1], pads: [0, 1, 0, 1], out: [2, 3, 2, 4] },
];

const poolAttrs = (c: PoolCase) => ({ kernel: c.kernel, strides: c.strides ?? c.kernel, pads: c.pads ?? [0, 0, 0, 0], dilations: c.dilations ?? [1, 1] });

describe.each([
  ['maxPool2d', (x: R.Tensor, c: PoolCase) => R.maxPool2d(x, c.kernel, poolAttrs(c)), {}],
  ['avgPool2d', (x: R.Tensor, c: PoolCase) => R.avgPool2d(x, c.kernel, { ...poolAttrs(c), countIncludePad: false }), { countIncludePad: false }],
  ['avgPool2d', (x: R.Tensor, c: PoolCase) => R.avgPool2d(x, c.kernel, { ...poolAttrs(c), countIncludePad: true }), { countIncludePad: true }],
] as const)('%s %o', (op, ref, extra) => {
  for (const c of POOL) {
    const a = { ...poolAttrs(c), ...extra };
    const batched = c.x[0] === 'N';
    for (const batch of batched ? BATCHES : [1]) {
      it(`x ${fmt(c.x)} k${fmt(a.kernel)} s${fmt(a.strides)} p${fmt(a.pads)} d${fmt(a.dilations)}${batched ? ` batch ${batch}` : ''}`, () => {
        const { node } = checkOp({
          inputs: [{ shape: c.x }],
          build: ([x]) => makeNode(op, [x], a),
          ref: ([x]) => ref(x, c),
          batch,
          seed: 17 + batch,
        });
        expect(node.type.shape).toEqual(c.out);
      });
    }
  }
});

/** Pool attributes with tuple types, as both the op and the naive reference take them. */
const window3x3 = { kernel: [3, 3] as Pair, strides: [1, 1] as Pair, pads: [1, 1, 1, 1] as Pads, dilations: [1, 1] as Pair };

describe('pool details', () => {
  it('maxPool2d padding never wins over negative values', () => {
    const a = window3x3;
    checkOp({
      inputs: [{ shape: ['N', 1, 3, 3], range: [-9, -1] }],
      build: ([x]) => makeNode('maxPool2d', [x], a),
      ref: ([x]) => R.maxPool2d(x, [3, 3], a),
      batch: 2,
    });
  });

  it('avgPool2d countIncludePad false averages only in-bounds taps (corner of a padded 3×3 of ones is 1)', () => {
    const a = { ...window3x3, countIncludePad: false };
    const { got } = checkOp({
      inputs: [{ shape: [1, 1, 3, 3], values: Array(9).fill(1) }],
      build: ([x]) => makeNode('avgPool2d', [x], a),
      ref: ([x]) => R.avgPool2d(x, [3, 3], a),
    });
    expect(got).toBeAllclose(Array(9).fill(1));
  });

  it('avgPool2d countIncludePad true divides by the whole window', () => {
    const a = { ...window3x3, countIncludePad: true };
    const { got } = checkOp({
      inputs: [{ shape: [1, 1, 3, 3], values: Array(9).fill(1) }],
      build: ([x]) => makeNode('avgPool2d', [x], a),
      ref: ([x]) => R.avgPool2d(x, [3, 3], a),
    });
    expect(got).toBeAllclose([4, 6, 4, 6, 9, 6, 4, 6, 4].map((v) => v / 9));
  });

  it('maxPool2d propagates NaN in its window only', () => {
    const values = [NaN, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const a = { kernel: [2, 2] as Pair, strides: [2, 2] as Pair, pads: [0, 0, 0, 0] as Pads, dilations: [1, 1] as Pair };
    const { got } = checkOp({
      inputs: [{ shape: [1, 1, 4, 4], values }],
      build: ([x]) => makeNode('maxPool2d', [x], a),
      ref: ([x]) => R.maxPool2d(x, [2, 2], a),
    });
    expect(got).toBeAllclose([NaN, 7, 13, 15]);
  });
});

describe('globalAvgPool', () => {
  const SHAPES: [Dim[], Dim[]][] = [
    [['N', 3, 4, 5], ['N', 3, 1, 1]],
    [['N', 2, 7], ['N', 2, 1]],
    [['N', 2, 2, 3, 2], ['N', 2, 1, 1, 1]],
    [['N', 1, 1, 1], ['N', 1, 1, 1]],
    [[2, 4, 3, 3], [2, 4, 1, 1]],
  ];
  for (const [shape, out] of SHAPES) {
    for (const batch of shape[0] === 'N' ? BATCHES : [1]) {
      it(`${fmt(shape)} → ${fmt(out)} batch ${batch}`, () => {
        const { node } = checkOp({ inputs: [{ shape }], build: ([x]) => makeNode('globalAvgPool', [x]), ref: ([x]) => R.globalAvgPool(x), batch });
        expect(node.type.shape).toEqual(out);
      });
    }
  }

  it('rejects rank < 3', () => {
    expect(() => makeNode('globalAvgPool', [leaf(['N', 3])])).toThrow(ShapeError);
  });
});

describe('conv and pool shape errors', () => {
  const conv = (x: Dim[], w: Dim[], extra: Record<string, unknown> = {}) =>
    makeNode('conv2d', [leaf(x), leaf(w)], { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, ...extra });

  it('channel mismatch names input and filter shapes', () => {
    let err: unknown;
    try {
      conv(['N', 4, 8, 8], [8, 3, 3, 3]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toContain('[N, 4, 8, 8]');
    expect((err as Error).message).toContain('[8, 3, 3, 3]');
  });

  it('group that does not divide channels or filters', () => {
    expect(() => conv(['N', 4, 8, 8], [6, 2, 3, 3], { group: 3 })).toThrow(/group 3 must divide/);
    expect(() => conv(['N', 4, 8, 8], [3, 2, 3, 3], { group: 2 })).toThrow(/group 2 must divide/);
    expect(() => conv(['N', 4, 8, 8], [4, 1, 3, 3], { group: 2 })).toThrow(ShapeError);
  });

  it('window larger than the (padded) input', () => {
    expect(() => conv(['N', 1, 2, 2], [1, 1, 3, 3])).toThrow(/does not fit/);
    expect(() => conv(['N', 1, 5, 5], [1, 1, 3, 3], { dilations: [3, 3] })).toThrow(/does not fit/);
    expect(() => conv(['N', 1, 2, 2], [1, 1, 3, 3], { pads: [1, 1, 0, 0] })).not.toThrow();
  });

  it('bad window attributes and ranks', () => {
    expect(() => conv(['N', 1, 5, 5], [1, 1, 3, 3], { strides: [0, 1] })).toThrow(/strides/);
    expect(() => conv(['N', 1, 5, 5], [1, 1, 3, 3], { pads: [1, 1] })).toThrow(/pads/);
    expect(() => conv(['N', 1, 5], [1, 1, 3, 3])).toThrow(/rank 4/);
    const pool = { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] };
    expect(() => makeNode('maxPool2d', [leaf(['N', 5, 5])], pool)).toThrow(/rank 4/);
    expect(() => makeNode('avgPool2d', [leaf(['N', 1, 5, 5])], { ...pool, kernel: [0, 2] })).toThrow(/kernel/);
    expect(() => makeNode('maxPool2d', [leaf(['N', 1, 1, 1])], pool)).toThrow(/does not fit/);
  });
});
