// Shared harness for op tests: build a one-op IR graph, feed seeded data, interpret, compare with a naive reference.
import { expect } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { DType, TypedArray } from '../../src/ir/dtype.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import type { Dim } from '../../src/ir/shape.ts';
import { Lcg } from '../reference/lcg.ts';
import { sizeOf, tensor, type Tensor } from '../reference/naive.ts';
import { ShapeError } from '../../src/ir/errors.ts';

export type { Node };

/** One graph input: its IR shape (may start with 'N'), dtype, and how to fill it. */
export interface InputSpec {
  shape: Dim[];
  dtype?: DType;
  /** Uniform range of the random values (default [-2, 2)). */
  range?: [number, number];
  /** Explicit values for the whole concrete tensor, batch included (overrides `range`). */
  values?: number[];
  /** Feed as a parameter (`param` node, looked up in weights) instead of an input. */
  param?: boolean;
}

export interface OpCase {
  inputs: InputSpec[];
  /** Builds the node under test from the leaf nodes. */
  build: (xs: Node[]) => Node;
  /** The expected result from the concrete input tensors (float64 copies of what was fed). */
  ref: (ts: Tensor[]) => Tensor;
  batch?: number;
  seed?: number;
  rtol?: number;
  atol?: number;
}

/** Concrete shape: the symbolic batch dim replaced by `batch`. */
export const concrete = (shape: readonly Dim[], batch: number): number[] => shape.map((d) => (d === 'N' ? batch : d));

let leafCount = 0;

/** A leaf node: `input` (or `param`) with a unique name. */
export function leaf(shape: Dim[], dtype: DType = 'float64', param = false): Node {
  const name = `${param ? 'w' : 'x'}${leafCount++}`;
  if (param) return makeNode('param', [], { name, dtype, shape, init: { kind: 'zeros' }, trainable: true });
  return makeNode('input', [], { name, dtype, shape });
}

export function typed(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === 'float32') return Float32Array.from(values as ArrayLike<number>);
  if (dtype === 'int32') return Int32Array.from(values as ArrayLike<number>);
  return Float64Array.from(values as ArrayLike<number>);
}

/** Runs a single output node through the reference interpreter. */
export function run(inputs: Node[], out: Node, feeds: Record<string, TypedArray>, weights: Record<string, TypedArray>, batch: number): TypedArray {
  const graph: Graph = { name: 'op_test', inputs: inputs.filter((n) => n.op === 'input'), outputs: [{ name: 'y', node: out }] };
  return interpret(graph, feeds, weights, batch).y;
}

/**
 * Builds the op graph, fills its leaves with seeded values, interprets it and checks shape and values
 * against the naive reference. Returns both results for extra assertions.
 */
export function checkOp(c: OpCase): { got: TypedArray; want: Tensor; node: Node } {
  const batch = c.batch ?? 2;
  const rng = new Lcg(c.seed ?? 12345);
  const leaves = c.inputs.map((s) => leaf(s.shape, s.dtype ?? 'float64', s.param));
  const feeds: Record<string, TypedArray> = {};
  const weights: Record<string, TypedArray> = {};
  const tensors = c.inputs.map((s, i) => {
    const shape = concrete(s.shape, batch);
    const [lo, hi] = s.range ?? [-2, 2];
    const raw = s.values ?? Array.from(rng.array(sizeOf(shape), lo, hi));
    const fed = typed(s.dtype ?? 'float64', raw);
    (s.param ? weights : feeds)[leaves[i].attrs.name as string] = fed;
    return tensor(shape, fed); // the reference sees exactly the values fed (after any float32 rounding)
  });
  const node = c.build(leaves);
  const got = run(leaves, node, feeds, weights, batch);
  const want = c.ref(tensors);
  expect(concrete(node.type.shape, batch), 'output shape').toEqual(want.shape);
  expect(got).toBeAllclose(want.data, { rtol: c.rtol ?? 1e-12, atol: c.atol ?? 1e-12 });
  return { got, want, node };
}

/** The batch sizes every batched case runs with. */
export const BATCHES = [1, 3] as const;

/** The ShapeError `f` throws (the test fails if it throws nothing or something else). */
export function shapeError(f: () => unknown): ShapeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ShapeError);
    return e as ShapeError;
  }
  throw new Error('expected a ShapeError');
}

/** Runs `f`, expecting it to throw; returns the error (fails the test when it throws none). */
export function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}
