// How big a fused kernel's expression grows: fusion keeps every kernel's expression tree small,
// because renderers walk it recursively and an op that reads its input twice (elu, gelu, x·x)
// doubles the tree of everything fused before it.
import * as E from '../../src/ir/expr.ts';
import type { Expr } from '../../src/ir/expr.ts';
import { freshNames, lowerNode, outVars } from '../../src/ir/lowering.ts';
import type { Node } from '../../src/ir/node.ts';

/** Most ops one kernel fuses (anchor, epilogue and recomputed producers). */
export const MAX_FUSED_OPS = 64;
/** Most expression nodes (counted per occurrence, as a tree) one kernel's expression may have. */
export const MAX_EXPR_SIZE = 512;

/** Tree size of an expression, counting every occurrence of a shared subtree (iterative). */
export function treeSize(root: Expr, leaf: (e: Expr) => number | undefined = () => undefined): number {
  let size = 0;
  const stack: Expr[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    const given = leaf(e);
    if (given !== undefined) {
      size += given;
      continue;
    }
    size++;
    E.forEachChild(e, (c) => stack.push(c));
  }
  return size;
}

/**
 * The tree size of `node`'s lowered expression when input `i`, wherever it is read, stands for
 * a subtree of `inputSize(i)` nodes (1 for a plain load): what fusing `node` onto its producers
 * would make the kernel's expression.
 */
export function fusedSize(node: Node, inputSize: (i: number) => number): number {
  const loads = new Map<Expr, number>();
  const read = (i: number, index: readonly Expr[]): Expr => {
    const e = E.load(i, index);
    loads.set(e, i);
    return e;
  };
  const expr = lowerNode(node, outVars(node.type.shape.length), read, freshNames());
  return treeSize(expr, (e) => {
    const i = loads.get(e);
    if (i === undefined || e.k !== 'load') return undefined;
    return inputSize(i) + e.index.reduce((sum, x) => sum + treeSize(x), 0);
  });
}
