// The plan of a pooling SIMD kernel (simd-pool.ts): which loop variables stay scalar loops and
// which are unrolled into the vector lanes, what each lane's index arithmetic is worth at each
// vector step (worked out here, at compile time), and how a row's columns split into runs of
// vector steps that share their lane masks and load shapes, so that one loop can serve each run.
import type { Expr } from '../../../src/ir/expr.ts';
import { forEachChild } from '../../../src/ir/expr.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import type { LoopVar } from './contraction.ts';
import { NotExpressible } from './simd-writer.ts';

/**
 * The kernels rendered this way, by their anchor op: pooling gradients, the average pool, the
 * input gradient of a strided, dilated or grouped convolution (a plain one is itself a convolution:
 * compiler/autodiff/vjp.ts), whose loads go through window quotients (`idiv(o, stride)`, `mod`) of
 * the output index; and a convolution that is not a contraction (grouped: its channel is
 * `idiv(f, F/g)·C/g + c`), which reaches this renderer only after the register tiles refused it.
 * Plain sums and row reductions are rendered elsewhere.
 */
export const POOL_ANCHORS: ReadonlySet<string> = new Set(['maxPool2dBackward', 'avgPool2dBackward', 'avgPool2d', 'conv2dBackwardInput', 'conv2d']);

const COMPARE = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);
const INT_ARITH = new Set(['add', 'sub', 'mul', 'idiv', 'mod']);
/** Most unrolled tap combinations per vector step (a 4×4 window's row, say). */
const MAX_UNROLLED = 16;
/**
 * Most column runs per row: each is code of its own. A stride that does not divide 4 (3, 5...)
 * changes the load pattern every step, so a wide row would unroll into one run per step.
 */
const MAX_RUNS = 24;

type Sum = Expr & { k: 'reduce' };

/** A run of vector steps (4 columns each) of one row that share masks and load shapes. */
export interface Run {
  readonly first: number;
  readonly steps: number;
  /** Live lanes: 4, or fewer for the row's last partial vector. */
  readonly lanes: number;
}

/** What one lane item is worth at a step: per lane, and as base + pattern. */
export interface LaneShape {
  readonly values: readonly number[];
  readonly base: number;
  readonly pattern: readonly number[];
}

export interface PoolPlan {
  readonly out: readonly LoopVar[];
  readonly last: LoopVar & { extent: number };
  readonly sum: Sum | null;
  /** Reduction variables run as scalar loops, outermost first. */
  readonly runtime: readonly LoopVar[];
  /** Reduction variables unrolled at compile time (they move with the column): a suffix of the sum's. */
  readonly unrolled: readonly LoopVar[];
  /** Every combination of the unrolled variables, in the sum's order. */
  readonly taps: readonly Readonly<Record<string, number>>[];
  readonly scalar: ReadonlySet<string>;
  readonly lane: ReadonlySet<string>;
  readonly runs: readonly Run[];
  /** An output dimension tiled 4 rows at a time (rowTileOf), or null. */
  readonly rows: LoopVar | null;
  deps(e: Expr): ReadonlySet<string>;
  /** A lane item's shape at a step for one tap combination; a load index (`extent` given) clamped into [0, extent). */
  shape(e: Expr, step: number, tap: Readonly<Record<string, number>>, extent?: number): LaneShape;
  /** Elements per step by which a linear lane item's base advances inside a run. */
  delta(e: Expr, run: Run, tap: Readonly<Record<string, number>>, extent?: number): number;
}

/** Index arithmetic and its tests: no loads, no reductions. */
export function isPure(e: Expr): boolean {
  switch (e.k) {
    case 'const':
    case 'var':
      return true;
    case 'binary':
      return (INT_ARITH.has(e.op) || COMPARE.has(e.op) || e.op === 'and' || e.op === 'or') && isPure(e.a) && isPure(e.b);
    default:
      return false;
  }
}

export const isCompare = (e: Expr): e is Expr & { k: 'binary' } => e.k === 'binary' && COMPARE.has(e.op);
export const isLogic = (e: Expr): e is Expr & { k: 'binary' } => e.k === 'binary' && (e.op === 'and' || e.op === 'or');

/** Integer value of pure `e` (floor division and modulo, tests as 1/0). */
export function evalInt(e: Expr, env: Readonly<Record<string, number>>): number {
  switch (e.k) {
    case 'const':
      return e.value;
    case 'var':
      if (!(e.name in env)) throw new NotExpressible();
      return env[e.name];
    case 'binary': {
      const [a, b] = [evalInt(e.a, env), evalInt(e.b, env)];
      switch (e.op) {
        case 'add': return a + b;
        case 'sub': return a - b;
        case 'mul': return a * b;
        case 'idiv': return Math.floor(a / b);
        case 'mod': return a - b * Math.floor(a / b);
        case 'lt': return +(a < b);
        case 'le': return +(a <= b);
        case 'gt': return +(a > b);
        case 'ge': return +(a >= b);
        case 'eq': return +(a === b);
        case 'ne': return +(a !== b);
        case 'and': return +(a !== 0 && b !== 0);
        case 'or': return +(a !== 0 || b !== 0);
      }
    }
  }
  throw new NotExpressible();
}

