// Loop scheduling shared by source renderers: the loop order of a kernel, which subexpressions
// become named temporaries, and at which loop each is computed (as early as its variables allow).
import type { Expr } from '../../src/ir/expr.ts';
import { exprKey, forEachChild } from '../../src/ir/expr.ts';
import { BATCH, strides, type Dim } from '../../src/ir/shape.ts';
import type { Kernel } from '../lower/kernel.ts';

export interface Loop {
  readonly name: string;
  readonly extent: Dim;
}

/**
 * A temporary, computed once in the loop at position `level` of the schedule's order (-1:
 * before any loop). `inBody` temps belong to the reduction's body; `afterReduce` ones read it.
 */
export interface Temp {
  readonly name: string;
  readonly expr: Expr;
  readonly level: number;
  readonly inBody: boolean;
  readonly afterReduce: boolean;
}

/**
 * - `outputOuter`: output loops, then the reduction loops inside, with a scalar accumulator.
 * - `reductionOuter`: output loops but the last, then the reduction loops, then the last output
 *   loop innermost over a row of accumulators, so the innermost loop streams through memory
 *   (matmul's x·W, convolution along output columns).
 */
export type LoopOrder = 'outputOuter' | 'reductionOuter';

export interface Schedule {
  readonly order: LoopOrder;
  readonly outLoops: readonly Loop[];
  readonly reduceLoops: readonly Loop[];
  /** Every loop in nesting order; a temp's `level` indexes it. */
  readonly loops: readonly Loop[];
  readonly reduce: Extract<Expr, { k: 'reduce' }> | null;
  /** Temporaries in dependency order, and by structural key for the renderer's lookups. */
  readonly temps: readonly Temp[];
  readonly tempByKey: ReadonlyMap<string, Temp>;
}

function theReduction(e: Expr): Extract<Expr, { k: 'reduce' }> | null {
  if (e.k === 'reduce') return e;
  let found: Extract<Expr, { k: 'reduce' }> | null = null;
  forEachChild(e, (c) => (found ??= theReduction(c)));
  return found;
}

/** Coefficient of loop variable `v` in an affine index expression (NaN when not affine). */
function coefficient(e: Expr, v: string): number {
  switch (e.k) {
    case 'const':
      return 0;
    case 'var':
      return e.name === v ? 1 : 0;
    case 'binary': {
      const [a, b] = [coefficient(e.a, v), coefficient(e.b, v)];
      if (e.op === 'add') return a + b;
      if (e.op === 'sub') return a - b;
      if (e.op === 'mul' && e.b.k === 'const') return a * e.b.value;
      if (e.op === 'mul' && e.a.k === 'const') return b * e.a.value;
      return a === 0 && b === 0 ? 0 : NaN;
    }
    default:
      return NaN;
  }
}

/** How many loads of `body` move by 0 or 1 element per step of loop `v` (cache friendly). */
function streamingLoads(k: Kernel, body: Expr, v: string): number {
  let count = 0;
  const visit = (e: Expr) => {
    if (e.k === 'load') {
      const s = strides(k.inputs[e.input].shape);
      const step = e.index.reduce((sum, ix, d) => sum + coefficient(ix, v) * s[d], 0);
      if (step === 0 || step === 1) count++;
    }
    forEachChild(e, visit);
  };
  visit(body);
  return count;
}

/** How far each load of `body` moves per step of loop `v` (NaN: not affine in it). */
function loadSteps(k: Kernel, body: Expr, v: string): number[] {
  const steps: number[] = [];
  const visit = (e: Expr) => {
    if (e.k === 'load') {
      const s = strides(k.inputs[e.input].shape);
      steps.push(e.index.reduce((sum, ix, d) => sum + coefficient(ix, v) * s[d], 0));
    }
    forEachChild(e, visit);
  };
  visit(body);
  return steps;
}

/**
 * A matrix product: one operand free of the last output loop, another free of the one before.
 * Such kernels get a register tile in output-outer order (the renderer's `tile`).
 */
