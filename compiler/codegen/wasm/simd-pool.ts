// WebAssembly SIMD for the pooling kernels that read through window quotients: the max-pool
// backward (each input takes dy where it equals its window's max: `x == y[o idiv 2]`), the
// average-pool backward and the average pool; also the input gradient of strided, dilated or
// grouped convolutions and grouped convolutions (simd-pool-plan.ts, POOL_ANCHORS). 4 outputs along
// the last dimension per vector; a sum whose loads do not all move with a channel dimension is
// tiled 4 channels at a time, each load that does not move with them made once for the 4.
// Index arithmetic along the rows stays scalar i32 (one value per row or tap); along the column it
// is worked out at compile time for each lane (simd-pool-plan.ts), so a test such as
// `o3 mod 2 == 0` is a constant lane mask and a load through `o3 idiv 2` is one vector load and a
// lane shuffle (0,0,1,1). Selects are bitselects, no branch; a tap whose row test fails is skipped
// whole (it would add zeros). Taps add in the JavaScript kernel's order, so where at most one tap
// of a sum is nonzero (windows that tile the input, or exact sums) results are bit-identical;
// otherwise the sum is float32, the JavaScript kernel's double (the float32 contract).
import { forEachChild, type Expr } from '../../../src/ir/expr.ts';
import { BATCH, strides } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { binaryAlu, unaryAlu } from './alu.ts';
import { I32, V128 } from './binary.ts';
import type { Contraction, LoopVar, Tile } from './contraction.ts';
import { pushClampedIndex, pushInt } from './simd-pool-index.ts';
import { isCompare, isLogic, isPure, poolPlanOf, readLength, type PoolPlan, type Run } from './simd-pool-plan.ts';
import { inputParam, NotExpressible, OUT, SimdWriter, type SimdKernel } from './simd-writer.ts';

/** The SIMD version of a pooling kernel, or null (not one, or a piece without a vector form). */
export function renderPoolKernel(k: Kernel): SimdKernel | null {
  try {
    const plan = poolPlanOf(k);
    if (!plan) return null;
    const w = new PoolWriter(k, plan);
    w.render();
    const taps = plan.unrolled.length ? `; window taps along ${plan.last.name} unrolled (${plan.unrolled.map((v) => `${v.name}: ${v.extent}`).join(', ')})` : '';
    const rows = plan.rows ? `; tile 4 ${plan.rows.name} rows, loads that do not move with them shared` : '';
    const how = `SIMD: pooling gather, 4 outputs along ${plan.last.name} per vector in ${plan.runs.length} column runs${taps}${rows}; selects as bitselect.`;
    return { fn: { name: k.name, params: 4 + k.inputs.length, body: w.f }, how, epilogue: null };
  } catch (e) {
    if (e instanceof NotExpressible) return null;
    throw e;
  }
}

/** Where a value is evaluated: a column run, and one combination of the unrolled taps. */
interface Site {
  readonly run: Run;
  readonly tap: Readonly<Record<string, number>>;
  /** The sum's accumulator (a v128 local), inside the epilogue. */
  readonly acc: number;
  /** The row of a row tile (plan.rows), 0 without one. */
  readonly row: number;
}

const maskBytes = (lanes: readonly boolean[]) => new Uint8Array(Int32Array.from(lanes, (b) => (b ? -1 : 0)).buffer);
const ALL = maskBytes([true, true, true, true]);
const NONE = maskBytes([false, false, false, false]);

class PoolWriter extends SimdWriter {
  constructor(k: Kernel, private readonly plan: PoolPlan) {
    const out = plan.out as LoopVar[];
    const outStrides = strides(k.shape);
    const c: Contraction = { out, reduce: [], product: null, epilogue: k.expr, outAt: { c: 0, coef: Object.fromEntries(out.map((l, d) => [l.name, outStrides[d]])) } };
    const tile: Tile = { kind: 'broadcast', col: plan.last, rows: null, vec: 'a' };
    super(k, c, tile, false);
  }

  /** Row addresses (input, scalar index) → local, computed once per row for loads that only move with the row. */
  private readonly rowAddresses = new Map<string, number>();
  private outRow = -1;
  /** Addresses of the loads of one iteration of the scalar tap loops, shared by its unrolled taps. */
  private readonly tapAddresses = new Map<string, number>();
  /** Loads of one tap that do not move with the row tile, loaded once for its rows. */
  private readonly shared = new Map<Expr, number>();
  /** Masks of tests over the row's variables only, computed once per row. */
  private readonly rowMasks = new Map<Expr, number>();

