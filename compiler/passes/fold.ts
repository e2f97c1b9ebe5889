// Constant folding: a node whose inputs are all constants becomes a constant, computed by the
// reference interpreter (so folding can never disagree with the op's definition).
import { makeNode, withInputs } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { rewriteGraph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { isBatched, numel } from '../../src/ir/shape.ts';

/** Constants larger than this stay computed: folding must not bloat the emitted module. */
export const MAX_FOLDED_ELEMENTS = 4096;

function foldable(n: Node): boolean {
  return (
    opDef(n.op).kind !== 'source' &&
    n.inputs.length > 0 &&
    n.inputs.every((i) => i.op === 'const') &&
    !isBatched(n.type.shape) &&
    numel(n.type.shape) <= MAX_FOLDED_ELEMENTS
  );
}

export function foldConstants(g: Graph): Graph {
  return rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    if (!foldable(n)) return n;
    const value = interpret({ name: 'fold', inputs: [], outputs: [{ name: 'y', node: n }] }, {}, {}, 1).y;
    return makeNode('const', [], { dtype: n.type.dtype, shape: [...n.type.shape], values: Array.from(value) }, n.meta);
  });
}
