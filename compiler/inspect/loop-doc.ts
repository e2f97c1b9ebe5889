// Scan bodies in the inspection document. A scan's `body` attribute is a whole graph: dumped as a
// node tree it made a training document megabytes long. The document shows it as a summary (its
// node and op counts, inputs and outputs) and lists each body once as a graph of its own, a
// "loop", with the kernels the compiled program runs for it.
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import type { Dim } from '../../src/ir/shape.ts';
import type { Kernel } from '../lower/kernel.ts';
import { scheduleLoops } from '../lower/loop.ts';
import type { Program } from '../lower/plan.ts';

/** One tensor of a body's signature. */
export interface BodyTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly Dim[];
}

/** What a scan node's `body` attribute reads as in the document. */
export interface BodySummary {
  /** The body's entry in the graph's `loops`. */
  readonly loop: number;
  readonly name: string;
  readonly nodes: number;
  /** How many nodes of each op, most frequent first. */
  readonly ops: Readonly<Record<string, number>>;
  readonly inputs: readonly BodyTensor[];
  readonly outputs: readonly BodyTensor[];
}

/** A scan whose body the document lists: the graph to describe and the kernels that run it. */
export interface LoopSource {
  readonly id: number;
  readonly scan: Node;
  /** The loop whose body holds the scan; null for a scan of the graph itself. */
  readonly parent: number | null;
  /** The body as compiled (the program's loop: after the passes) where the scan is one the program runs, else as the attribute holds it. */
  readonly body: Graph;
  /** The kernels the program runs for each step (none when the body is not the compiled one). */
  readonly kernels: readonly Kernel[];
}

const tensorOf = (name: string, n: Node): BodyTensor => ({ name, dtype: n.type.dtype, shape: [...n.type.shape] });

/**
 * Every scan of `nodes` (a graph at some stage) and of the bodies inside them, parents before
 * children, numbered in that order. A worklist, not recursion: bodies nest without limit.
 */
export function loopSources(nodes: readonly Node[], program: Pick<Program, 'schedule'>): LoopSource[] {
  const compiled = new Map(scheduleLoops(program.schedule).map((l) => [l.node, l]));
  const out: LoopSource[] = [];
  const todo: { scan: Node; parent: number | null }[] = nodes.filter((n) => n.op === 'scan').map((scan) => ({ scan, parent: null }));
  for (let i = 0; i < todo.length; i++) {
    const { scan, parent } = todo[i];
    const loop = compiled.get(scan);
    const body = loop ? loop.graph : (scan.attrs as unknown as ScanAttrs).body;
    const kernels = loop ? loop.body.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : [])) : [];
    out.push({ id: i, scan, parent, body, kernels });
    for (const n of graphNodes(body)) if (n.op === 'scan') todo.push({ scan: n, parent: i });
  }
  return out;
}

/** The summary a loop's scan shows for its `body` attribute. */
export function bodySummary(l: LoopSource): BodySummary {
  const nodes = graphNodes(l.body);
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
  return {
    loop: l.id,
    name: l.body.name,
    nodes: nodes.length,
    ops: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
    inputs: l.body.inputs.map((n) => tensorOf(String(n.attrs.name), n)),
    outputs: l.body.outputs.map((o) => tensorOf(o.name, o.node)),
  };
}
