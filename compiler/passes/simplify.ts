// Dead-code elimination: nodes that compute nothing (identity views, no-op casts and reshapes,
// inference-time dropout) are bypassed, and whatever no output reaches is dropped.
import { withInputs } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { rewriteGraph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { sameShape } from '../../src/ir/shape.ts';

/** True when a node's value is its first input's, unchanged. */
function isNoOp(n: Node): boolean {
  const x = n.inputs[0];
  switch (n.op) {
    case 'identity':
    case 'dropout':
      return true;
    case 'reshape':
      return sameShape(x.type.shape, n.type.shape);
    case 'cast':
      return x.type.dtype === n.type.dtype;
    case 'transpose':
      return (n.attrs.perm as number[]).every((p, i) => p === i);
    default:
      return false;
  }
}

/**
 * A graph only holds what its outputs reach, so rebuilding it drops dead nodes; bypassing
 * no-ops makes their inputs' producers dead too when nothing else reads them.
 */
export function eliminateDeadCode(g: Graph): Graph {
  return rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    return isNoOp(n) ? n.inputs[0] : n;
  });
}
