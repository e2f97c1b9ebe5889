// Gradient-check cases for the reductions (sum, mean, max: over inner axes, the
// batch axis 0 and everything, with and without keepdims) and of softmax and logSoftmax.
import { makeNode } from '../../../src/ir/build.ts';
import { distinct, type GradCase } from '../check.ts';

const AXES: [string, number[]][] = [
  ['axis1', [1]],
  ['last', [-1]],
  ['batch', [0]],
  ['batch-and-2', [0, 2]],
  ['inner-two', [1, 2]],
  ['all', []],
];

const cases: GradCase[] = [];
for (const op of ['reduceSum', 'reduceMean', 'reduceMax', 'reduceMin'] as const) {
  for (const [label, axes] of AXES) {
    for (const keepdims of [false, true]) {
      cases.push({
        name: `${op}-${label}${keepdims ? '-keepdims' : ''}`,
        // Distinct values: each max (min) has one winner, which a tiny step cannot change.
        inputs: [{ shape: ['N', 3, 4], ...(op === 'reduceMax' || op === 'reduceMin' ? { init: distinct(0.05) } : {}) }],
        build: ([x]) => makeNode(op, [x], { axes, keepdims }),
        // Means over the batch divide by the run-time batch size: check with 3 too.
        batch: keepdims ? 3 : 2,
      });
    }
  }
}

for (const op of ['softmax', 'logSoftmax'] as const) {
  for (const [label, axis] of [
    ['last', -1],
    ['axis1', 1],
    ['batch', 0],
  ] as const) {
    cases.push({ name: `${op}-${label}`, inputs: [{ shape: ['N', 3, 4], range: [-3, 3] }], build: ([x]) => makeNode(op, [x], { axis }), batch: 3 });
  }
  // Large logits: the max-subtracted form must stay exact.
  cases.push({ name: `${op}-large`, inputs: [{ shape: ['N', 5], range: [40, 60] }], build: ([x]) => makeNode(op, [x], { axis: -1 }) });
  cases.push({ name: `${op}-unbatched`, inputs: [{ shape: [4, 3] }], build: ([x]) => makeNode(op, [x], { axis: 0 }) });
}

// A reduction of a reduction, and a mean over a rank-1 batched input.
cases.push(
  {
    name: 'sum-of-max',
    inputs: [{ shape: ['N', 3, 4], init: distinct(0.05) }],
    build: ([x]) => makeNode('reduceSum', [makeNode('reduceMax', [x], { axes: [2], keepdims: false })], { axes: [1], keepdims: true }),
  },
  { name: 'mean-rank1-batch', inputs: [{ shape: ['N'] }], build: ([x]) => makeNode('reduceMean', [x], { axes: [0], keepdims: false }), batch: 3 },
);

export const CASES: readonly GradCase[] = cases;
