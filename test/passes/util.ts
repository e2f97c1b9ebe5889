// Helpers for pass tests: leaf nodes, seeded random feeds and weights, and a before/after semantics check.
import { expect } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { DType, TypedArray } from '../../src/ir/dtype.ts';
import { graphNodes, graphParams, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { Lcg } from '../reference/lcg.ts';

export type { Node, Graph };

export const inputNode = (name: string, shape: Dim[], dtype: DType = 'float32'): Node =>
  makeNode('input', [], { name, dtype, shape });

export const paramNode = (name: string, shape: Dim[], dtype: DType = 'float32'): Node =>
  makeNode('param', [], { name, dtype, shape, init: { kind: 'zeros' }, trainable: true });

export const constNode = (values: number[], shape: number[], dtype: DType = 'float32'): Node =>
  makeNode('const', [], { dtype, shape, values });

/** A graph over `inputs` with outputs named by the record's keys. */
export function graphOf(inputs: Node[], outputs: Record<string, Node>, name = 'g'): Graph {
  return { name, inputs, outputs: Object.entries(outputs).map(([n, node]) => ({ name: n, node })) };
}

function randomArray(dtype: DType, n: number, rng: Lcg): TypedArray {
  if (dtype === 'int32') return Int32Array.from({ length: n }, () => rng.int(-5, 6));
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-2, 2);
  return a;
}

/** Seeded random values for every input and parameter of `g`, at `batch`. */
export function randomData(g: Graph, batch: number, seed = 7): { feeds: Record<string, TypedArray>; weights: Record<string, TypedArray> } {
  const rng = new Lcg(seed);
  const feeds: Record<string, TypedArray> = {};
  for (const n of g.inputs) feeds[n.attrs.name as string] = randomArray(n.type.dtype, numel(n.type.shape, batch), rng);
  const weights: Record<string, TypedArray> = {};
  for (const n of graphParams(g)) weights[n.attrs.name as string] = randomArray(n.type.dtype, numel(n.type.shape, batch), rng);
  return { feeds, weights };
}

/** interpret(before) ≈ interpret(after) on the same seeded data, output by output. */
export function expectSameSemantics(before: Graph, after: Graph, batch = 2, seed = 7, tol = { rtol: 1e-6, atol: 1e-7 }): void {
  const { feeds, weights } = randomData(before, batch, seed);
  const a = interpret(before, feeds, weights, batch);
  const b = interpret(after, feeds, weights, batch);
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
  for (const name of Object.keys(a)) {
    expect(b[name].constructor).toBe(a[name].constructor);
    expect(b[name]).toBeAllclose(a[name], tol);
  }
}

/** The ops of every node a graph reaches, in topological order. */
export const opsOf = (g: Graph): string[] => graphNodes(g).map((n) => n.op);

/** How many reachable nodes have op `op`. */
export const countOp = (g: Graph, op: string): number => opsOf(g).filter((o) => o === op).length;

/** Every seed model in examples/ except lenet-bug (which is rejected by design). */
export const EXAMPLE_NAMES = ['mlp', 'mlp256', 'cnn', 'cnn-small', 'lenet', 'cifar-cnn', 'cnn2'] as const;

/** The graph that `examples/<name>.ts` exports. */
export async function loadExample(name: string): Promise<Graph> {
  const mod = (await import(`../../examples/${name}.ts`)) as { default: { graph: Graph } };
  return mod.default.graph;
}
