// Gradient-check cases for the broadcasting binary ops, with every kind of
// broadcast (trailing, inner size-1, over the batch, scalar, both sides), in float64.
import { makeNode } from '../../../src/ir/build.ts';
import type { OpName } from '../../../src/ir/ops/index.ts';
import type { Dim } from '../../../src/ir/shape.ts';
import type { Lcg } from '../../reference/lcg.ts';
import { awayFromZero, type GradCase, type GradInput } from '../check.ts';

/** Pairs of operand shapes, each broadcasting differently. */
const SHAPES: [string, Dim[], Dim[]][] = [
  ['same', ['N', 3, 4], ['N', 3, 4]],
  ['trailing', ['N', 3, 4], [4]],
  ['inner1', ['N', 3, 4], [3, 1]],
  ['batch1', [3, 4], ['N', 1, 4]],
  ['both', ['N', 3, 1], [1, 4]],
  ['scalar', [], ['N', 2, 3]],
  ['unbatched', [2, 1, 3], [4, 1]],
];

/**
 * Values on the grid k·0.1 + offset (|k| ≤ 20): two inputs with offsets 0 and 0.05 never come
 * closer than 0.05, whatever broadcasting pairs them, so maximum and minimum have no ties.
 */
const onGrid =
  (offset: number) =>
  (rng: Lcg, size: number): Float64Array =>
    Float64Array.from({ length: size }, () => rng.int(-20, 21) * 0.1 + offset);

const cases: GradCase[] = [];
const binary = (op: OpName, a: Omit<GradInput, 'shape'>, b: Omit<GradInput, 'shape'>, batch = 2) => {
  for (const [kind, sa, sb] of SHAPES) {
    cases.push({ name: `${op}-${kind}`, inputs: [{ shape: sa, ...a }, { shape: sb, ...b }], build: ([x, y]) => makeNode(op, [x, y]), batch });
  }
};
binary('add', {}, {});
binary('sub', {}, {}, 3);
binary('mul', {}, {});
binary('div', { range: [-2, 2] }, { init: awayFromZero(0.4, 2) }, 3);
binary('pow', { range: [0.3, 2.5] }, { range: [-2, 2] });
binary('maximum', { init: onGrid(0) }, { init: onGrid(0.05) });
binary('minimum', { init: onGrid(0.05) }, { init: onGrid(0) }, 3);

const c = (values: number[], shape: Dim[] = [values.length]) => makeNode('const', [], { dtype: 'float64', shape, values });
cases.push(
  // A constant operand: only the input's gradient is asked for.
  { name: 'pow-const-exponent', inputs: [{ shape: ['N', 3, 4], range: [0.3, 2] }], build: ([x]) => makeNode('pow', [x, c([3], [])]) },
  // A negative base with an integral constant exponent: only d/da = e·a^(e−1) is needed.
  { name: 'pow-negative-base', inputs: [{ shape: ['N', 3, 4], init: awayFromZero(0.2, 2) }], build: ([x]) => makeNode('pow', [x, c([3], [])]) },
  { name: 'pow-const-base', inputs: [{ shape: ['N', 3, 4], range: [-1.5, 1.5] }], build: ([x]) => makeNode('pow', [c([0.5, 1.5, 2, 3]), x]) },
  { name: 'div-const-numerator', inputs: [{ shape: ['N', 4], init: awayFromZero(0.5, 2) }], build: ([x]) => makeNode('div', [c([1, -2, 3, 0.5]), x]) },
  { name: 'maximum-relu-like', inputs: [{ shape: ['N', 3, 4], init: awayFromZero(0.05, 2) }], build: ([x]) => makeNode('maximum', [x, c([0], [])]) },
  // The same input on both sides: both contributions add up.
  { name: 'mul-self', inputs: [{ shape: ['N', 5] }], build: ([x]) => makeNode('mul', [x, x]) },
  { name: 'div-self-shifted', inputs: [{ shape: ['N', 5], range: [0.5, 2] }], build: ([x]) => makeNode('div', [makeNode('exp', [x]), x]) },
);

export const CASES: readonly GradCase[] = cases;