  render(): void {
    const { out, rows } = this.plan;
    const outer = out.slice(0, -1);
    if (!rows) return this.nest(outer, () => this.row(1));
    // The tiled dimension innermost of the row loops: 4 rows at a time, then the rest one by one.
    this.nest(outer.filter((l) => l !== rows), () => {
      this.loop(rows.name, 0, rows.extent, 4, () => this.row(4));
      this.loop(rows.name, null, rows.extent, 1, () => this.row(1));
    });
  }

  /** One row (or a tile of `rows` rows) of outputs: its addresses and masks, then every column run. */
  private row(rows: number): void {
    const { out, last, runs } = this.plan;
    const outer = new Set(out.slice(0, -1).map((l) => l.name));
    // V8 does not hoist this arithmetic out of the column loop: done here, it leaves one add per load.
    this.rowAddresses.clear();
    walkLoads(this.k.expr, (e) => {
      const key = this.rowKey(e);
      if (this.rowAddresses.has(key) || !e.index.every((ix, d) => d === this.laneDim(e) || [...this.plan.deps(ix)].every((v) => outer.has(v)))) return;
      this.rowAddress(e);
      const l = this.f.local(I32);
      this.f.set(l);
      this.rowAddresses.set(key, l);
    });
    this.rowMasks.clear();
    walkTests(this.k.expr, (e) => {
      const deps = [...this.plan.deps(e)];
      if (!isPure(e) || this.rowMasks.has(e) || !deps.length || !deps.every((v) => outer.has(v))) return;
      this.f.v128Const(ALL).v128Const(NONE);
      this.int(e);
      const l = this.f.local(V128);
      this.f.select().set(l);
      this.rowMasks.set(e, l);
    });
    this.address(OUT, { c: 0, coef: { ...this.c.outAt.coef, [last.name]: 0 } });
    this.outRow = this.f.local(I32);
    this.f.set(this.outRow);
    for (const run of runs) {
      const body = () => this.step(run, rows);
      if (run.steps > 1) this.loop(last.name, 4 * run.first, 4 * (run.first + run.steps), 4, body);
      else {
        this.f.i32(4 * run.first).set(this.varLocal(last.name));
        body();
      }
    }
  }

  /** Bytes between rows of the row tile in the output. */
  private get outRowBytes(): number {
    const rows = this.plan.rows;
    return rows ? 4 * (this.c.outAt.coef[rows.name] ?? 0) : 0;
  }

  /** One vector of outputs per row: the sum over the taps (if any), the rest of the expression, the store. */
  private step(run: Run, rows: number): void {
    const f = this.f;
    const sum = this.plan.sum;
    const accs = Array.from({ length: rows }, () => -1);
    if (sum) {
      for (let r = 0; r < rows; r++) {
        accs[r] = f.local(V128);
        f.f32(0).simd('f32x4.splat').set(accs[r]);
      }
      this.nest(this.plan.runtime, () => this.taps(sum.body, run, accs));
    }
    const outAddr = f.local(I32);
    f.get(this.outRow).get(this.varLocal(this.plan.last.name)).i32(4).op('i32.mul').op('i32.add').set(outAddr);
    for (let r = 0; r < rows; r++) {
      const value = () => this.float(this.k.expr, { run, tap: {}, acc: accs[r], row: r });
      const at = r * this.outRowBytes;
      if (run.lanes === 4) {
        f.get(outAddr);
        value();
        f.vmem('v128.store', at);
      } else {
        const tmp = f.local(V128);
        value();
        f.set(tmp);
        for (let l = 0; l < run.lanes; l++) f.get(outAddr).get(tmp).extractLane(l).f32Store(at + 4 * l);
      }
    }
  }

