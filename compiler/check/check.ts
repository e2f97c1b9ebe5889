// Shape checking: re-infers every node's type from its op's rule and checks the graph's structure.
import { inferType } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { getLimits, type Limits } from '../../src/ir/limits.ts';
import { formatShape, sameShape } from '../../src/ir/shape.ts';
import { checkLimits } from './limits.ts';

/**
 * Returns the graph unchanged if it is well typed and within the limits (memory at batch 1,
 * FLOPs per sample, nodes: see limits.ts), or throws the first ShapeError (naming the layer,
 * op, shapes and source line), a LimitError naming the node and the figure, or a KilnError for
 * a structural fault.
 */
export function checkGraph(g: Graph, limits: Limits = getLimits()): Graph {
  const outputNames = new Set<string>();
  for (const o of g.outputs) {
    if (outputNames.has(o.name)) throw new KilnError(`graph '${g.name}' has two outputs named '${o.name}'`);
    outputNames.add(o.name);
  }
  const sourceNames = new Map<string, string>();
  const nodes = graphNodes(g);
  // Limits first: a graph too big to afford is refused before anything walks it further.
  checkLimits(g, limits, nodes);
  for (const n of nodes) {
    const t = inferType(n.op, n.inputs.map((i) => i.type), n.attrs as Record<string, unknown>, n.meta);
    if (t.dtype !== n.type.dtype || !sameShape(t.shape, n.type.shape)) {
      throw new KilnError(`node %${n.id} (${n.op}) records ${n.type.dtype}${formatShape(n.type.shape)} but its rule gives ${t.dtype}${formatShape(t.shape)}`);
    }
    if (n.op === 'input' || n.op === 'param') {
      const name = n.attrs.name as string;
      if (sourceNames.has(name)) throw new KilnError(`two graph leaves are named '${name}' (${sourceNames.get(name)} and ${n.op})`);
      sourceNames.set(name, n.op);
      if (n.op === 'input' && !g.inputs.includes(n)) throw new KilnError(`graph '${g.name}' reads input '${name}' that is not declared`);
    }
  }
  return g;
}
