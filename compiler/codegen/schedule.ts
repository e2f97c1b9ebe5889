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
export function coefficient(e: Expr, v: string): number {
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

/** Smallest extent worth a register tile along a dimension. */
const TILE_MIN = 4;

/**
 * Two output dimensions that make the kernel a matrix product: one operand does not move
 * with `rows` but moves with `cols`, another the other way round (x and W in x·W; the input
 * and the filter of a convolution along filters × columns). Blocking both lets every load
 * serve several accumulators. Inner dimensions are preferred; both must be long enough.
 */
export function matrixPair(k: Kernel, r: Expr & { k: 'reduce' }): [number, number] | null {
  const rank = k.shape.length;
  const steps = k.shape.map((_, d) => loadSteps(k, r.body, `o${d}`));
  const long = (d: number) => k.shape[d] === BATCH || Number(k.shape[d]) >= TILE_MIN;
  for (let cols = rank - 1; cols >= 1; cols--) {
    if (k.shape[cols] === BATCH || !long(cols)) continue;
    for (let rows = cols - 1; rows >= 0; rows--) {
      if (!long(rows)) continue;
      const [a, b] = [steps[rows], steps[cols]];
      if (a.some((s, i) => s === 0 && b[i] !== 0) && b.some((s, i) => s === 0 && a[i] !== 0)) return [rows, cols];
    }
  }
  return null;
}

/** Whether the reduction's body and the expression around it have a computed value in common. */
function sharesWithEpilogue(e: Expr, r: Expr & { k: 'reduce' }): boolean {
  const inBody = new Set<string>();
  const collect = (x: Expr) => {
    if (x.k !== 'const' && x.k !== 'var') inBody.add(exprKey(x));
    forEachChild(x, collect);
  };
  collect(r.body);
  let shared = false;
  const scan = (x: Expr) => {
    if (x.k === 'reduce') return;
    if (inBody.has(exprKey(x))) shared = true;
    forEachChild(x, scan);
  };
  scan(e);
  return shared;
}

/** Reduction-outer order pays off when its innermost loop streams more loads than the default. */
export function chooseOrder(k: Kernel): LoopOrder {
  const r = theReduction(k.expr);
  const last = k.shape.length - 1;
  if (!r || r.op !== 'sum' || last < 0 || k.shape[last] === BATCH || matrixPair(k, r)) return 'outputOuter';
  // The last output loop runs twice in reduction-outer order (accumulate, then epilogue), so a
  // value both parts compute would be out of scope in one of them.
  if (sharesWithEpilogue(k.expr, r)) return 'outputOuter';
  const innermostReduce = r.vars[r.vars.length - 1].name;
  const gain = streamingLoads(k, r.body, `o${last}`) - streamingLoads(k, r.body, innermostReduce);
  // On a tie, the longer loop goes innermost (a convolution's columns rather than its 3 taps).
  const longer = Number(k.shape[last]) > Number(r.vars[r.vars.length - 1].extent);
  return gain > 0 || (gain === 0 && longer) ? 'reductionOuter' : 'outputOuter';
}

/** Output loops in nesting order: a matrix product's pair of dimensions goes innermost. */
function outputLoops(k: Kernel, order: LoopOrder, r: (Expr & { k: 'reduce' }) | null): Loop[] {
  const loops = k.shape.map((extent, i) => ({ name: `o${i}`, extent }));
  const pair = order === 'outputOuter' && r?.op === 'sum' ? matrixPair(k, r) : null;
  if (!pair) return loops;
  return [...loops.filter((_, d) => !pair.includes(d)), loops[pair[0]], loops[pair[1]]];
}

export function schedule(k: Kernel, order: LoopOrder = chooseOrder(k)): Schedule {
  const reduce = theReduction(k.expr);
  const outLoops = outputLoops(k, order, reduce);
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

  // Levels first (the loop each subexpression can be computed in), then what to hoist.
  const info = new Map<string, { level: number; hasReduce: boolean }>();
  const measure = (e: Expr): { level: number; hasReduce: boolean } => {
    const key = exprKey(e);
    const known = info.get(key);
    if (known) return known;
    let level = e.k === 'var' ? (position.get(e.name) ?? -1) : -1;
    let hasReduce = e.k === 'reduce';
    if (e.k === 'reduce') measure(e.body);
    else {
      forEachChild(e, (c) => {
        const sub = measure(c);
        level = Math.max(level, sub.level);
        hasReduce ||= sub.hasReduce;
      });
    }
    const result = { level: hasReduce ? Math.max(level, reduceLevel) : level, hasReduce };
    info.set(key, result);
    return result;
  };
  measure(k.expr);

  // Loop-invariant code motion: a computation whose operands are ready in an outer loop is
  // named there, instead of being redone in every iteration of the loops inside it.
  const hoisted = new Set<string>();
  // `site`: the loop where `e` would be computed if it were not named itself.
  const markInvariant = (e: Expr, site: number): void => {
    const key = exprKey(e);
    const { level } = info.get(key)!;
    const compound = e.k === 'unary' || e.k === 'binary' || e.k === 'select' || e.k === 'load';
    const named = e.k === 'load' || ((uses.get(key) ?? 0) > 1 && compound);
    if (compound && level < site) hoisted.add(key);
    const own = named || hoisted.has(key) ? level : site;
    if (e.k === 'reduce') markInvariant(e.body, loops.length);
    else forEachChild(e, (c) => markInvariant(c, own));
  };
  markInvariant(k.expr, loops.length);

  const ranges = new Map(loops.map((l) => [l.name, [0, l.extent === BATCH ? Infinity : Number(l.extent) - 1] as const]));
  const temps: Temp[] = [];
  const tempByKey = new Map<string, Temp>();
  const named = new Set<string>();
  // Post-order: children first, so temps come out in dependency order. Inside a select's arms
  // only what cannot fault is named (a load there may be out of bounds when its arm is not taken).
  const visit = (e: Expr, inBranch: boolean, inBody: boolean): void => {
    const key = exprKey(e);
    if (named.has(key)) return;
    named.add(key);
    if (e.k === 'reduce') visit(e.body, false, true);
    else forEachChild(e, (c, branch) => visit(c, inBranch || branch, inBody));
    const { level, hasReduce } = info.get(key)!;
    const repeated = (uses.get(key) ?? 0) > 1 && e.k !== 'const' && e.k !== 'var';
    const worthNaming = e.k === 'load' || repeated || hoisted.has(key);
    if (worthNaming && e.k !== 'reduce' && (!inBranch || cannotFault(k, e, ranges))) {
      const t = { name: `t${temps.length}`, expr: e, level, inBody, afterReduce: hasReduce };
      temps.push(t);
      tempByKey.set(key, t);
    }
  };
  visit(k.expr, false, false);
  return { order, outLoops, reduceLoops, loops, reduce, temps, tempByKey };
}

type Range = readonly [number, number];

/** Bounds of an integer index expression over the loops' ranges (null: unknown). */
function indexRange(e: Expr, ranges: ReadonlyMap<string, Range>): Range | null {
  switch (e.k) {
    case 'const':
      return [e.value, e.value];
    case 'var':
      return ranges.get(e.name) ?? null;
    case 'binary': {
      const [a, b] = [indexRange(e.a, ranges), indexRange(e.b, ranges)];
      if (!a || !b) return null;
      if (e.op === 'add') return [a[0] + b[0], a[1] + b[1]];
      if (e.op === 'sub') return [a[0] - b[1], a[1] - b[0]];
      if (e.op === 'mul' && b[0] === b[1]) return b[0] >= 0 ? [a[0] * b[0], a[1] * b[0]] : [a[1] * b[0], a[0] * b[0]];
      if (e.op === 'idiv' && b[0] === b[1] && b[0] > 0) return [Math.floor(a[0] / b[0]), Math.floor(a[1] / b[0])];
      if (e.op === 'mod' && b[0] === b[1] && b[0] > 0 && a[0] >= 0) return [0, b[0] - 1];
      return null;
    }
    default:
      return null;
  }
}

/** Whether evaluating `e` early is harmless: every load in it reads inside its tensor. */
function cannotFault(k: Kernel, e: Expr, ranges: ReadonlyMap<string, Range>): boolean {
  let safe = true;
  const check = (x: Expr) => {
    if (x.k === 'load') {
      const shape = k.inputs[x.input].shape;
      x.index.forEach((ix, d) => {
        const r = indexRange(ix, ranges);
        const dim = shape[d];
        const fits = r !== null && r[0] >= 0 && (dim === BATCH ? ix.k === 'var' : r[1] <= Number(dim) - 1);
        if (!fits) safe = false;
      });
    }
    forEachChild(x, check);
  };
  check(e);
  return safe;
}