  /** One iteration of the scalar tap loops: every unrolled tap added to `acc`, skipped whole where its row test fails. */
  private taps(body: Expr, run: Run, accs: readonly number[]): void {
    const f = this.f;
    let value = body;
    let rowTest: Expr[] = [];
    let laneTest: Expr[] = [];
    if (body.k === 'select' && body.b.k === 'const' && Object.is(body.b.value, 0)) {
      const parts = conjuncts(body.cond);
      rowTest = parts.filter((p) => isPure(p) && ![...this.plan.deps(p)].some((v) => this.plan.lane.has(v)));
      laneTest = parts.filter((p) => !rowTest.includes(p));
      value = body.a;
    }
    if (rowTest.length) {
      rowTest.forEach((p, i) => {
        this.int(p);
        if (i) f.op('i32.and');
      });
      f.if();
    }
    // Addresses from the scalar dimensions, once for all unrolled taps (they differ in the lane dimension only).
    this.tapAddresses.clear();
    walkLoads(body, (e) => {
      const key = this.rowKey(e);
      if (this.rowAddresses.has(key) || this.tapAddresses.has(key)) return;
      this.rowAddress(e);
      const l = f.local(I32);
      f.set(l);
      this.tapAddresses.set(key, l);
    });
    const rowVar = this.plan.rows?.name;
    for (const tap of this.plan.taps) {
      const site = { run, tap, acc: -1, row: 0 };
      // Under a row tile, what does not move with the rows is computed once for all of them.
      this.shared.clear();
      if (accs.length > 1) {
        walkLoads(value, (e) => {
          if (this.shared.has(e) || e.index.some((ix) => rowVar !== undefined && this.plan.deps(ix).has(rowVar))) return;
          this.load(e, site);
          const l = f.local(V128);
          f.set(l);
          this.shared.set(e, l);
        });
      }
      const pushMask = (row: number) =>
        laneTest.forEach((p, i) => {
          this.mask(p, { ...site, row });
          if (i) f.simd('v128.and');
        });
      // A test that reads what moves with the rows (x == y[...] of a max-pool gradient) is made per row.
      const perRow = rowVar !== undefined && laneTest.some((p) => this.plan.deps(p).has(rowVar));
      let mask = -1;
      if (laneTest.length && !perRow) {
        pushMask(0);
        mask = f.local(V128);
        f.set(mask);
      }
      accs.forEach((acc, r) => {
        f.get(acc);
        this.float(value, { ...site, row: r });
        if (laneTest.length) {
          f.f32(0).simd('f32x4.splat');
          if (mask >= 0) f.get(mask);
          else pushMask(r);
          f.simd('v128.bitselect');
        }
        f.simd('f32x4.add').set(acc);
      });
      this.shared.clear();
    }
    if (rowTest.length) f.end();
    this.tapAddresses.clear();
  }

  /** Pushes 4 float lanes of `e`. */
  private float(e: Expr, s: Site): void {
    const f = this.f;
    switch (e.k) {
      case 'const':
        f.f32(e.value).simd('f32x4.splat');
        return;
      case 'reduce':
        if (e !== this.plan.sum || s.acc < 0) throw new NotExpressible();
        f.get(s.acc);
        return;
      case 'load':
        return this.load(e, s);
      case 'unary':
        this.float(e.a, s);
        return this.alu(unaryAlu(e.op), true);
      case 'binary':
        if (isCompare(e) || isLogic(e)) {
          // A test as a number is 1 or 0, as in the JavaScript kernels.
          this.mask(e, s);
          f.f32(1).simd('f32x4.splat').simd('v128.and');
          return;
        }
        this.float(e.a, s);
        this.float(e.b, s);
        return this.alu(binaryAlu(e.op), true);
      case 'select':
        this.float(e.a, s);
        this.float(e.b, s);
        this.mask(e.cond, s);
        f.simd('v128.bitselect');
        return;
      default:
        throw new NotExpressible();
    }
  }

  /** Pushes a lane mask (all ones where `e` holds). */
  private mask(e: Expr, s: Site): void {
    const f = this.f;
    const deps = [...this.plan.deps(e)];
    const mixed = deps.some((v) => this.plan.lane.has(v)) && deps.some((v) => this.plan.scalar.has(v));
    if (isPure(e) && !(mixed && isLogic(e))) {
      if (deps.some((v) => this.plan.lane.has(v))) {
        const lanes = this.plan.shape(e, s.run.first, s.tap).values;
        f.v128Const(maskBytes(lanes.map((v) => v !== 0)));
        return;
      }
      const row = this.rowMasks.get(e);
      if (row !== undefined) f.get(row);
      else {
        f.v128Const(ALL).v128Const(NONE);
        this.int(e);
        f.select();
      }
      return;
    }
    if (e.k === 'binary' && isCompare(e)) {
      this.float(e.a, s);
      this.float(e.b, s);
      return this.alu(binaryAlu(e.op), true);
    }
    if (e.k === 'binary' && isLogic(e)) {
      this.mask(e.a, s);
      this.mask(e.b, s);
      f.simd(e.op === 'and' ? 'v128.and' : 'v128.or');
      return;
    }
    this.float(e, s);
    f.f32(0).simd('f32x4.splat').simd('f32x4.ne');
  }

  /** Pushes pure `e` as an i32 over the scalar loop variables (simd-pool-index.ts). */
  private int(e: Expr): void {
    pushInt(this, this.plan, e);
  }

  /** The load's dimension that moves with the lanes, or -1. */
  private laneDim(e: Expr & { k: 'load' }): number {
    return e.index.findIndex((ix) => [...this.plan.deps(ix)].some((v) => this.plan.lane.has(v)));
  }

