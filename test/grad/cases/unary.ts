// Gradient-check cases for the unary elementwise ops (activations, math functions,
// clip, and the no-op views), through the emitted module, in float64.
import { makeNode } from '../../../src/ir/build.ts';
import type { OpName } from '../../../src/ir/ops/index.ts';
import { avoiding, awayFromZero, type GradCase, type GradInput, type Node } from '../check.ts';

const X = ['N', 3, 4] as const;

/** A case applying `op` with `attrs` to one ['N', 3, 4] input. */
function unary(name: string, op: OpName, input: Omit<GradInput, 'shape'> = {}, attrs: Record<string, unknown> = {}, extra: Partial<GradCase> = {}): GradCase {
  return { name, inputs: [{ shape: [...X], ...input }], build: ([x]: Node[]) => makeNode(op, [x], attrs), ...extra };
}

export const CASES: GradCase[] = [
  unary('neg', 'neg'),
  unary('abs', 'abs', { init: awayFromZero(0.1, 2) }),
  unary('exp', 'exp', { range: [-2, 2] }),
  unary('log', 'log', { range: [0.2, 3] }),
  unary('sqrt', 'sqrt', { range: [0.2, 3] }),
  unary('erf', 'erf', { range: [-2.5, 2.5] }),
  unary('relu', 'relu', { init: awayFromZero(0.05, 2) }),
  unary('sigmoid', 'sigmoid', { range: [-4, 4] }),
  unary('tanh', 'tanh', { range: [-3, 3] }),
  unary('leakyRelu', 'leakyRelu', { init: awayFromZero(0.05, 2) }, { alpha: 0.1 }),
  unary('elu', 'elu', { init: awayFromZero(0.05, 2) }, { alpha: 0.7 }),
  unary('elu-alpha1', 'elu', { init: awayFromZero(0.05, 3) }, { alpha: 1 }, { batch: 3 }),
  unary('celu', 'celu', { init: awayFromZero(0.05, 2) }, { alpha: 0.7 }),
  unary('celu-negative-alpha', 'celu', { init: awayFromZero(0.05, 2) }, { alpha: -1.5 }, { batch: 3 }),
  // |x/α| from 50 to 1,500: e^(x/α) overflows (past 709) where a masked rule would multiply it by 0.
  unary('celu-wide', 'celu', { init: awayFromZero(1, 30) }, { alpha: 0.02 }),
  unary('selu', 'selu', { init: awayFromZero(0.05, 2) }),
  unary('softplus', 'softplus', { range: [-6, 6] }),
  unary('softplus-wide', 'softplus', { init: awayFromZero(10, 30) }),
  unary('gelu', 'gelu', { range: [-3, 3] }),
  unary('gelu-none', 'gelu', { range: [-3, 3] }, { approximate: 'none' }, { batch: 3 }),
  unary('clip', 'clip', { init: avoiding([-0.5, 0.7], -1.5, 1.5) }, { min: -0.5, max: 0.7 }),
  unary('clip-min', 'clip', { init: avoiding([0.2], -1, 1) }, { min: 0.2 }),
  unary('clip-max', 'clip', { init: avoiding([-0.3], -1, 1) }, { max: -0.3 }),
  unary('clip-null-min', 'clip', { init: avoiding([0.5], -1, 1) }, { min: null, max: 0.5 }),
  unary('identity', 'identity'),
  unary('dropout', 'dropout', {}, { rate: 0.3 }),
  unary('cast-f64', 'cast', {}, { to: 'float64' }),
  // Rank 1 and rank 0 inputs without a batch dimension.
  { name: 'tanh-rank1', inputs: [{ shape: [7] }], build: ([x]) => makeNode('tanh', [x]) },
  { name: 'exp-scalar', inputs: [{ shape: [] }], build: ([x]) => makeNode('exp', [x]) },
  // A chain of unary ops: the chain rule through fused epilogues.
  {
    name: 'chain-sigmoid-log-sqrt',
    inputs: [{ shape: [...X], range: [-2, 2] }],
    build: ([x]) => makeNode('sqrt', [makeNode('log', [makeNode('add', [makeNode('sigmoid', [x]), makeNode('const', [], { dtype: 'float64', shape: [], values: [1.5] })])])]),
  },
];
