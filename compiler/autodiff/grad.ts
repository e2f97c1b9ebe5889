// Reverse-mode differentiation on the IR: walks the graph backwards from a scalar, applying each
// op's VJP rule from the gradient table and summing the contributions to every node.
import { makeNode } from '../../src/ir/build.ts';
import { KilnError, formatSite } from '../../src/ir/errors.ts';
import { topoSort } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { BATCH, sameShape } from '../../src/ir/shape.ts';
import { vjpOf, ZERO, type GradBuilder } from './vjp.ts';

/** A builder whose nodes carry the forward node's layer, so gradient kernels name their layer. */
function builderFor(forward: Node): GradBuilder {
  const meta = forward.meta;
  const b: GradBuilder = {
    op: (op, inputs, attrs = {}) => makeNode(op, inputs, attrs, meta),
    scalar: (value) => makeNode('const', [], { dtype: forward.type.dtype === 'int32' ? 'float32' : forward.type.dtype, shape: [], values: [value] }, meta),
    unbroadcast(g, target) {
      const gs = g.type.shape;
      const ts = target.type.shape;
      if (sameShape(gs, ts)) return g;
      const lead = gs.length - ts.length;
      const axes = gs.map((_, i) => i).filter((i) => i < lead || (ts[i - lead] === 1 && gs[i] !== 1));
      const summed = makeNode('reduceSum', [g], { axes, keepdims: true }, meta);
      const shape = ts[0] === BATCH ? [-1, ...ts.slice(1)] : [...ts];
      return makeNode('reshape', [summed], { shape }, meta);
    },
    backprop: (root, seed, wrt) => backprop(root, seed, wrt),
  };
  return b;
}

/** The nodes on some path from a `wrt` node to `loss`: only they need gradients. */
function onPath(order: readonly Node[], wrt: ReadonlySet<Node>): Set<Node> {
  const reach = new Set<Node>();
  for (const n of order) if (wrt.has(n) || n.inputs.some((i) => reach.has(i))) reach.add(n);
  return reach;
}

/**
 * Gradients of the scalar `loss` with respect to each node of `wrt`, as new graph nodes.
 * Throws a KilnError naming the op and layer when the path crosses a non-differentiable op.
 */
export function gradients(loss: Node, wrt: readonly Node[], seed?: Node): Map<Node, Node> {
  if (loss.type.shape.length !== 0) throw new KilnError(`gradients need a scalar loss, got shape [${loss.type.shape.join(', ')}]`);
  return backprop(loss, seed ?? builderFor(loss).scalar(1), wrt);
}

/**
 * The vector-Jacobian product of `root` (any shape) with the cotangent `seed` (root's type), with
 * respect to each node of `wrt`: what a scan's backward body is built from (compiler/autodiff/scan-vjp.ts).
 */
export function backprop(root: Node, seed: Node, wrt: readonly Node[]): Map<Node, Node> {
  const loss = root;
  const order = topoSort([loss]);
  const needed = onPath(order, new Set(wrt));
  const adjoint = new Map<Node, Node>();
  adjoint.set(loss, seed);
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    const g = adjoint.get(node);
    if (!g || node.inputs.length === 0 || !node.inputs.some((x) => needed.has(x))) continue;
    const rule = vjpOf(node.op);
    if (typeof rule !== 'function') throw notDifferentiable(node, undefined, rule.notDifferentiable);
    const grads = rule(g, node, builderFor(node));
    node.inputs.forEach((x, k) => {
      const gx = grads[k];
      if (!needed.has(x)) return;
      if (!gx) throw notDifferentiable(node, k);
      if (gx === ZERO) return;
      const prev = adjoint.get(x);
      adjoint.set(x, prev ? makeNode('add', [prev, gx], {}, x.meta) : gx);
    });
  }
  return new Map(wrt.map((w) => [w, adjoint.get(w) ?? builderFor(w).op('mul', [w, builderFor(w).scalar(0)])]));
}

function notDifferentiable(node: Node, input?: number, reason?: string): KilnError {
  const site = formatSite({ op: node.op, layer: node.meta.layer, source: node.meta.source });
  const which = input === undefined ? '' : ` with respect to its input ${input}`;
  const why = reason === undefined ? '' : ` (${reason})`;
  return new KilnError(`${site}: op '${node.op}' is not differentiable${which}${why}; a gradient was asked through it`);
}
