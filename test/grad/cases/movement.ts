// Gradient-check cases for the movement ops: reshape, transpose, concat, slice
// (steps, negative steps, negative indices), pad (zeros around the spatial dims) and expand
// (broadcast to a batched shape).
import { makeNode } from '../../../src/ir/build.ts';
import type { OpName } from '../../../src/ir/ops/index.ts';
import type { Dim } from '../../../src/ir/shape.ts';
import { type GradCase } from '../check.ts';

const one = (name: string, shape: Dim[], op: OpName, attrs: Record<string, unknown>, batch = 2): GradCase => ({
  name,
  inputs: [{ shape }],
  build: ([x]) => makeNode(op, [x], attrs),
  batch,
});

export const CASES: GradCase[] = [
  one('reshape-merge', ['N', 2, 3, 4], 'reshape', { shape: [-1, 6, 4] }),
  one('reshape-flatten', ['N', 2, 3, 4], 'reshape', { shape: [-1, 24] }, 3),
  one('reshape-split', ['N', 12], 'reshape', { shape: [-1, 3, 2, 2] }),
  one('reshape-unbatched', [2, 3, 4], 'reshape', { shape: [4, -1] }),
  // A reshape whose output feeds a computing op, so the view aliases a real buffer.
  { name: 'reshape-then-tanh', inputs: [{ shape: ['N', 2, 6] }], build: ([x]) => makeNode('tanh', [makeNode('reshape', [makeNode('exp', [x])], { shape: [-1, 3, 4] })]) },
  one('transpose-nchw-nhwc', ['N', 2, 3, 4], 'transpose', { perm: [0, 2, 3, 1] }),
  one('transpose-inner', ['N', 3, 4], 'transpose', { perm: [0, 2, 1] }, 3),
  one('transpose-unbatched', [2, 3, 4], 'transpose', { perm: [2, 0, 1] }),
  {
    name: 'concat-axis1-three',
    inputs: [{ shape: ['N', 2, 3] }, { shape: ['N', 1, 3] }, { shape: ['N', 3, 3] }],
    build: (xs) => makeNode('concat', xs, { axis: 1 }),
  },
  {
    name: 'concat-last-negative',
    inputs: [{ shape: ['N', 2, 1] }, { shape: ['N', 2, 4] }],
    build: (xs) => makeNode('concat', xs, { axis: -1 }),
    batch: 3,
  },
  { name: 'concat-unbatched-axis0', inputs: [{ shape: [2, 3] }, { shape: [4, 3] }], build: (xs) => makeNode('concat', xs, { axis: 0 }) },
  // The same input twice in one concat: its gradient is the sum of both slices.
  { name: 'concat-self', inputs: [{ shape: ['N', 2, 3] }], build: ([x]) => makeNode('concat', [x, makeNode('neg', [x]), x], { axis: 2 }) },
  one('slice-range', ['N', 5, 6], 'slice', { starts: [1], ends: [4], axes: [1] }),
  one('slice-steps', ['N', 5, 6], 'slice', { starts: [0, 1], ends: [5, 6], axes: [1, 2], steps: [2, 2] }, 3),
  one('slice-negative-step', ['N', 5, 6], 'slice', { starts: [-1], ends: [-100], axes: [2], steps: [-2] }),
  one('slice-negative-indices', ['N', 5, 6], 'slice', { starts: [-4, -5], ends: [-1, 100], axes: [1, -1] }),
  one('slice-reverse-step3', ['N', 7], 'slice', { starts: [6], ends: [0], axes: [1], steps: [-3] }),
  one('slice-no-axes', [4, 5], 'slice', { starts: [1, 0], ends: [3, 5] }),
  one('pad-asym', ['N', 2, 3, 4], 'pad', { pads: [0, 0, 1, 0, 0, 0, 2, 3], mode: 'constant', value: 0 }),
  one('pad-unbatched', [2, 3], 'pad', { pads: [0, 2, 1, 0], mode: 'constant', value: 0 }),
  one('expand-inner', [3, 1], 'expand', { shape: ['N', 3, 4] }),
  one('expand-batched', ['N', 1, 4], 'expand', { shape: ['N', 3, 4] }, 3),
  one('expand-vector', [4], 'expand', { shape: ['N', 2, 4] }),
  one('expand-scalar', [], 'expand', { shape: ['N', 3] }),
  one('expand-unbatched', [2, 1, 3], 'expand', { shape: [2, 4, 3] }),
];
