// A scan sequence that is an input projection, S = X·W + b over every time step at once, read by
// the scan alone, becomes X itself: the body projects its own time slice, x_t·W + b. A recurrent
// layer's projection [N, T, G·H] (3.2 MB for the LSTM benchmark) was written whole before the loop
// and read back a step at a time, each step copying G·H floats a row (512) where x_t has F (64).
// Where the body adds that slice to a product of its own, x + h·R (every cell's pre-activation),
// the two products become one, [x_t | h]·[W; R] + b: one longer reduction instead of two kernels,
// with [W; R] concatenated once a call, outside the loop. The training graph keeps S (the
// backward scan reads it), so only inference graphs change.
import { makeNode, withInputs } from '../../src/ir/build.ts';
import { consumers, graphNodes, rewriteGraph, type Graph } from '../../src/ir/graph.ts';
import type { Node, NodeMeta, TensorType } from '../../src/ir/node.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';

/** S = matmul(X, W) (+ b): X [N, T, F], W [F, G] and b [G] (or absent) plain operands. */
interface Projection {
  readonly x: Node;
  readonly w: Node;
  readonly b?: Node;
}

const plainMatmul = (n: Node): boolean => n.op === 'matmul' && !n.attrs.transA && !n.attrs.transB;

/** S as a projection of a [N, T, F] sequence, if it is one and nothing but its scan reads it or its product. */
function projectionOf(s: Node, users: ReadonlyMap<Node, readonly Node[]>, scan: Node): Projection | undefined {
  const only = (n: Node, reader: Node) => (users.get(n) ?? []).every((u) => u === reader);
  if (!only(s, scan) || scan.inputs.filter((i) => i === s).length !== 1) return undefined;
  let m = s;
  let b: Node | undefined;
  if (s.op === 'add') {
    const [p, q] = s.inputs;
    [m, b] = plainMatmul(p) ? [p, q] : [q, p];
    if (!b || b.type.shape.length !== 1 || !only(m, s)) return undefined;
  }
  if (!plainMatmul(m)) return undefined;
  const [x, w] = m.inputs;
  if (x.type.shape.length !== 3 || w.type.shape.length !== 2) return undefined;
  return { x, w, b };
}

const leaf = (name: string, t: TensorType) => makeNode('input', [], { name, dtype: t.dtype, shape: [...t.shape] });

/** Where the body adds sequence leaf `s` to a plain product of its own with an invariant leaf: that add and the product. */
function mergeSite(body: Graph, s: Node, invariants: ReadonlySet<Node>): { add: Node; product: Node } | undefined {
  const users = consumers(graphNodes(body));
  const readers = users.get(s) ?? [];
  const add = readers[0];
  if (readers.length !== 1 || add.op !== 'add') return undefined;
  const product = add.inputs[0] === s ? add.inputs[1] : add.inputs[0];
  if (add.inputs.filter((i) => i === s).length !== 1 || !plainMatmul(product) || !invariants.has(product.inputs[1])) return undefined;
  if ((users.get(product) ?? []).length !== 1) return undefined;
  // The sum must be the product's shape (no broadcast of x_t or of the product).
  return product.type.shape.join() === add.type.shape.join() && s.type.shape.join() === add.type.shape.join() ? { add, product } : undefined;
}

/** The scan with sequence `j` (a projection) replaced by its source, the body projecting each slice. */
function sunk(scan: Node, j: number, p: Projection, meta: NodeMeta): Node {
  const a = scan.attrs as unknown as ScanAttrs;
  const body = a.body;
  const S = a.sequenceCount;
  const old = body.inputs[1 + j];
  const [rows, , features] = p.x.type.shape;
  // The body's inputs need distinct names: a new one takes a suffix until it is.
  const taken = new Set(body.inputs.map((n) => String(n.attrs.name)));
  const fresh = (base: string) => {
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const x = leaf(fresh(`${String(old.attrs.name)}_source`), { dtype: p.x.type.dtype, shape: [rows, features] });
  const invariantLeaves = new Set(body.inputs.slice(1 + S));
  const site = mergeSite(body, old, invariantLeaves);
  const op = (o: Parameters<typeof makeNode>[0], ins: Node[], attrs: Record<string, unknown> = {}) => makeNode(o, ins, attrs, meta);
  // Outside: the weights the body reads, [W; R] stacked once where the products merge.
  const r = site ? scan.inputs[body.inputs.indexOf(site.product.inputs[1])] : undefined;
  const weights = r ? op('concat', [p.w, r], { axis: 0 }) : p.w;
  const wLeaf = leaf(fresh(`${String(old.attrs.name)}_weights`), weights.type);
  const bLeaf = p.b ? leaf(fresh(`${String(old.attrs.name)}_bias`), p.b.type) : undefined;
  const biased = (t: Node) => (bLeaf ? op('add', [t, bLeaf]) : t);
  const done = new Map<Node, Node>();
  for (const n of graphNodes(body)) {
    // Merged, the slice's only reader (the add) takes the one product instead.
    if (n === old) done.set(n, site ? x : biased(op('matmul', [x, wLeaf])));
    else if (site && n === site.add) done.set(n, biased(op('matmul', [op('concat', [x, done.get(site.product.inputs[0])!], { axis: -1 }), wLeaf])));
    else done.set(n, n.op === 'input' ? n : withInputs(n, n.inputs.map((i) => done.get(i)!)));
  }
  const result = done.get(body.outputs[0].node)!;
  // Invariants the body no longer reads (R, now inside [W; R]) leave the scan.
  const read = new Set(graphNodes({ name: body.name, inputs: [], outputs: [{ name: 'r', node: result }] }));
  const kept = (i: number) => i <= S || read.has(body.inputs[i]);
  const pairs = body.inputs.map((n, i) => [i === 1 + j ? x : n, i === 1 + j ? p.x : scan.inputs[i]] as const).filter((_, i) => kept(i));
  const added: (readonly [Node, Node])[] = [[wLeaf, weights], ...(bLeaf && p.b ? [[bLeaf, p.b] as const] : [])];
  const all = [...pairs, ...added];
  const newBody: Graph = { name: body.name, inputs: all.map(([inner]) => inner), outputs: [{ name: body.outputs[0].name, node: result }] };
  return makeNode('scan', all.map(([, outer]) => outer), { ...a, body: newBody } as unknown as Record<string, unknown>, scan.meta);
}

/** Every scan's first projected sequence sunk into its body (one a scan: the recurrent layers have one sequence). */
export function sinkProjections(g: Graph): Graph {
  const nodes = graphNodes(g);
  const users = consumers(nodes);
  const outputs = new Set(g.outputs.map((o) => o.node));
  const plans = new Map<Node, { j: number; p: Projection }>();
  for (const n of nodes) {
    if (n.op !== 'scan') continue;
    const a = n.attrs as unknown as ScanAttrs;
    for (let j = 0; j < a.sequenceCount && !plans.has(n); j++) {
      const s = n.inputs[1 + j];
      const p = outputs.has(s) ? undefined : projectionOf(s, users, n);
      if (p) plans.set(n, { j, p });
    }
  }
  if (plans.size === 0) return g;
  return rewriteGraph(g, (node, rebuild) => {
    const n = withInputs(node, node.inputs.map(rebuild));
    const plan = plans.get(node);
    if (!plan) return n;
    const p = { x: rebuild(plan.p.x), w: rebuild(plan.p.w), b: plan.p.b && rebuild(plan.p.b) };
    return sunk(n, plan.j, p, node.meta);
  });
}