function depsOf(memo: Map<Expr, ReadonlySet<string>>, e: Expr): ReadonlySet<string> {
  let d = memo.get(e);
  if (d) return d;
  const s = new Set<string>();
  if (e.k === 'var') s.add(e.name);
  forEachChild(e, (c) => depsOf(memo, c).forEach((v) => s.add(v)));
  if (e.k === 'reduce') e.vars.forEach((v) => s.delete(v.name));
  d = s;
  memo.set(e, d);
  return d;
}

const meets = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...a].some((v) => b.has(v));

/** The plan, or null when the kernel is not a pooling kernel this renderer takes; throws NotExpressible for a piece it cannot vectorise. */
export function poolPlanOf(k: Kernel): PoolPlan | null {
  if (!POOL_ANCHORS.has(k.ops[0]) || k.dtype !== 'float32' || k.inputs.some((t) => t.dtype !== 'float32') || k.shape.length < 2) return null;
  const out = k.shape.map((extent, d) => ({ name: `o${d}`, extent }));
  const lastVar = out[out.length - 1];
  if (lastVar.extent === BATCH || out.slice(1).some((l) => l.extent === BATCH)) return null;
  const last = lastVar as LoopVar & { extent: number };
  const sums: Sum[] = [];
  const find = (e: Expr) => (e.k === 'reduce' ? sums.push(e) : forEachChild(e, find));
  find(k.expr);
  if (sums.length > 1 || (sums[0] && (sums[0].op !== 'sum' || sums[0].vars.some((v) => v.extent === BATCH)))) return null;
  const sum = sums[0] ?? null;
  const memo = new Map<Expr, ReadonlySet<string>>();
  const deps = (e: Expr) => depsOf(memo, e);
  // A reduction variable is unrolled where it shares index arithmetic with the column.
  const moving = new Set<string>();
  const markLane = (e: Expr) => {
    // Tests joined by and/or are taken apart (a row test and a column test are separate masks).
    if ((isPure(e) && !isLogic(e)) || e.k === 'load') {
      for (const p of e.k === 'load' ? e.index : [e]) if (deps(p).has(last.name)) deps(p).forEach((v) => moving.add(v));
      return;
    }
    forEachChild(e, markLane);
  };
  markLane(k.expr);
  const vars = sum?.vars ?? [];
  const unrolled = vars.filter((v) => moving.has(v.name));
  const runtime = vars.filter((v) => !moving.has(v.name));
  if (unrolled.some((v, i) => v !== vars[runtime.length + i])) throw new NotExpressible();
  const taps = combinations(unrolled);
  if (taps.length > MAX_UNROLLED) throw new NotExpressible();
  const lane = new Set([last.name, ...unrolled.map((v) => v.name)]);
  const scalar = new Set([...out.slice(0, -1).map((l) => l.name), ...runtime.map((v) => v.name)]);
  const items = laneItems(k, k.expr, deps, lane, scalar);
  // A lane whose index falls outside its dimension is masked (the lowering guards every such read
  // with a select, or the JavaScript kernel would read another row): clamped, it reads in bounds.
  const shape = (e: Expr, step: number, tap: Readonly<Record<string, number>>, extent?: number): LaneShape => {
    const at = (l: number) => evalInt(e, { ...tap, [last.name]: Math.min(4 * step + l, last.extent - 1) });
    const values = [0, 1, 2, 3].map((l) => (extent === undefined ? at(l) : Math.min(Math.max(at(l), 0), extent - 1)));
    const base = Math.min(...values);
    return { values, base, pattern: values.map((v) => v - base) };
  };
  checkBounds(items, last.extent, taps, shape);
  const runs = runsOf(last.extent, items, taps, shape);
  if (runs.length > MAX_RUNS) throw new NotExpressible();
  const delta = (e: Expr, run: Run, tap: Readonly<Record<string, number>>, extent?: number) => (run.steps > 1 ? shape(e, run.first + 1, tap, extent).base - shape(e, run.first, tap, extent).base : 0);
  const rows = rowTileOf(k, out, sum, deps);
  return { out, last, sum, runtime, unrolled, taps, scalar, lane, runs, rows, deps, shape, delta };
}

/**
 * An output dimension to tile 4 rows at a time in a sum whose loads do not all move with it (a
 * convolution's input gradient over its channels: dy is loaded once for 4 channels, the filter
 * value per channel). Every load that moves with it must index it directly (a bare variable: one
 * constant offset per row, no clamp), and no test may depend on it. Not o0 (the thread split) nor
 * the column.
 */
