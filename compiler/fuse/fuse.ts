// Fusion: groups nodes into kernels. Every computed node anchors a kernel; an elementwise
// consumer that is its producer's only reader, and reads it at its own index, joins the
// producer's kernel as an epilogue (bias add, activation, elementwise chains). Reductions never
// join another kernel, so a kernel holds at most one reduction. Then a short elementwise kernel
// whose few readers each read an element once (at their own index, or as a plain reduction's
// input) is computed again inside each reader instead of stored: logSoftmax's x − max feeds both
// its Σ exp and its subtraction without a buffer of its own (exp, too dear to compute twice, is
// recomputed only where it has one reader). A slice in such a kernel is only a
// shifted read, so it may be recomputed too: an LSTM step's gates are slices of one product, and
// recomputing them makes the step two elementwise kernels, the cell state and the hidden state.
import { consumers, graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { opDef, type OpName } from '../../src/ir/ops/index.ts';
import { normAxis, sameShape } from '../../src/ir/shape.ts';
import { fusedSize, MAX_EXPR_SIZE, MAX_FUSED_OPS } from './size.ts';

/** One kernel-to-be: `root` is the value it stores; `members` are computed in its loop. */
export interface FusedGroup {
  readonly root: Node;
  /** In evaluation order, the first is the anchor (the op that owns the loop nest). */
  readonly members: readonly Node[];
  /** Cheap elementwise producers computed again inside this kernel, where it reads them, instead of stored. */
  readonly recomputed?: readonly Node[];
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
  /** Each group's expression size, by its root. */
  const sizes = new Map<Node, number>();
  for (const n of nodes) {
    const kind = opDef(n.op).kind;
    if (kind === 'source' || absorbed.has(n)) continue;
    if (kind === 'view') {
      views.push(n);
      continue;
    }
    // A loop is a step of its own (compiler/lower/loop.ts): nothing joins it.
    if (n.op === 'scan') {
      sizes.set(n, Infinity);
      groups.push({ root: n, members: [n] });
      continue;
    }
    const members = [n];
    let root = n;
    let size = fusedSize(n, () => 1);
    // A long chain becomes several kernels, so no kernel's expression grows past the bounds.
    while (members.length < MAX_FUSED_OPS) {
      const readers = users.get(root) ?? [];
      const next = readers[0];
      // A consumer joins at most one kernel (both inputs of an add may end chains).
      if (!next || absorbed.has(next) || !canAbsorb(root, next, readers, outputs.has(root))) break;
      // A reader of the value twice (y·y in tanh's gradient) would inline the anchor's reduction twice.
      if (opDef(members[0].op).kind === 'reduce' && next.inputs.filter((i) => i === root).length > 1) break;
      const grown = fusedSize(next, (i) => (next.inputs[i] === root ? size : 1));
      if (grown > MAX_EXPR_SIZE) break;
      members.push(next);
      absorbed.add(next);
      root = next;
      size = grown;
    }
    sizes.set(root, size);
    groups.push({ root, members });
  }
  // A group is emitted where its anchor stood; its epilogue's other inputs all precede its
  // root in topological order, so order groups by their roots' positions.
  const position = new Map(nodes.map((n, i) => [n, i]));
  groups.sort((a, b) => position.get(a.root)! - position.get(b.root)!);
  return { graph: g, groups: recomputeCheapProducers(groups, users, outputs, sizes), views };
}

/** Elementwise kernels at most this long (in ops that compute), read by at most this many kernels, are recomputed. */
const RECOMPUTE_MAX_OPS = 4;
/**
 * Movement ops that only move where an element is read (an offset and a stride: no arithmetic, no
 * out-of-range read to guard), so recomputing them costs nothing and they do not count as ops.
 * Why it matters: an LSTM step computes i, f, g, o as slices of one [N, 4H] product. Without
 * this, each gate's `slice → activation` is a kernel of its own that stores its gate, and the
 * step takes four elementwise kernels; with it, the gates are read straight from the product
 * inside the two kernels a step needs (c_t and h_t: two values stored, so two kernels).
 */
const SHIFTED_READS: ReadonlySet<OpName> = new Set<OpName>(['slice']);
const recomputable = (n: Node): boolean => opDef(n.op).kind === 'elementwise' || SHIFTED_READS.has(n.op);
const computeOps = (ns: readonly Node[]): number => ns.filter((n) => !SHIFTED_READS.has(n.op)).length;
const RECOMPUTE_MAX_READERS = 2;
/**
 * Ops too dear to compute twice: a group holding one is recomputed inside a single reader only.
 * Softmax's exp(x − max) has two readers (its sum and the division); computed in both, exp (about
 * 20 vector instructions per 4 lanes, simd-rows-math.ts) cost a Transformer block's softmax 1.28 ms
 * against 0.87 ms with exp stored once and read back (batch 32, 4 heads, 64 × 64 scores).
 */
const COSTLY: ReadonlySet<OpName> = new Set<OpName>(['exp']);

/**
 * A concat along the last axis reads each part at most once per element, at a shifted index, and
 * its SIMD kernel computes each part only over that part's stretch of the row (simd-rows.ts), so
 * a cheap part is computed there instead of stored and copied: an LSTM step's h = o ⊙ tanh(c)
 * inside the new carry [h, c]. (Along another axis the concat stays a JavaScript kernel, slower
 * than the part's own SIMD kernel.)
 */
const joinsOnLastAxis = (n: Node): boolean => {
  const rank = n.type.shape.length;
  return normAxis(n.attrs.axis as number, rank) === rank - 1;
};
/** ... and whose expression has at most this many nodes (a reader may read it more than once). */
const RECOMPUTE_MAX_SIZE = 32;

/** Whether `reader` reads `value` once per element it computes, inside its own loop. */
function readsOncePerElement(reader: Node, value: Node, group: FusedGroup): boolean {
  const def = opDef(reader.op);
  if (def.kind === 'elementwise') return sameShape(reader.type.shape, value.type.shape);
  if (reader.op === 'concat') return group.members[0] === reader && joinsOnLastAxis(reader);
  return !!def.readsOnce && group.members[0] === reader;
}

/** Folds each cheap elementwise group into the groups that read it (as a prologue) and drops it. */
function recomputeCheapProducers(
  groups: readonly FusedGroup[],
  users: ReadonlyMap<Node, readonly Node[]>,
  outputs: ReadonlySet<Node>,
  sizes: ReadonlyMap<Node, number>,
): FusedGroup[] {
  // Sizes grow with each prologue; a reader may read the recomputed value more than once, so count it twice.
  const size = new Map(sizes);
  const groupOf = new Map<Node, FusedGroup>();
  const place = (group: FusedGroup) => [...group.members, ...(group.recomputed ?? [])].forEach((m) => groupOf.set(m, group));
  groups.forEach(place);
  const kept = new Set(groups);
  for (const original of groups) {
    // The group as it is now: it may have grown a prologue of its own already.
    const g = groupOf.get(original.members[0])!;
    if (!kept.has(g) || outputs.has(g.root) || computeOps([...g.members, ...(g.recomputed ?? [])]) > RECOMPUTE_MAX_OPS) continue;
    if (!g.members.every(recomputable)) continue;
    if ((size.get(g.root) ?? Infinity) > RECOMPUTE_MAX_SIZE) continue;
    const readers = [...new Set(users.get(g.root) ?? [])];
    const targets = readers.map((r) => groupOf.get(r));
    if (readers.length === 0 || readers.length > RECOMPUTE_MAX_READERS) continue;
    if (readers.length > 1 && [...g.members, ...(g.recomputed ?? [])].some((m) => COSTLY.has(m.op))) continue;
    if (!readers.every((r, i) => targets[i] && targets[i] !== g && readsOncePerElement(r, g.root, targets[i]!))) continue;
    if (new Set(targets).size !== targets.length) continue;
    if (targets.some((t) => (size.get(t!.root) ?? Infinity) + 2 * size.get(g.root)! > MAX_EXPR_SIZE)) continue;
    kept.delete(g);
    for (const t of targets as FusedGroup[]) {
      const grown: FusedGroup = { root: t.root, members: t.members, recomputed: [...(t.recomputed ?? []), ...(g.recomputed ?? []), ...g.members] };
      size.set(t.root, (size.get(t.root) ?? 0) + 2 * (size.get(g.root) ?? 0));
      kept.delete(t);
      kept.add(grown);
      place(grown);
    }
  }
  // Keep the original order: a grown group stands where the group it grew from stood.
  return groups.flatMap((g) => {
    const now = groupOf.get(g.members[0]);
    return now && kept.has(now) && now.members[0] === g.members[0] ? [now] : [];
  });
}
