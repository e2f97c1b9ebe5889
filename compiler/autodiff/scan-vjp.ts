// Backpropagation through time: the VJP of `scan` is built from scans, so the gradient graph
// stays one loop node per pass over time however many steps there are (docs/design/time.md).
//
// Forward, step k (at time t) computes c_t = f(c_prev(t), x_t, w). Backward, in the opposite
// order, the carry is λ, the cotangent of the carry: λ_post(t) = λ + gY_t (the output's
// cotangent at t, when every carry is an output), then (λ, dx_t) = VJP of f at the step's own
// inputs applied to λ_post(t). The forward's stacked output already holds every carry, so the
// previous carries are a shifted view of it ([init, Y[:, :T-1]]): no extra memory is saved.
//  - Scan A (stacked) carries [λ | dx_t | λ_post(t)] packed on the last axis, one row per batch
//    row: its stacked output gives every dx_t and λ_post(t); its last step's λ is the init's gradient.
//  - Scan B (not stacked, one per group of invariants) accumulates the invariants' gradients,
//    Σ_t VJP_w f(c_prev(t), x_t, w)[λ_post(t)], in its carry: a sum over steps without [T, …] memory.
// Both bodies are the forward body inlined on the backward body's inputs and differentiated by
// the same machinery as any graph (`backprop`), built once.
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Node, NodeMeta, TensorType } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import { BATCH, isBatched, sampleSize, type Dim } from '../../src/ir/shape.ts';
import { inlineBody } from '../passes/unroll-scans.ts';

type Op = (op: OpName, inputs: readonly Node[], attrs?: Record<string, unknown>) => Node;

/** What the rule uses of vjp.ts's GradBuilder (declared here, so this file and vjp.ts do not import each other). */
export interface ScanGradBuilder {
  op: Op;
  backprop(root: Node, seed: Node, wrt: readonly Node[]): Map<Node, Node>;
}

/** A reshape target for `shape` (a batch first becomes -1). */
const target = (shape: readonly Dim[]): Dim[] => (shape[0] === BATCH ? [-1, ...shape.slice(1)] : [...shape]);
/** Elements per row: everything after the first axis. */
const rowWidth = (t: TensorType) => sampleSize(t.shape.slice(1));
const isFloat = (t: TensorType) => t.dtype !== 'int32';

interface Parts {
  op: Op;
  a: ScanAttrs;
  T: number;
  /** Rows of every carry and slice: the carry's first dimension. */
  rows: Dim;
  backprop: ScanGradBuilder['backprop'];
}

const slice = (p: Parts, x: Node, axis: number, start: number, end: number) => p.op('slice', [x], { starts: [start], ends: [end], axes: [axis], steps: [1] });
/** [rows, …] flattened to [rows, width]. */
const flat = (p: Parts, x: Node) => p.op('reshape', [x], { shape: target([p.rows, rowWidth(x.type)]) });
const zeros = (p: Parts, shape: readonly Dim[], like: TensorType) => {
  const zero = p.op('const', [], { dtype: like.dtype, shape: [], values: [0] });
  return p.op('expand', [zero], { shape: [...shape] });
};
const input = (name: string, t: TensorType, meta: NodeMeta) => makeNode('input', [], { name, dtype: t.dtype, shape: [...t.shape] }, meta);

/** Every step's previous carry, [rows, T, …]: the init and the stacked output shifted by one step. */
function previousCarries(p: Parts, init: Node, stacked: Node): Node {
  const c = init.type.shape;
  const first = p.op('reshape', [init], { shape: target([c[0], 1, ...c.slice(1)]) });
  if (p.T === 1) return first;
  return p.a.reverse ? p.op('concat', [slice(p, stacked, 1, 1, p.T), first], { axis: 1 }) : p.op('concat', [first, slice(p, stacked, 1, 0, p.T - 1)], { axis: 1 });
}

