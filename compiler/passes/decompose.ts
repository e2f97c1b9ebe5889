// Rewrites composite ops (softmax, logSoftmax) into the primitive ops they are made of.
import type { Graph } from '../../src/ir/graph.ts';
import { rewriteGraph } from '../../src/ir/graph.ts';
import { withInputs } from '../../src/ir/build.ts';
import { expandComposite } from '../../src/ir/lowering.ts';
import { opDef } from '../../src/ir/ops/index.ts';

export function decomposeComposites(g: Graph): Graph {
  return rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    return opDef(n.op).kind === 'composite' ? expandComposite(n) : n;
  });
}
