// The user's tensor layout: a model whose input was declared channels-last (the DSL's
// `input(..., { channelsLast: true })`) is NCHW inside Kiln, but its user thinks in NHWC.
import type { Graph } from '../../src/ir/graph.ts';
import { graphNodes } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { Dim } from '../../src/ir/shape.ts';

/** How the user declared image tensors: Kiln's own NCHW, or NHWC (channels-last). */
export type Layout = 'channels-first' | 'channels-last';

const TO_NCHW = [0, 3, 1, 2];

/**
 * Channels-last when some graph input's reader is the DSL's layout transpose (perm [0, 3, 1, 2]
 * inside that input's own layer): the one trace `channelsLast` leaves in the graph, so the fact
 * survives ONNX and JSON round trips of the same structure without a field of its own.
 */
export function graphLayout(g: Graph): Layout {
  const inputs = new Set(g.inputs);
  const isLayoutTranspose = (n: Node) =>
    n.op === 'transpose' &&
    inputs.has(n.inputs[0]) &&
    n.meta.layer !== undefined &&
    n.meta.layer === n.inputs[0].meta.layer &&
    JSON.stringify(n.attrs.perm) === JSON.stringify(TO_NCHW);
  return graphNodes(g).some(isLayoutTranspose) ? 'channels-last' : 'channels-first';
}

/**
 * A shape as the user sees it: in a channels-last model every rank-4 value after the input
 * ([N, C, H, W] inside) is shown [N, H, W, C]; the input itself is already in the user's order.
 */
export function userShape(shape: readonly Dim[], layout: Layout, isGraphInput = false): Dim[] {
  if (layout === 'channels-first' || isGraphInput || shape.length !== 4) return [...shape];
  return [shape[0], shape[2], shape[3], shape[1]];
}