export function scanVjp(g: Node, n: Node & { attrs: ScanAttrs }, b: ScanGradBuilder): (Node | null)[] {
  const a = n.attrs;
  const S = a.sequenceCount;
  const [init, ...rest] = n.inputs;
  const seqs = rest.slice(0, S);
  const invs = rest.slice(S);
  // A carry without rows (a scalar) cannot be stacked: no saved carries, no gradient.
  if (init.type.shape.length === 0 || !isFloat(init.type)) return n.inputs.map(() => null);
  // A final-carry scan is differentiated through a stacked twin, which needs the rows to agree.
  if (seqs.length && init.type.shape[0] !== seqs[0].type.shape[0]) return n.inputs.map(() => null);
  const meta = n.meta;
  const op: Op = (o, ins, attrs = {}) => b.op(o, ins, attrs);
  const p: Parts = { op, a, T: a.steps, rows: init.type.shape[0], backprop: b.backprop };
  // The forward's every carry: the node itself, or (final carry only) a stacked twin of it.
  const stacked = a.stack ? n : op('scan', n.inputs, { ...a, stack: true });
  const prev = previousCarries(p, init, stacked);
  const diffSeqs = seqs.map((x) => isFloat(x.type));
  const carryT = init.type;
  const sliceT = (x: Node): TensorType => ({ dtype: x.type.dtype, shape: [x.type.shape[0], ...x.type.shape.slice(2)] });
  const Cw = rowWidth(carryT);
  const Xw = seqs.map((x, j) => (diffSeqs[j] ? sampleSize(x.type.shape.slice(2)) : 0));
  const total = Cw + Xw.reduce((s, w) => s + w, 0) + Cw;

  // Scan A: λ back through time, with each step's dx_t and λ_post(t) beside it.
  const q = input('packed', { dtype: carryT.dtype, shape: [p.rows, total] }, meta);
  const gyIn = a.stack ? [input('gy', carryT, meta)] : [];
  const prevIn = input('prev', carryT, meta);
  const xIns = seqs.map((x, j) => input(`x${j}`, sliceT(x), meta));
  const wIns = invs.map((w, k) => input(`w${k}`, w.type, meta));
  const lambdaIn = op('reshape', [slice(p, q, 1, 0, Cw)], { shape: target(carryT.shape) });
  const post = a.stack ? op('add', [lambdaIn, gyIn[0]]) : lambdaIn;
  const out = inlineBody(a.body, [prevIn, ...xIns, ...wIns], meta);
  const wrtA = [prevIn, ...xIns.filter((_, j) => diffSeqs[j])];
  const gradsA = p.backprop(out, post, wrtA);
  const packedOut = op('concat', [flat(p, gradsA.get(prevIn)!), ...xIns.filter((_, j) => diffSeqs[j]).map((x) => flat(p, gradsA.get(x)!)), flat(p, post)], { axis: 1 });
  const bodyA: Graph = { name: `${a.body.name}_bptt`, inputs: [q, ...gyIn, prevIn, ...xIns, ...wIns], outputs: [{ name: 'packed', node: packedOut }] };
  const startA = a.stack ? zeros(p, [p.rows, total], carryT) : op('concat', [flat(p, g), zeros(p, [p.rows, total - Cw], carryT)], { axis: 1 });
  const A = op('scan', [startA, ...(a.stack ? [g] : []), prev, ...seqs, ...invs], { body: bodyA, steps: p.T, reverse: !a.reverse, sequenceCount: S + 1 + (a.stack ? 1 : 0), stack: true });

  // The init's gradient: λ after the last step A runs (time 0 forward, T−1 reversed).
  const tLast = a.reverse ? p.T - 1 : 0;
  const dInit = op('reshape', [op('slice', [A], { starts: [tLast, 0], ends: [tLast + 1, Cw], axes: [1, 2], steps: [1, 1] })], { shape: target(carryT.shape) });
  let offset = Cw;
  const dSeqs = seqs.map((x, j) => {
    if (!diffSeqs[j]) return null;
    const part = op('reshape', [slice(p, A, 2, offset, offset + Xw[j])], { shape: target(x.type.shape) });
    offset += Xw[j];
    return part;
  });
  const posts = op('reshape', [slice(p, A, 2, total - Cw, total)], { shape: target([p.rows, p.T, ...carryT.shape.slice(1)]) });
  return [dInit, ...dSeqs, ...invariantGradients(p, { posts, prev, seqs, invs, meta })];
}

interface InvariantInputs {
  posts: Node;
  prev: Node;
  seqs: readonly Node[];
  invs: readonly Node[];
  meta: NodeMeta;
}

/**
 * Scan B: the invariants' gradients summed over steps. Unbatched invariants (weights) share one
 * scan, packed flat into one carry; a batched one gets its own.
 */
function invariantGradients(p: Parts, s: InvariantInputs): (Node | null)[] {
  const grads: (Node | null)[] = s.invs.map(() => null);
  const float = s.invs.map((w, k) => (isFloat(w.type) ? k : -1)).filter((k) => k >= 0);
  const groups = [float.filter((k) => !isBatched(s.invs[k].type.shape)), ...float.filter((k) => isBatched(s.invs[k].type.shape)).map((k) => [k])].filter((group) => group.length);
  for (const group of groups) {
    const accumulated = accumulate(p, s, group);
    group.forEach((k, i) => (grads[k] = accumulated[i]));
  }
  return grads;
}

function accumulate(p: Parts, s: InvariantInputs, group: readonly number[]): Node[] {
  const { op } = p;
  const meta = s.meta;
  const carryT = s.prev.type;
  const sliceOf = (t: TensorType): TensorType => ({ dtype: t.dtype, shape: [t.shape[0], ...t.shape.slice(2)] });
  const postIn = input('post', sliceOf(s.posts.type), meta);
  const prevIn = input('prev', sliceOf(carryT), meta);
  const xIns = s.seqs.map((x, j) => input(`x${j}`, sliceOf(x.type), meta));
  const wIns = s.invs.map((w, k) => input(`w${k}`, w.type, meta));
  const out = inlineBody(p.a.body, [prevIn, ...xIns, ...wIns], meta);
  const grads = p.backprop(out, postIn, group.map((k) => wIns[k]));
  const single = group.length === 1;
  const w0 = s.invs[group[0]].type;
  const sizes = group.map((k) => sampleSize(s.invs[k].type.shape));
  const sum = sizes.reduce((a, b) => a + b, 0);
  const accT: TensorType = single ? w0 : { dtype: w0.dtype, shape: [sum] };
  const acc = input('acc', accT, meta);
  const step = single ? grads.get(wIns[group[0]])! : op('concat', group.map((k) => op('reshape', [grads.get(wIns[k])!], { shape: [sampleSize(s.invs[k].type.shape)] })), { axis: 0 });
  const body: Graph = { name: `${p.a.body.name}_grad_invariants`, inputs: [acc, postIn, prevIn, ...xIns, ...wIns], outputs: [{ name: 'acc', node: op('add', [acc, step]) }] };
  const start = zeros(p, accT.shape, accT);
  const B = op('scan', [start, s.posts, s.prev, ...s.seqs, ...s.invs], { body, steps: p.T, reverse: !p.a.reverse, sequenceCount: 2 + s.seqs.length, stack: false });
  if (single) return [B];
  let offset = 0;
  return group.map((k, i) => {
    const part = op('reshape', [slice(p, B, 0, offset, offset + sizes[i])], { shape: [...s.invs[k].type.shape] });
    offset += sizes[i];
    return part;
  });
}
