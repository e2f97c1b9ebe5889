// Shared test fixtures: small hand-built graphs and a loader for the seed models in examples/.
import { readdirSync } from 'node:fs';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { NodeMeta } from '../../src/ir/node.ts';

/** Every seed model in examples/ that builds (lenet-bug is rejected by design). */
export const EXAMPLES = readdirSync(new URL('../../examples/', import.meta.url))
  .filter((f) => f.endsWith('.ts') && f !== 'lenet-bug.ts')
  .map((f) => f.slice(0, -3))
  .sort();

/** The graph of `examples/<name>.ts`. */
export async function loadExample(name: string): Promise<Graph> {
  const mod = (await import(`../../examples/${name}.ts`)) as { default: { kind: string; graph: Graph } };
  return mod.default.graph;
}

/**
 * relu(x · w + b) on x: f32[N,4], w: [4,3], b: [3], all in layer `fc`. Its JSON node ids are
 * 0 input, 1 param w, 2 matmul, 3 param b, 4 add, 5 relu.
 */
export function tinyGraph(): Graph {
  const fc: NodeMeta = { layer: 'fc', layerKind: 'Dense', source: { file: 'model.ts', line: 3, column: 7 } };
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 4] }, { layer: 'x', layerKind: 'Input' });
  const w = makeNode('param', [], { name: 'fc/kernel', dtype: 'float32', shape: [4, 3], init: { kind: 'zeros' }, trainable: true }, fc);
  const b = makeNode('param', [], { trainable: true, name: 'fc/bias', shape: [3], dtype: 'float32', init: { kind: 'zeros' } }, fc);
  const y = makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w], {}, fc), b], {}, fc)], {}, fc);
  return { name: 'tiny', inputs: [x], outputs: [{ name: 'y', node: y }] };
}
