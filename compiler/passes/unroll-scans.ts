// Unrolling: every scan rewritten into T copies of its body (the time loop spelled out). The
// GPU.js backend, which has no host loop, compiles this form; tests compare it with the loop.
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes, rewriteGraph, type Graph } from '../../src/ir/graph.ts';
import type { Node, NodeMeta } from '../../src/ir/node.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import { BATCH, type Dim } from '../../src/ir/shape.ts';
import { withInputs } from '../../src/ir/build.ts';

/** The body's output computed from `args` in place of its inputs (its nodes copied; constants shared). */
export function inlineBody(body: Graph, args: readonly Node[], meta: NodeMeta): Node {
  const map = new Map<Node, Node>(body.inputs.map((n, i) => [n, args[i]]));
  for (const n of graphNodes(body)) {
    if (map.has(n)) continue;
    map.set(n, n.inputs.length === 0 ? n : makeNode(n.op, n.inputs.map((i) => map.get(i)!), n.attrs as Record<string, unknown>, n.meta.layer ? n.meta : meta));
  }
  return map.get(body.outputs[0].node)!;
}

const target = (shape: readonly Dim[]): Dim[] => (shape[0] === BATCH ? [-1, ...shape.slice(1)] : [...shape]);

/** One scan as T inlined bodies: the carries in time order, stacked on axis 1 or the last alone. */
function unrollScan(n: Node): Node {
  const a = n.attrs as unknown as ScanAttrs;
  const [init, ...rest] = n.inputs;
  const seqs = rest.slice(0, a.sequenceCount);
  const invs = rest.slice(a.sequenceCount);
  const op = (o: Parameters<typeof makeNode>[0], ins: readonly Node[], attrs: Record<string, unknown>) => makeNode(o, ins, attrs, n.meta);
  const at = (x: Node, t: number) => op('reshape', [op('slice', [x], { starts: [t], ends: [t + 1], axes: [1], steps: [1] })], { shape: target([x.type.shape[0], ...x.type.shape.slice(2)]) });
  const carries = new Array<Node>(a.steps);
  let carry = init;
  for (let k = 0; k < a.steps; k++) {
    const t = a.reverse ? a.steps - 1 - k : k;
    carry = inlineBody(a.body, [carry, ...seqs.map((x) => at(x, t)), ...invs], n.meta);
    carries[t] = carry;
  }
  if (!a.stack) return carry;
  const c = init.type.shape;
  const rows = carries.map((h) => op('reshape', [h], { shape: target([c[0], 1, ...c.slice(1)]) }));
  return rows.length === 1 ? rows[0] : op('concat', rows, { axis: 1 });
}

/** The graph with no scan left (nested scans unrolled too: one round per level of nesting). */
export function unrollScans(g: Graph): Graph {
  let graph = g;
  while (graphNodes(graph).some((n) => n.op === 'scan')) {
    graph = rewriteGraph(graph, (node, rebuild) => {
      const n = withInputs(node, node.inputs.map(rebuild));
      return n.op === 'scan' ? unrollScan(n) : n;
    });
  }
  return graph;
}
