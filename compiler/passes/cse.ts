// Common-subexpression elimination: nodes with the same op, attributes and inputs become one.
import { withInputs } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { rewriteGraph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';

/** A number per scan body, by identity: a body is a graph, never stringified (that would walk it, and equal text need not be the same loop). */
const bodyIds = new WeakMap<object, number>();
let nextBody = 0;
const bodyId = (body: object): number => {
  if (!bodyIds.has(body)) bodyIds.set(body, nextBody++);
  return bodyIds.get(body)!;
};

/** Attributes as a canonical string (keys sorted), so {a,b} and {b,a} match. */
function attrsKey(op: string, attrs: unknown): string {
  // Non-finite numbers and -0 are spelled out: JSON writes ±Infinity and NaN as null, and -0 as 0.
  return JSON.stringify(attrs, (k, v) => {
    if (op === 'scan' && k === 'body') return `#body${bodyId(v as object)}`;
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return Object.is(v, -0) ? '#-0' : `#${v}`;
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v;
  });
}

export function eliminateCommonSubexpressions(g: Graph): Graph {
  const seen = new Map<string, Node>();
  return rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    // Inputs and parameters are distinct by name; anything else by what it computes.
    const key = `${n.op}|${attrsKey(n.op, n.attrs)}|${n.inputs.map((i) => i.id).join(',')}`;
    const twin = seen.get(key);
    if (twin) return twin;
    seen.set(key, n);
    return n;
  });
}
