// Padding as a tensor of its own: a convolution with zero padding (and the filter gradient of
// one) becomes a convolution without padding over a padded copy of its input. Its loads then
// carry no bounds test, so it lowers to the SIMD contraction kernels; the copy costs one pass
// over the input, where the bounds tests cost one per multiply-add. The forward convolution and
// its filter gradient pad the same input the same way, so CSE keeps one copy.
import { makeNode, withInputs } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { rewriteGraph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';

/** Which input of each op is the image its pads apply to. */
const PADDED_INPUT: Readonly<Record<string, number>> = { conv2d: 0, conv2dBackwardFilter: 1 };

export function padConvolutions(g: Graph): Graph {
  return rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    const at = PADDED_INPUT[n.op];
    const pads = n.attrs.pads as readonly number[] | undefined;
    if (at === undefined || !pads || !pads.some((p) => p > 0) || pads.some((p) => p < 0)) return n;
    const [top, left, bottom, right] = pads;
    const padded = makeNode('pad', [n.inputs[at]], { pads: [0, 0, top, left, 0, 0, bottom, right], mode: 'constant', value: 0 }, n.meta);
    const inputs: Node[] = n.inputs.map((x, i) => (i === at ? padded : x));
    return makeNode(n.op, inputs, { ...n.attrs, pads: [0, 0, 0, 0] }, n.meta);
  });
}
