// Gradient-check cases for gather along axis 0 (an embedding lookup), whose VJP is a scatter-add
// written as oneHot(indices)ᵀ · g: repeated indices (their rows' gradients add up), negative
// indices (aliases of rows also picked by a positive index), rows never picked (gradient 0),
// indices of rank 2, and batched indices ([N, L] tokens, cast from a fed float input).
import { makeNode } from '../../../src/ir/build.ts';
import type { Dim } from '../../../src/ir/shape.ts';
import type { GradCase, Node } from '../check.ts';

/** A constant int32 index tensor. */
const indices = (values: number[], shape: number[] = [values.length]) => makeNode('const', [], { dtype: 'int32', shape, values });

const gather = (data: Node, idx: Node) => makeNode('gather', [data, idx], { axis: 0 });

/** Data of `shape` gathered at constant `values` (indices of `idxShape`). */
const constant = (name: string, shape: Dim[], values: number[], idxShape?: number[]): GradCase => ({
  name,
  inputs: [{ shape }],
  build: ([x]) => gather(x, indices(values, idxShape)),
});

/** Integer token ids, repeats and negative ones included, fed as float64 and cast to int32. */
const TOKENS = [0, 2, 2, -1, 3, 0, -4, 1, 2];

export const CASES: GradCase[] = [
  // Row 2 picked three times, rows 1 and 3 never.
  constant('gather-repeated', [5, 3], [2, 0, 2, 4, 2]),
  // -1 is row 4 and -5 row 0, each also picked by its positive index.
  constant('gather-negative', [5, 2, 2], [-1, 4, -5, 0]),
  constant('gather-indices-2d', [4, 3], [3, 1, 3, 0, 0, -2], [2, 3]),
  {
    name: 'gather-batched-tokens',
    inputs: [{ shape: [4, 3] }, { shape: ['N', 3], constant: true, init: (_rng, size) => Float64Array.from({ length: size }, (_, i) => TOKENS[i % TOKENS.length]) }],
    build: ([x, ids]) => gather(x, makeNode('cast', [ids], { to: 'int32' })),
    batch: 3,
  },
];
