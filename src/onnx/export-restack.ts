// Concats that put back together every unit time slice of one tensor, in order (the DSL's
// recurrent layers return their sequence that way: T slices of the scan's stacked output, each
// reshaped, then concatenated): the exporter writes such a concat as the tensor itself, so the
// file holds no T slices and 2T reshapes per layer (the compiler's DCE restacks them the same way).
import type { Node } from '../ir/node.ts';
import { resolveSlice, type SliceAttrs } from '../ir/ops/movement.ts';
import { sameShape } from '../ir/shape.ts';

/** The unit slice a concat part is, through reshapes that end in its shape: its source and the index it takes on `axis`. */
function unitSlice(part: Node, axis: number): { source: Node; index: number } | undefined {
  // Reshapes never move elements: a chain of them that ends in its start's shape is the identity.
  let at = part;
  while (at.op === 'reshape') at = at.inputs[0];
  if (at.op !== 'slice' || !sameShape(at.type.shape, part.type.shape)) return undefined;
  const source = at.inputs[0];
  const parts = resolveSlice(source.type, at.attrs as unknown as SliceAttrs);
  const whole = parts.every((p, i) => i === axis || (p.start === 0 && p.step === 1 && p.size === source.type.shape[i]));
  return whole && parts[axis].size === 1 ? { source, index: parts[axis].start } : undefined;
}

/** Each concat of `nodes` that is exactly one tensor restacked from its unit slices, and that tensor. */
export function restackedConcats(nodes: readonly Node[]): Map<Node, Node> {
  const found = new Map<Node, Node>();
  for (const n of nodes) {
    if (n.op !== 'concat' || n.inputs.length < 2) continue;
    const rank = n.type.shape.length;
    const axis = (n.attrs.axis as number) < 0 ? (n.attrs.axis as number) + rank : (n.attrs.axis as number);
    const slices = n.inputs.map((p) => unitSlice(p, axis));
    const source = slices[0]?.source;
    if (!source || source.type.dtype !== n.type.dtype || !sameShape(source.type.shape, n.type.shape)) continue;
    if (slices.every((s, k) => s && s.source === source && s.index === k)) found.set(n, source);
  }
  return found;
}
