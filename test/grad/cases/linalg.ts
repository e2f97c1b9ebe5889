// Gradient-check cases for matmul: all four transA/transB combinations, the dense
// layer, batched [N, M, K] operands, broadcast leading dims, and a product over the batch.
import { makeNode } from '../../../src/ir/build.ts';
import type { Dim } from '../../../src/ir/shape.ts';
import { type GradCase } from '../check.ts';

const mm = (name: string, a: Dim[], b: Dim[], transA = false, transB = false, batch = 2): GradCase => ({
  name,
  inputs: [{ shape: a }, { shape: b }],
  build: ([x, y]) => makeNode('matmul', [x, y], { transA, transB }),
  batch,
});

/** 'scan' of a simple RNN body, h' = tanh(h·R + x_t), over 5 steps: backpropagation through time. */
const rnnScan = (name: string, reverse: boolean, stack: boolean): GradCase => ({
  name,
  inputs: [{ shape: ['N', 3] }, { shape: ['N', 5, 3] }, { shape: [3, 3], range: [-0.8, 0.8] }],
  build: ([h0, xs, r]) => {
    const leaf = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float64', shape });
    const [h, x, w] = [leaf('h', ['N', 3]), leaf('x', ['N', 3]), leaf('w', [3, 3])];
    const body = { name: 'rnn', inputs: [h, x, w], outputs: [{ name: 'h', node: makeNode('tanh', [makeNode('add', [makeNode('matmul', [h, w]), x])]) }] };
    return makeNode('scan', [h0, xs, r], { body, steps: 5, reverse, sequenceCount: 1, stack });
  },
});

export const CASES: GradCase[] = [
  rnnScan('scan-rnn-stacked', false, true),
  rnnScan('scan-rnn-reverse-final', true, false),
  mm('plain', [3, 4], [4, 5]),
  mm('transA', [4, 3], [4, 5], true, false),
  mm('transB', [3, 4], [5, 4], false, true),
  mm('transA-transB', [4, 3], [5, 4], true, true),
  mm('dense', ['N', 4], [4, 5]),
  mm('dense-transB', ['N', 4], [5, 4], false, true, 3),
  mm('batched-NMK', ['N', 3, 4], [4, 5]),
  mm('batched-both', ['N', 3, 4], ['N', 4, 2], false, false, 3),
  mm('batched-transA', ['N', 4, 3], ['N', 4, 2], true, false),
  mm('batched-transB', ['N', 3, 4], ['N', 2, 4], false, true),
  mm('batched-transA-transB', ['N', 4, 3], [2, 4], true, true, 3),
  mm('weight-left', [3, 4], ['N', 4, 2]),
  mm('broadcast-lead', ['N', 1, 3, 4], [2, 4, 5]),
  mm('broadcast-lead-unbatched', [2, 1, 3, 4], [5, 4, 2]),
  // xᵀ·y over the batch: the dense layer's weight gradient as a forward op.
  mm('over-batch', ['N', 3], ['N', 5], true, false, 3),
  // One weight used twice: y = (x·W)·W.
  { name: 'shared-weight', inputs: [{ shape: ['N', 3] }, { shape: [3, 3] }], build: ([x, w]) => makeNode('matmul', [makeNode('matmul', [x, w]), w]) },
  // A Gram matrix: both operands are the same input.
  { name: 'gram', inputs: [{ shape: ['N', 3, 4] }], build: ([x]) => makeNode('matmul', [x, x], { transB: true }) },
];