function rowTileOf(k: Kernel, out: readonly LoopVar[], sum: Sum | null, deps: (e: Expr) => ReadonlySet<string>): LoopVar | null {
  if (!sum) return null;
  for (const cand of out.slice(1, -1).reverse()) {
    if (cand.extent === BATCH || cand.extent < 4) continue;
    let ok = true;
    let moving = 0;
    let still = 0;
    const visit = (e: Expr, inSum: boolean): void => {
      if (e.k === 'load') {
        const dims = e.index.map((ix, d) => ({ ix, d })).filter(({ ix }) => deps(ix).has(cand.name));
        if (!dims.length) return void (inSum && still++);
        const { ix, d } = dims[0];
        const extent = k.inputs[e.input].shape[d];
        if (dims.length > 1 || ix.k !== 'var' || extent === BATCH || extent < (cand.extent as number)) ok = false;
        if (inSum) moving++;
        return;
      }
      if (isPure(e)) {
        if (deps(e).has(cand.name)) ok = false;
        return;
      }
      forEachChild(e, (c) => visit(c, inSum || e === sum));
    };
    visit(k.expr, false);
    if (ok && moving && still) return cand;
  }
  return null;
}

function combinations(vars: readonly LoopVar[]): Record<string, number>[] {
  let all: Record<string, number>[] = [{}];
  for (const v of vars) all = all.flatMap((c) => Array.from({ length: v.extent as number }, (_, i) => ({ ...c, [v.name]: i })));
  return all;
}

/** A lane item: a test over lane variables (a mask), or a load's index along its last dimension (linear: its base moves). */
export interface LaneItem {
  readonly e: Expr;
  readonly linear: boolean;
  /** For a load index: the extent of the input's last dimension. */
  readonly extent?: number;
}

/** Every lane item, found the way simd-pool.ts walks the expression. */
function laneItems(k: Kernel, root: Expr, deps: (e: Expr) => ReadonlySet<string>, lane: ReadonlySet<string>, scalar: ReadonlySet<string>): LaneItem[] {
  const items: LaneItem[] = [];
  const mask = (e: Expr): void => {
    const mixed = meets(deps(e), lane) && meets(deps(e), scalar);
    if (isPure(e) && !(mixed && isLogic(e))) {
      if (!meets(deps(e), lane)) return;
      if (mixed) throw new NotExpressible();
      items.push({ e, linear: false });
    } else if (isCompare(e)) [e.a, e.b].forEach(float);
    else if (isLogic(e)) [e.a, e.b].forEach(mask);
    else float(e);
  };
  const float = (e: Expr): void => {
    if (e.k === 'binary' && (isCompare(e) || isLogic(e))) return mask(e);
    if (e.k === 'select') {
      mask(e.cond);
      float(e.a);
      float(e.b);
      return;
    }
    if (e.k === 'load') {
      const shape = k.inputs[e.input].shape;
      e.index.forEach((ix, d) => {
        if (!isPure(ix)) throw new NotExpressible();
        if (!meets(deps(ix), lane)) return;
        const extent = shape[d];
        if (meets(deps(ix), scalar) || d !== shape.length - 1 || extent === BATCH) throw new NotExpressible();
        items.push({ e: ix, linear: true, extent });
      });
      return;
    }
    forEachChild(e, float);
  };
  float(root);
  return items;
}

/** Elements one vector load of this pattern reads: 1 (a splat), 4, or 8 (two loads). */
export function readLength(pattern: readonly number[]): number {
  const top = Math.max(...pattern);
  if (top === 0) return 1;
  if (top < 4) return 4;
  if (top < 8) return 8;
  throw new NotExpressible();
}

/**
 * Loads may read outside their row where their lanes are masked; the reads must stay within the
 * 16 bytes every buffer has free before (the allocator starts at 16) and after it (runtime/simd.ts).
 */
function checkBounds(items: readonly LaneItem[], cols: number, taps: readonly Record<string, number>[], shape: PoolPlan['shape']): void {
  for (const it of items) {
    if (!it.linear) continue;
    for (let step = 0; step < Math.ceil(cols / 4); step++) {
      for (const tap of taps) {
        const s = shape(it.e, step, tap, it.extent);
        if (!s.values.every(Number.isInteger) || s.base < -4 || s.base + readLength(s.pattern) > it.extent! + 4) throw new NotExpressible();
      }
    }
  }
}

/** Runs of steps: each extends while masks and patterns stay the same and every base moves by a constant. */
function runsOf(cols: number, items: readonly LaneItem[], taps: readonly Record<string, number>[], shape: PoolPlan['shape']): Run[] {
  const full = Math.floor(cols / 4);
  // A mask's key is its lanes; a load's, its pattern (its base may move).
  const key = (step: number) => items.map((it) => taps.map((t) => (it.linear ? shape(it.e, step, t, it.extent).pattern : shape(it.e, step, t).values).join(',')).join(';')).join('|');
  const bases = (step: number) => items.flatMap((it) => taps.map((t) => (it.linear ? shape(it.e, step, t, it.extent).base : 0)));
  const runs: Run[] = [];
  let first = 0;
  while (first < full) {
    let steps = 1;
    if (first + 1 < full && key(first + 1) === key(first)) {
      const b0 = bases(first);
      const d = bases(first + 1).map((b, i) => b - b0[i]);
      while (first + steps < full && key(first + steps) === key(first) && bases(first + steps).every((b, i) => b === b0[i] + steps * d[i])) steps++;
    }
    runs.push({ first, steps, lanes: 4 });
    first += steps;
  }
  if (cols > 4 * full) runs.push({ first: full, steps: 1, lanes: cols - 4 * full });
  return runs;
}
