// A stacked scan whose readers only take its final step keeps the final carry alone. A recurrent
// layer that returns its last state (an LSTM classifier) builds a stacked scan and slices the
// last time index out of it; stacked, the loop copies every step's carry into a [N, T, …] output
// that nothing else reads. Unstacked, the scan's output is the final carry itself (the loop's
// carry buffer), and each reader's slice takes index 0 of a [N, 1, …] view of it.
import { makeNode, withInputs } from '../../src/ir/build.ts';
import { consumers, graphNodes, rewriteGraph, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import { BATCH, normAxis } from '../../src/ir/shape.ts';

interface SliceAttrs {
  starts: number[];
  ends: number[];
  axes?: number[];
  steps?: number[];
}

/** Where slice `s` of a [N, T, …] value stands on the time axis, if it takes one index with step 1. */
function timeIndex(s: Node, steps: number): { at: number; position: number } | undefined {
  const a = s.attrs as unknown as SliceAttrs;
  const rank = s.inputs[0].type.shape.length;
  const axes = a.axes ?? a.starts.map((_, i) => i);
  const position = axes.findIndex((x) => normAxis(x, rank) === 1);
  if (position < 0 || (a.steps?.[position] ?? 1) !== 1) return undefined;
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + steps : i, 0), steps);
  const [from, to] = [clamp(a.starts[position]), clamp(a.ends[position])];
  return to === from + 1 ? { at: from, position } : undefined;
}

/** Stacked scans, not outputs themselves, whose every reader is a slice of their final step alone. */
function finalOnly(g: Graph): Set<Node> {
  const nodes = graphNodes(g);
  const users = consumers(nodes);
  const outputs = new Set(g.outputs.map((o) => o.node));
  const found = new Set<Node>();
  for (const n of nodes) {
    if (n.op !== 'scan' || outputs.has(n)) continue;
    const a = n.attrs as unknown as ScanAttrs;
    const last = a.reverse ? 0 : a.steps - 1;
    const readers = users.get(n) ?? [];
    const isFinal = (r: Node) => r.op === 'slice' && r.inputs[0] === n && timeIndex(r, a.steps)?.at === last;
    if (a.stack && readers.length > 0 && readers.every(isFinal)) found.add(n);
  }
  return found;
}

/** The graph with each stacked scan that only its final step is read of turned into one that keeps the final carry. */
export function dropUnreadSteps(g: Graph): Graph {
  const scans = finalOnly(g);
  if (scans.size === 0) return g;
  return rewriteGraph(g, (node, rebuild) => {
    const inputs = node.inputs.map(rebuild);
    if (scans.has(node)) {
      // The final carry as [N, 1, …]: the readers' slices keep their rank, at time index 0.
      const final = makeNode('scan', inputs, { ...(node.attrs as unknown as ScanAttrs), stack: false } as unknown as Record<string, unknown>, node.meta);
      const [rows, ...rest] = final.type.shape;
      return makeNode('reshape', [final], { shape: [rows === BATCH ? -1 : rows, 1, ...rest] }, node.meta);
    }
    if (node.op === 'slice' && scans.has(node.inputs[0])) {
      const a = node.attrs as unknown as SliceAttrs;
      const { position } = timeIndex(node, (node.inputs[0].attrs as unknown as ScanAttrs).steps)!;
      const set = (xs: number[], v: number) => xs.map((x, i) => (i === position ? v : x));
      return makeNode('slice', inputs, { ...a, starts: set(a.starts, 0), ends: set(a.ends, 1) }, node.meta);
    }
    return withInputs(node, inputs);
  });
}
