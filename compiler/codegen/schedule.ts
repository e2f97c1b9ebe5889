// Loop scheduling shared by source renderers: which subexpressions become named temporaries,
// and at which loop level each is computed (as early as the variables it reads allow).
import type { Expr } from '../../src/ir/expr.ts';
import { exprKey, forEachChild as forChildren } from '../../src/ir/expr.ts';
import type { Dim } from '../../src/ir/shape.ts';
import type { Kernel } from '../lower/kernel.ts';

export interface Loop {
  readonly name: string;
  readonly extent: Dim;
}

/** A temporary: computed once at `level` (-1 = before any loop), before or after the reduction. */
export interface Temp {
  readonly name: string;
  readonly expr: Expr;
  readonly level: number;
  readonly afterReduce: boolean;
}

export interface Schedule {
  /** Output loops o0..o(r-1), then the reduction's loops. */
  readonly outLoops: readonly Loop[];
  readonly reduceLoops: readonly Loop[];
  readonly reduce: Extract<Expr, { k: 'reduce' }> | null;
  /** Temporaries in dependency order; keyed by structural key for the renderer's lookups. */
  readonly temps: readonly Temp[];
  readonly tempByKey: ReadonlyMap<string, Temp>;
}

export function schedule(k: Kernel): Schedule {
  const outLoops = k.shape.map((extent, i) => ({ name: `o${i}`, extent }));
  const reduceNodes: Extract<Expr, { k: 'reduce' }>[] = [];
  const uses = new Map<string, number>();
  // Count each distinct subexpression's uses; a repeated subtree's children are counted once.
  const countUses = (e: Expr): void => {
    const key = exprKey(e);
    const n = (uses.get(key) ?? 0) + 1;
    uses.set(key, n);
    if (n > 1) return;
    if (e.k === 'reduce') reduceNodes.push(e);
    forChildren(e, (c) => countUses(c));
  };
  countUses(k.expr);
  const reduce = reduceNodes[0] ?? null;
  const reduceLoops = reduce ? reduce.vars.map((v) => ({ name: v.name, extent: v.extent })) : [];
  const levelOfVar = new Map<string, number>([...outLoops, ...reduceLoops].map((l, i) => [l.name, i]));
  const rank = outLoops.length;
  const reduceKey = reduce ? exprKey(reduce) : '';

  const temps: Temp[] = [];
  const tempByKey = new Map<string, Temp>();
  const info = new Map<string, { level: number; hasReduce: boolean }>();
  // Post-order: children first, so temps come out in dependency order.
  const visit = (e: Expr, inBranch: boolean): { level: number; hasReduce: boolean } => {
    const key = exprKey(e);
    const known = info.get(key);
    if (known) return known;
    let level = e.k === 'var' ? (levelOfVar.get(e.name) ?? -1) : -1;
    let hasReduce = e.k === 'reduce';
    forChildren(e, (c, branch) => {
      if (e.k === 'reduce') return; // a reduction's body is scheduled inside its own loops
      const sub = visit(c, inBranch || branch);
      level = Math.max(level, sub.level);
      hasReduce ||= sub.hasReduce;
    });
    if (e.k === 'reduce') {
      visitBody(e.body);
      level = rank - 1;
    }
    const result = { level: hasReduce ? Math.max(level, rank - 1) : level, hasReduce };
    info.set(key, result);
    const worthNaming = e.k === 'load' || ((uses.get(key) ?? 0) > 1 && e.k !== 'const' && e.k !== 'var');
    if (worthNaming && !inBranch && key !== reduceKey) {
      const t = { name: `t${temps.length}`, expr: e, level: result.level, afterReduce: hasReduce };
      temps.push(t);
      tempByKey.set(key, t);
    }
    return result;
  };
  const visitBody = (body: Expr) => visit(body, false);
  visit(k.expr, false);
  return { outLoops, reduceLoops, reduce, temps, tempByKey };
}
