// Fusion: groups nodes into kernels. Every computed node anchors a kernel; an elementwise
// consumer that is its producer's only reader, and reads it at its own index, joins the
// producer's kernel as an epilogue (bias add, activation, elementwise chains). Reductions never
// join another kernel, so a kernel holds at most one reduction.
import { consumers, graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { sameShape } from '../../src/ir/shape.ts';

/** One kernel-to-be: `root` is the value it stores; `members` are computed in its loop. */
export interface FusedGroup {
  readonly root: Node;
  /** In evaluation order, the first is the anchor (the op that owns the loop nest). */
  readonly members: readonly Node[];
}

export interface FusedGraph {
  readonly graph: Graph;
  /** Kernels in an order that respects their dependencies. */
  readonly groups: readonly FusedGroup[];
  /** View nodes (reshape and the like): no kernel, they alias their input's buffer. */
  readonly views: readonly Node[];
}

/** Whether `consumer` can be computed inside the loop that produces `producer`. */
function canAbsorb(producer: Node, consumer: Node, readers: readonly Node[], isOutput: boolean): boolean {
  return (
    !isOutput &&
    new Set(readers).size === 1 &&
    readers[0] === consumer &&
    opDef(consumer.op).kind === 'elementwise' &&
    sameShape(producer.type.shape, consumer.type.shape)
  );
}

export function fuse(g: Graph): FusedGraph {
  const nodes = graphNodes(g);
  const users = consumers(nodes);
  const outputs = new Set(g.outputs.map((o) => o.node));
  const absorbed = new Set<Node>();
  const groups: FusedGroup[] = [];
  const views: Node[] = [];
  for (const n of nodes) {
    const kind = opDef(n.op).kind;
    if (kind === 'source' || absorbed.has(n)) continue;
    if (kind === 'view') {
      views.push(n);
      continue;
    }
    const members = [n];
    let root = n;
    for (;;) {
      const readers = users.get(root) ?? [];
      const next = readers[0];
      // A consumer joins at most one kernel (both inputs of an add may end chains).
      if (!next || absorbed.has(next) || !canAbsorb(root, next, readers, outputs.has(root))) break;
      members.push(next);
      absorbed.add(next);
      root = next;
    }
    groups.push({ root, members });
  }
  // A group is emitted where its anchor stood; its epilogue's other inputs all precede its
  // root in topological order, so order groups by their roots' positions.
  const position = new Map(nodes.map((n, i) => [n, i]));
  groups.sort((a, b) => position.get(a.root)! - position.get(b.root)!);
  return { graph: g, groups, views };
}
