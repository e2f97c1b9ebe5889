// Helpers for the DSL layer tests: run a DSL-built graph on the interpreter with given weights,
// and turn a DSL-built layer into a float64 gradient-check case whose weights are inputs.
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes, graphParams, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import type { GradCase, GradInput } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';

/** A graph of one output built from DSL inputs. */
export function graphOf(inputs: Node[], output: Node, name = 'layer'): Graph {
  return { name, inputs, outputs: [{ name: 'y', node: output }] };
}

/** Concrete shape with the batch filled in. */
export const shapeAt = (shape: readonly Dim[], batch: number): number[] => shape.map((d) => (d === 'N' ? batch : d));

/** Seeded random weights for every parameter of `g`, by name, in [-r, r). */
export function randomWeights(g: Graph, seed = 7, r = 0.5): Record<string, Float32Array> {
  const rng = new Lcg(seed);
  return Object.fromEntries(graphParams(g).map((p) => [p.attrs.name as string, Float32Array.from(rng.array(numel(p.type.shape), -r, r))]));
}

/** Runs `g` on the interpreter: its single output, as float64. */
export function run(g: Graph, feeds: Record<string, Float32Array | Int32Array>, weights: Record<string, Float32Array>, batch: number): Float64Array {
  return Float64Array.from(interpret(g, feeds, weights, batch).y as ArrayLike<number>);
}

/**
 * A gradient-check case for a layer built by `build` (float32, with the DSL): every graph input
 * and parameter becomes a float64 input of the case (int32 inputs are fed as integers through a
 * cast and not differentiated; `fixed` inputs, such as 0/1 masks, get the given values and are not
 * differentiated), constants become float64. So the harness checks the gradient of
 * the layer's output with respect to its input and every weight.
 */
export function layerCase(name: string, build: () => { inputs: Node[]; output: Node }, options: { batch?: number; ints?: [number, number]; tol?: number; maxCoords?: number; fixed?: Record<string, number[]> } = {}): GradCase {
  resetLayerNames();
  const { inputs, output } = build();
  const params = graphParams(graphOf(inputs, output));
  const leaves = [...inputs, ...params];
  const [lo, hi] = options.ints ?? [0, 4];
  const specs: GradInput[] = leaves.map((n) =>
    options.fixed && Object.hasOwn(options.fixed, n.attrs.name as string)
      ? { shape: [...n.type.shape], constant: true, init: () => options.fixed![n.attrs.name as string] }
      : n.type.dtype === 'int32'
      ? { shape: [...n.type.shape], constant: true, init: (rng, size) => Array.from({ length: size }, () => rng.int(lo, hi)) }
      : { shape: [...n.type.shape], range: n.op === 'param' ? [-0.8, 0.8] : [-2, 2] },
  );
  const order = graphNodes(graphOf(inputs, output));
  return {
    name,
    inputs: specs,
    batch: options.batch ?? 2,
    tol: options.tol ?? 1e-5,
    maxCoords: options.maxCoords ?? 24,
    build: (xs) => {
      const done = new Map<Node, Node>();
      leaves.forEach((leaf, i) => done.set(leaf, leaf.type.dtype === 'int32' ? makeNode('cast', [xs[i]], { to: 'int32' }) : xs[i]));
      for (const n of order) {
        if (done.has(n)) continue;
        const attrs: Record<string, unknown> = { ...n.attrs };
        if (n.op === 'const' && attrs.dtype === 'float32') attrs.dtype = 'float64';
        if (n.op === 'cast' && attrs.to === 'float32') attrs.to = 'float64';
        done.set(n, makeNode(n.op, n.inputs.map((x) => done.get(x)!), attrs, n.meta));
      }
      return done.get(output)!;
    },
  };
}
