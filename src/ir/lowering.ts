// Lowering one node to the kernel language, and expanding composite ops: shared by the
// reference interpreter and the compiler, so both give an op the same meaning.
import * as E from './expr.ts';
import type { Expr } from './expr.ts';
import { makeNode } from './build.ts';
import { internal } from './errors.ts';
import type { Node } from './node.ts';
import { opDef, type OpName } from './ops/index.ts';

/** Output index variables of a kernel of rank `rank`: o0, o1, ... */
export const outVars = (rank: number): Expr[] => Array.from({ length: rank }, (_, i) => E.v(`o${i}`));

/**
 * The expression for `node`'s element at `out`. `read(i, index)` supplies input i's element;
 * `fresh` names reduction variables uniquely within the kernel being built.
 */
export function lowerNode(node: Node, out: readonly Expr[], read: (i: number, index: readonly Expr[]) => Expr, fresh: (p: string) => string): Expr {
  const def = opDef(node.op);
  if (!def.lower) internal(`op ${node.op} (${def.kind}) has no lowering rule`);
  return def.lower(
    { out, inputs: node.inputs.map((i) => i.type), output: node.type, load: read, fresh },
    node.attrs,
  );
}

/** A fresh-name generator: k0, k1, c2 ... unique per call of the returned function. */
export function freshNames(): (prefix: string) => string {
  let n = 0;
  return (prefix) => `${prefix}${n++}`;
}

/** The primitive-op subgraph a composite node stands for (its layer metadata carried over). */
export function expandComposite(node: Node): Node {
  const def = opDef(node.op);
  if (!def.decompose) internal(`op ${node.op} is not composite`);
  const emit = (op: OpName, inputs: readonly Node[], attrs: Record<string, unknown> = {}) => makeNode(op, inputs, attrs, node.meta);
  return def.decompose(node.inputs, node.attrs, emit);
}