  private rowKey(e: Expr & { k: 'load' }): string {
    const lane = this.laneDim(e);
    return JSON.stringify([e.input, e.index.map((ix, d) => (d === lane ? null : ix))]);
  }

  /** Pushes a load's address from its scalar dimensions (the lane dimension left out). */
  private rowAddress(e: Expr & { k: 'load' }): void {
    const f = this.f;
    const shape = this.k.inputs[e.input].shape;
    const st = strides(shape);
    const laneDim = this.laneDim(e);
    f.get(inputParam(e.input));
    e.index.forEach((ix, d) => {
      if (d === laneDim || st[d] === 0) return;
      if (shape[d] === BATCH) {
        if (ix.k !== 'var' || ix.name !== 'o0') throw new NotExpressible();
        f.get(this.varLocal('o0'));
      } else if (ix.k === 'const') {
        if (!Number.isInteger(ix.value) || ix.value < 0 || ix.value >= (shape[d] as number)) throw new NotExpressible();
        if (!ix.value) return;
        f.i32(ix.value);
      } else pushClampedIndex(this, this.plan, ix, shape[d] as number);
      f.i32(4 * st[d]).op('i32.mul').op('i32.add');
    });
  }

  /** Pushes a load: its row address, then a splat, a vector, or a shuffle of one or two. */
  private load(e: Expr & { k: 'load' }, s: Site): void {
    const f = this.f;
    const shared = this.shared.get(e);
    if (shared !== undefined) {
      f.get(shared);
      return;
    }
    const laneDim = this.laneDim(e);
    // The row tile's variable indexes one dimension directly (rowTileOf): a constant offset per row.
    const rowVar = this.plan.rows?.name;
    const rowDim = rowVar === undefined ? -1 : e.index.findIndex((ix) => ix.k === 'var' && ix.name === rowVar);
    const rowBytes = rowDim < 0 ? 0 : 4 * s.row * strides(this.k.inputs[e.input].shape)[rowDim];
    const row = this.rowAddresses.get(this.rowKey(e)) ?? this.tapAddresses.get(this.rowKey(e));
    if (row !== undefined) f.get(row);
    else this.rowAddress(e);
    if (laneDim < 0) {
      f.vmem('v128.load32_splat', rowBytes);
      return;
    }
    const ix = e.index[laneDim];
    const extent = this.k.inputs[e.input].shape[laneDim] as number;
    const at = this.plan.shape(ix, s.run.first, s.tap, extent);
    const delta = this.plan.delta(ix, s.run, s.tap, extent);
    // Bytes: o·delta from the column (o = 4·step), the rest a constant.
    if (delta) f.get(this.varLocal(this.plan.last.name)).i32(delta).op('i32.mul').op('i32.add');
    const rest = 4 * (at.base - delta * s.run.first);
    if (rest < 0) f.i32(rest).op('i32.add');
    const offset = Math.max(rest, 0) + rowBytes;
    const p = at.pattern;
    const n = readLength(p);
    if (n === 1) f.vmem('v128.load32_splat', offset);
    else if (n === 4 && p.every((x, l) => x === l)) f.vmem('v128.load', offset);
    else if (n === 4) f.vmem('v128.load', offset).v128Const(NONE).shuffle(lanesOf(p));
    else {
      const a = f.local(I32);
      f.tee(a).vmem('v128.load', offset).get(a).vmem('v128.load', offset + 16).shuffle(lanesOf(p));
    }
  }
}

/** Shuffle bytes taking float `p[l]` (0–7 over two vectors) into lane l. */
const lanesOf = (p: readonly number[]) => p.flatMap((x) => [0, 1, 2, 3].map((b) => 4 * x + b));

/** Every load of `e`, reductions' bodies included. */
function walkLoads(e: Expr, visit: (e: Expr & { k: 'load' }) => void): void {
  if (e.k === 'load') visit(e);
  else forEachChild(e, (c) => walkLoads(c, visit));
}

/** The tests of `e`: select conditions taken apart at and/or. */
function walkTests(e: Expr, visit: (e: Expr) => void): void {
  const leaves = (c: Expr): void => (isLogic(c) ? [c.a, c.b].forEach(leaves) : visit(c));
  if (e.k === 'select') leaves(e.cond);
  forEachChild(e, (c) => walkTests(c, visit));
}

function conjuncts(e: Expr): Expr[] {
  return e.k === 'binary' && e.op === 'and' ? [...conjuncts(e.a), ...conjuncts(e.b)] : [e];
}