export function isMatrixProduct(k: Kernel, r: Expr & { k: 'reduce' }): boolean {
  const rank = k.shape.length;
  if (rank < 2 || k.shape[rank - 1] === BATCH) return false;
  const [rows, cols] = [loadSteps(k, r.body, `o${rank - 2}`), loadSteps(k, r.body, `o${rank - 1}`)];
  return rows.some((s, i) => s === 0 && cols[i] !== 0) && cols.some((s, i) => s === 0 && rows[i] !== 0);
}

/** Reduction-outer order pays off when its innermost loop streams more loads than the default. */
export function chooseOrder(k: Kernel): LoopOrder {
  const r = theReduction(k.expr);
  const last = k.shape.length - 1;
  if (!r || r.op !== 'sum' || last < 0 || k.shape[last] === BATCH || isMatrixProduct(k, r)) return 'outputOuter';
  const innermostReduce = r.vars[r.vars.length - 1].name;
  const gain = streamingLoads(k, r.body, `o${last}`) - streamingLoads(k, r.body, innermostReduce);
  // On a tie, the longer loop goes innermost (a convolution's columns rather than its 3 taps).
  const longer = Number(k.shape[last]) > Number(r.vars[r.vars.length - 1].extent);
  return gain > 0 || (gain === 0 && longer) ? 'reductionOuter' : 'outputOuter';
}

export function schedule(k: Kernel, order: LoopOrder = chooseOrder(k)): Schedule {
  const outLoops = k.shape.map((extent, i) => ({ name: `o${i}`, extent }));
  const reduce = theReduction(k.expr);
  const reduceLoops = reduce ? reduce.vars.map((v) => ({ name: v.name, extent: v.extent })) : [];
  const loops = order === 'reductionOuter' ? [...outLoops.slice(0, -1), ...reduceLoops, outLoops[outLoops.length - 1]] : [...outLoops, ...reduceLoops];
  const position = new Map(loops.map((l, i) => [l.name, i]));
  // Where the reduction's value is available: after its loops, inside the last output loop.
  const reduceLevel = order === 'reductionOuter' ? loops.length - 1 : outLoops.length - 1;

  const uses = new Map<string, number>();
  // Count each distinct subexpression's uses; a repeated subtree's children are counted once.
  const countUses = (e: Expr): void => {
    const key = exprKey(e);
    const n = (uses.get(key) ?? 0) + 1;
    uses.set(key, n);
    if (n === 1) forEachChild(e, countUses);
  };
  countUses(k.expr);

  const temps: Temp[] = [];
  const tempByKey = new Map<string, Temp>();
  const info = new Map<string, { level: number; hasReduce: boolean }>();
  // Post-order: children first, so temps come out in dependency order.
  const visit = (e: Expr, inBranch: boolean, inBody: boolean): { level: number; hasReduce: boolean } => {
    const key = exprKey(e);
    const known = info.get(key);
    if (known) return known;
    let level = e.k === 'var' ? (position.get(e.name) ?? -1) : -1;
    let hasReduce = e.k === 'reduce';
    if (e.k === 'reduce') visit(e.body, false, true);
    else {
      forEachChild(e, (c, branch) => {
        const sub = visit(c, inBranch || branch, inBody);
        level = Math.max(level, sub.level);
        hasReduce ||= sub.hasReduce;
      });
    }
    const result = { level: hasReduce ? Math.max(level, reduceLevel) : level, hasReduce };
    info.set(key, result);
    const worthNaming = e.k === 'load' || ((uses.get(key) ?? 0) > 1 && e.k !== 'const' && e.k !== 'var');
    if (worthNaming && !inBranch && e.k !== 'reduce') {
      const t = { name: `t${temps.length}`, expr: e, level: result.level, inBody, afterReduce: hasReduce };
      temps.push(t);
      tempByKey.set(key, t);
    }
    return result;
  };
  visit(k.expr, false, false);
  return { order, outLoops, reduceLoops, loops, reduce, temps, tempByKey };
}
