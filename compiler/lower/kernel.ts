// Lowering: a fused group becomes a kernel, one expression for the element at each output index.
import type { DType } from '../../src/ir/dtype.ts';
import { internal } from '../../src/ir/errors.ts';
import * as E from '../../src/ir/expr.ts';
import type { Expr } from '../../src/ir/expr.ts';
import { freshNames, lowerNode, outVars } from '../../src/ir/lowering.ts';
import type { Node, TensorType } from '../../src/ir/node.ts';
import type { Shape } from '../../src/ir/shape.ts';
import type { FusedGroup } from '../fuse/fuse.ts';

/**
 * A lowered kernel: `expr` gives output element (o0, o1, ...) of `shape`; its `load`s read
 * `inputs[slot]` through that node's shape. It contains at most one distinct reduction.
 */
export interface Kernel {
  readonly name: string;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly inputs: readonly TensorType[];
  readonly expr: Expr;
  /** The graph values behind each input slot, and the value the kernel stores. */
  readonly reads: readonly Node[];
  readonly writes: Node;
  /** The ops fused into this kernel, anchor first, for comments and inspection. */
  readonly ops: readonly string[];
  /** Elementwise ops recomputed where this kernel reads them (in evaluation order), instead of read from a buffer. */
  readonly recomputes: readonly string[];
  readonly layers: readonly string[];
}

export function lowerGroup(group: FusedGroup, index: number, prefix = 'k'): Kernel {
  const members = new Set([...group.members, ...(group.recomputed ?? [])]);
  const reads: Node[] = [];
  const fresh = freshNames();
  const slot = (n: Node): number => {
    const at = reads.indexOf(n);
    if (at >= 0) return at;
    reads.push(n);
    return reads.length - 1;
  };
  const valueAt = (n: Node, out: readonly Expr[]): Expr =>
    members.has(n) ? lowerNode(n, out, (i, idx) => valueAt(n.inputs[i], idx), fresh) : E.load(slot(n), out);
  const root = group.root;
  const expr = valueAt(root, outVars(root.type.shape.length));
  if (E.reductions(expr).length > 1) internal(`kernel ${index} has more than one reduction`);
  const layers = [...new Set(group.members.map((m) => m.meta.layer).filter((l): l is string => !!l))];
  return {
    name: `${prefix}${index}`,
    shape: root.type.shape,
    dtype: root.type.dtype,
    inputs: reads.map((r) => r.type),
    expr,
    reads,
    writes: root,
    ops: group.members.map((m) => m.op),
    recomputes: (group.recomputed ?? []).map((m) => m.op),
    layers,
  };
}

/** `matmul → add → relu`, or `reduceSum [recomputes sub → exp]`: what a kernel computes, for comments and listings. */
export function describeOps(k: Kernel): string {
  return `${k.ops.join(' → ')}${k.recomputes.length ? ` [recomputes ${k.recomputes.join(' → ')}]` : ''}`;
}
