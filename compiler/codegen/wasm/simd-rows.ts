// WebAssembly SIMD for the kernels the contraction tiles leave in JavaScript: plain reductions
// (softmax's max and Σ exp, layer norm's mean and variance, bias gradients, losses) and
// elementwise kernels with exp, sigmoid or tanh (softmax's exp(x − max) / Σ, a loss's exp, an
// LSTM's gates, the optimizer update of a 1-D parameter). Three shapes:
// - row: the reduction runs along a contiguous axis (the last reduction variable has stride 1):
//   4 partial results per vector, masked at the row's tail, combined across lanes at the end;
// - column: the output's last axis is contiguous and the reduction runs across rows (a bias
//   gradient Σ over batch and tokens): 16 outputs per step, one vector accumulator per 4, no
//   lane combining;
// - map: elementwise, 16 outputs along the last axis per step.
//
// Float32 contract. Sums accumulate in float32 (the JavaScript kernels, in float64): a row sum
// adds elements i ≡ l (mod 4) in lane l, then ((l0 + l1) + l2) + l3; a column sum adds rows in
// order. Each is a fixed order, so a result is the same on every run and either thread split,
// and it differs from the float64 sum by at most about n·2⁻²⁴·Σ|xᵢ| for n terms. max and min
// keep the JavaScript rule (take x where x > acc, or x < acc) per lane of each accumulator (a row
// has up to 4, a column one), a NaN making its lane NaN, and are equal in value to the
// JavaScript kernels' (NaN propagates); only the sign of a zero maximum may differ, as the
// lanes see the row in another order. exp, sigmoid and tanh: simd-rows-math.ts.
import type { Expr } from '../../../src/ir/expr.ts';
import { BATCH_VAR, forEachChild } from '../../../src/ir/expr.ts';
import { BATCH, strides, type Dim } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { F32, I32, V128 } from './binary.ts';
import { ACC, coefOf, loadOffset, replaceSum, type Affine, type Contraction, type LoopVar } from './contraction.ts';
import { piecesAlong, ROW_UNARY, rowExprSupported, rowUnary, type Piece } from './simd-rows-math.ts';
import { BATCH_P, HI, inputParam, LO, NotExpressible, OUT, SimdWriter, type SimdKernel, type TileSite } from './simd-writer.ts';

type ReduceOp = 'sum' | 'max' | 'min';

/** How a kernel is vectorised here. */
export type RowPlan =
  | { readonly kind: 'row'; readonly c: Contraction; readonly op: ReduceOp; readonly body: Expr; readonly along: LoopVar }
  | { readonly kind: 'column'; readonly c: Contraction; readonly op: ReduceOp; readonly body: Expr }
  /** `pieces`: stretches of one output axis, each its own map (a concat's parts: piecesAlong). */
  | { readonly kind: 'map'; readonly c: Contraction; readonly pieces?: { readonly along: string; readonly list: readonly Piece[] } };

const IDENTITY: Record<ReduceOp, number> = { sum: 0, max: -Infinity, min: Infinity };
/** Vectors a step of a row reduction (row), and accumulators of a max or min: independent chains of compare-and-keep. */
const ACCS = 4;

/** Each piece is its own loop nest: past this many (a concat of T time steps), the kernel stays JavaScript, so code does not grow with T. */
const MAX_PIECES = 16;

/** The unary ops `e` uses. */
function unaryOps(e: Expr): Set<string> {
  const ops = new Set<string>();
  const visit = (x: Expr) => {
    if (x.k === 'unary') ops.add(x.op);
    forEachChild(x, visit);
  };
  visit(e);
  return ops;
}

/** Every load of `e` (reductions' bodies included). */
function loadsOf(e: Expr): (Expr & { k: 'load' })[] {
  const found: (Expr & { k: 'load' })[] = [];
  const visit = (x: Expr) => (x.k === 'load' ? found.push(x) : forEachChild(x, visit));
  visit(e);
  return found;
}

/** The body's loads' offsets over output and reduction variables; null when one is not affine. */
function bodyLoads(k: Kernel, body: Expr, vars: ReadonlySet<string>): Affine[] | null {
  const out: Affine[] = [];
  for (const l of loadsOf(body)) {
    const at = loadOffset(k, l, vars);
    if (!at) return null;
    out.push(at);
  }
  return out;
}

/** No reduction, every load affine in the output index, and no variable but the output's and the batch size (a mean's divisor). */
function epilogueOk(k: Kernel, e: Expr, outNames: ReadonlySet<string>): boolean {
  let ok = true;
  const visit = (x: Expr) => {
    if (x.k === 'reduce' || (x.k === 'var' && !outNames.has(x.name) && x.name !== BATCH_VAR)) ok = false;
    if (x.k === 'load' && x.input !== ACC && !loadOffset(k, x, outNames)) ok = false;
    if (x.k !== 'load') forEachChild(x, visit);
  };
  visit(e);
  return ok;
}

/** Every load moves by 0 or 1 element along `v`, and at least one by 1. */
const contiguousAlong = (ats: Iterable<Affine>, v: string) => {
  const cs = [...ats].map((a) => coefOf(a, v));
  return cs.every((x) => x === 0 || x === 1) && cs.includes(1);
};

/** The kernel as a row reduction, a column reduction or an elementwise map that this file renders; or null. */
export function rowPlanOf(k: Kernel): RowPlan | null {
  if (k.dtype !== 'float32' || k.inputs.some((t) => t.dtype !== 'float32')) return null;
  const out = k.shape.map((extent, d) => ({ name: `o${d}`, extent }));
  const outNames = new Set(out.map((l) => l.name));
  const outStrides = strides(k.shape);
  const outAt: Affine = { c: 0, coef: Object.fromEntries(out.map((l, d) => [l.name, outStrides[d]])) };
  // A scalar output (a loss summed over everything) has no output axis: only a row reduction renders it.
  const last: LoopVar = out[out.length - 1] ?? { name: '', extent: 1 };
  // The vector axis is a constant extent, or o0 itself (a 1-D output), which the loops bound by [lo, hi).
  const lastOk = out.length > 0 && (last.extent !== BATCH || last.name === 'o0');
  const reduces: (Expr & { k: 'reduce' })[] = [];
  const find = (e: Expr) => (e.k === 'reduce' ? reduces.push(e) : forEachChild(e, find));
  find(k.expr);
  if (reduces.length === 0) {
    if (!lastOk) return null;
    const mapOk = (e: Expr) => epilogueOk(k, e, outNames) && rowExprSupported(e) && !!bodyLoads(k, e, outNames)?.every((a) => [0, 1].includes(coefOf(a, last.name)));
    const c: Contraction = { out, reduce: [], product: null, epilogue: k.expr, outAt };
    if (mapOk(k.expr)) return { kind: 'map', c };
    // A concat's parts along the vector axis, or else along an outer axis of fixed extent (rows of [W; R]).
    for (const v of [last, ...out.slice(0, -1)]) {
      if (v.extent === BATCH || (v === last && v.name === 'o0')) continue;
      const list = piecesAlong(k.expr, v.name, Number(v.extent));
      if (list && list.length <= MAX_PIECES && list.every((p) => mapOk(p.expr))) return { kind: 'map', c, pieces: { along: v.name, list } };
    }
    return null;
  }
  if (reduces.length !== 1) return null;
  const r = reduces[0];
  if (r.op !== 'sum' && r.op !== 'max' && r.op !== 'min') return null;
  if (!rowExprSupported(r.body)) return null;
  const epilogue = replaceSum(k.expr, r, out);
  if (!epilogueOk(k, epilogue, outNames) || !rowExprSupported(epilogue)) return null;
  const ats = bodyLoads(k, r.body, new Set([...outNames, ...r.vars.map((v) => v.name)]));
  if (!ats) return null;
  const c: Contraction = { out, reduce: r.vars, product: null, epilogue, outAt };
  const epilogueAts = loadsOf(epilogue).filter((l) => l.input !== ACC).map((l) => loadOffset(k, l, outNames)!);
  const column = lastOk && contiguousAlong(ats, last.name) && epilogueAts.every((a) => [0, 1].includes(coefOf(a, last.name)));
  if (column && (last.name === 'o0' || Number(last.extent) >= 4)) return { kind: 'column', c, op: r.op, body: r.body };
  // Rows shorter than a vector (a 3-tap pooling window) gain nothing from lanes: they stay JavaScript.
  const along = [...r.vars].reverse().find((v) => v.extent !== BATCH && v.extent !== 1);
  if (along && Number(along.extent) >= 4 && contiguousAlong(ats, along.name)) return { kind: 'row', c, op: r.op, body: r.body, along };
  return column ? { kind: 'column', c, op: r.op, body: r.body } : null;
}

/** The SIMD version of a kernel that rowPlanOf accepts, or null. */
export function renderRowKernel(k: Kernel): SimdKernel | null {
  const plan = rowPlanOf(k);
  if (!plan) return null;
  try {
    const w = new RowWriter(k, plan);
    const how = w.render();
    return { fn: { name: k.name, params: 4 + k.inputs.length, body: w.f }, how, epilogue: null };
  } catch (e) {
    if (e instanceof NotExpressible) return null;
    throw e;
  }
}

/** A load's address local, its offset and whether a vector of it is one element splatted. */
interface Site { readonly at: Affine; readonly local: number; readonly splat: boolean }
const NO_LOADS = new Map<string, Site>();

class RowWriter extends SimdWriter {
  /** Vectors run along this variable: loads that do not move along it are splatted. */
  private readonly vecVar: string;
  /** The loads in scope, by input and offset (one input may be read at several: an LSTM cell's gates). */
  private sites = new Map<string, Site>();
  private readonly allVars: ReadonlySet<string>;

  constructor(k: Kernel, private readonly plan: RowPlan) {
    const last = plan.c.out[plan.c.out.length - 1] ?? { name: '', extent: 1 };
    super(k, plan.c, { kind: 'broadcast', col: last, rows: null, vec: 'a' }, false);
    this.vecVar = plan.kind === 'row' ? plan.along.name : last.name;
    this.allVars = new Set([...this.outNames, ...plan.c.reduce.map((v) => v.name)]);
  }

  private keyOf(e: Expr & { k: 'load' }): { key: string; at: Affine } {
    const at = loadOffset(this.k, e, this.allVars);
    if (!at) throw new NotExpressible();
    return { key: `${e.input}:${JSON.stringify(at)}`, at };
  }

  /** Loads through this.sites (an address local made at first use where none walks it); exp, sigmoid, tanh here; the rest as SimdWriter computes them. */
  override value(e: Expr, s: TileSite, loads: ReadonlyMap<string, Site>, mode: 'vec' | 'scalar'): void {
    const f = this.f;
    if (e.k === 'load' && e.input !== ACC) {
      const { key, at } = this.keyOf(e);
      let site = this.sites.get(key);
      if (!site) {
        site = { at, local: this.addressLocal(inputParam(e.input), at), splat: coefOf(at, this.vecVar) === 0 };
        this.sites.set(key, site);
      }
      f.get(site.local);
      if (mode === 'scalar') f.f32Load(s.offset(site.at));
      else f.vmem(site.splat ? 'v128.load32_splat' : 'v128.load', s.offset(site.at));
      return;
    }
    if (e.k === 'unary' && ROW_UNARY.has(e.op)) {
      this.value(e.a, s, loads, mode);
      return rowUnary(f, e.op, mode === 'vec');
    }
    if (e.k === 'var' && e.name === BATCH_VAR) {
      f.get(BATCH_P).op('f32.convert_i32_u');
      if (mode === 'vec') f.simd('f32x4.splat');
      return;
    }
    super.value(e, s, loads, mode);
  }

  /** The epilogue at each of `vectors` sites, stored (`lanes` < 4: one partial vector, lane by lane); its loads' addresses made here. */
  private put(vectors: number, lanes: number, site: (q: number) => TileSite, mode: 'vec' | 'scalar', epilogue: Expr = this.c.epilogue): void {
    const f = this.f;
    this.sites = new Map();
    const out = this.addressLocal(OUT, this.c.outAt);
    const tmp = f.local(V128);
    for (let q = 0; q < vectors; q++) {
      const at = site(q).offset(this.c.outAt);
      if (mode === 'scalar' || lanes === 4) {
        f.get(out);
        this.value(epilogue, site(q), NO_LOADS, mode);
        if (mode === 'scalar') f.f32Store(at);
        else f.vmem('v128.store', at);
      } else {
        this.value(epilogue, site(q), NO_LOADS, mode);
        f.set(tmp);
        for (let l = 0; l < lanes; l++) f.get(out).get(tmp).extractLane(l).f32Store(at + 4 * l);
      }
    }
  }

  render(): string {
    const p = this.plan;
    const last = p.c.out[p.c.out.length - 1];
    if (p.kind === 'row') {
      this.nest(p.c.out, () => this.row(p));
      return `SIMD: ${p.op} along ${p.along.name}, 4 partial results per vector, combined across lanes.`;
    }
    const pieces = p.kind === 'map' ? p.pieces : undefined;
    const outer = p.c.out.slice(0, -1);
    if (pieces && pieces.along !== last.name) this.outerPieces(outer, last, pieces.along, pieces.list);
    else this.nest(outer, () => (pieces?.list ?? [{ from: 0, to: last.extent, expr: p.c.epilogue }]).forEach((q) => this.columns(last, q.from, q.to, q.expr)));
    if (p.kind === 'column') return `SIMD: ${p.op} across rows, 16 outputs along ${last.name} per step.`;
    const poly = [...ROW_UNARY].filter((op) => unaryOps(p.c.epilogue).has(op));
    const split = pieces ? ` in ${pieces.list.length} stretches of ${pieces.along} (${pieces.list.map((q) => `[${q.from}, ${q.to})`).join(', ')}), each one branch of the selects on it` : '';
    return `SIMD: elementwise${poly.length ? ` (${poly.join(', ')} as polynomials)` : ''}, 16 outputs along ${last.name} per step${last.name === 'o0' ? ' (a 1-D output)' : ''}${split}.`;
  }

  // ---- row reductions ----

  private row(p: Extract<RowPlan, { kind: 'row' }>): void {
    const f = this.f;
    const extent = Number(p.along.extent);
    const full = Math.floor(extent / 4) * 4;
    const tail = extent - full;
    // Blocks of ACCS vectors a step. max and min keep one accumulator per vector of a block (a row
    // of 64 is 16 vectors: one accumulator made each vector wait for the last one's compare and
    // select); a sum keeps one, its contract's order, and the block still pays: four bodies side
    // by side overlap (softmax's Σ exp(x − max) over rows of 64: 0.62 -> 0.48 ms).
    const u = Math.min(ACCS, full / 4); // full ≥ 4: rowPlanOf
    const accs = Array.from({ length: p.op === 'sum' ? 1 : u }, () => f.local(V128));
    const nan = p.op === 'sum' ? -1 : f.local(V128);
    const outer = p.c.reduce.filter((v) => v.name !== p.along.name && v.extent !== 1);
    const at = (q: number): TileSite => ({ acc: () => undefined, offset: (a) => SimdWriter.offset(16 * q * coefOf(a, p.along.name)) });
    for (const acc of accs) f.f32(IDENTITY[p.op]).simd('f32x4.splat').set(acc);
    if (nan >= 0) f.v128Const(new Uint8Array(16)).set(nan);
    const step = (vectors: number) => {
      for (let q = 0; q < vectors; q++) {
        this.value(p.body, at(q), NO_LOADS, 'vec');
        this.combine(p.op, accs[q % accs.length], nan);
      }
      for (const l of this.sites.values()) if (!l.splat) f.get(l.local).i32(16 * vectors).op('i32.add').set(l.local);
    };
    this.nest(outer, () => {
      this.sites = this.pointers(p.body, new Set([p.along.name]));
      // Blocks of u vectors, then single vectors (into the first accumulator), then the partial one.
      const many = u > 1;
      if (many) this.loop(p.along.name, 0, 4 * u * Math.floor(full / (4 * u)), 4 * u, () => step(u));
      if (!many || full % (4 * u)) this.loop(p.along.name, many ? null : 0, full, 4, () => step(1));
      if (tail) {
        // Lanes past the row's end (the allocator leaves 16 bytes after each array) become the identity.
        this.value(p.body, at(0), NO_LOADS, 'vec');
        f.f32(IDENTITY[p.op]).simd('f32x4.splat');
        f.v128Const(new Uint8Array(new Int32Array([0, 1, 2, 3].map((l) => (l < tail ? -1 : 0))).buffer));
        f.simd('v128.bitselect');
        this.combine(p.op, accs[0], nan);
      }
    });
    for (const acc of accs.slice(1)) {
      f.get(accs[0]).get(acc);
      f.simd(p.op === 'max' ? 'f32x4.pmax' : 'f32x4.pmin').set(accs[0]);
    }
    // A lane that met a NaN is NaN (the JavaScript rule keeps the first NaN; its payload is not part of the contract).
    if (nan >= 0) {
      f.f32(NaN).simd('f32x4.splat').get(accs[0]).get(nan).simd('v128.bitselect').set(accs[0]);
    }
    const sum = f.local(F32);
    f.get(accs[0]).extractLane(0).set(sum);
    for (let l = 1; l < 4; l++) {
      f.get(accs[0]).extractLane(l);
      this.combineScalar(p.op, sum);
    }
    this.put(1, 1, () => ({ acc: () => f.get(sum), offset: () => 0 }), 'scalar');
  }

  /**
   * acc = op(acc, x) for the vector x on the stack. A row's max or min (`nan` its NaN lanes'
   * mask): pmax(acc, x) = acc < x ? x : acc, the JavaScript rule for all but NaN, one maxps
   * (f32x4.max is about 7 instructions for its NaN and ±0 rules), and nan |= x ≠ x beside it.
   * A column's (`nan` < 0): take x where x > acc, or x < acc, or x is NaN.
   */
  private combine(op: ReduceOp, acc: number, nan = -1): void {
    const f = this.f;
    if (op === 'sum') {
      f.get(acc).simd('f32x4.add').set(acc);
      return;
    }
    const x = f.local(V128);
    f.set(x);
    if (nan >= 0) {
      f.get(acc).get(x).simd(op === 'max' ? 'f32x4.pmax' : 'f32x4.pmin').set(acc);
      f.get(x).get(x).simd('f32x4.ne').get(nan).simd('v128.or').set(nan);
      return;
    }
    f.get(x).get(acc);
    f.get(x).get(acc).simd(op === 'max' ? 'f32x4.gt' : 'f32x4.lt');
    f.get(x).get(x).simd('f32x4.ne').simd('v128.or');
    f.simd('v128.bitselect').set(acc);
  }

  /** The scalar form of combine, for the lanes: sum = op(sum, x). */
  private combineScalar(op: ReduceOp, sum: number): void {
    const f = this.f;
    if (op === 'sum') {
      f.get(sum).op('f32.add').set(sum);
      return;
    }
    const x = f.local(F32);
    f.set(x);
    f.get(x).get(sum);
    f.get(x).get(sum).op(op === 'max' ? 'f32.gt' : 'f32.lt');
    f.get(x).get(x).op('f32.ne').op('i32.or');
    f.select().set(sum);
  }

  /** Pointer locals for the body's loads at the current loop variables (those in `skip` at 0), by input and offset. */
  private pointers(body: Expr, skip: ReadonlySet<string>): Map<string, Site> {
    const sites = new Map<string, Site>();
    for (const l of loadsOf(body)) {
      const { key, at } = this.keyOf(l);
      if (sites.has(key)) continue;
      const local = this.f.local(I32);
      this.address(inputParam(l.input), at, skip);
      this.f.set(local);
      sites.set(key, { at, local, splat: coefOf(at, this.vecVar) === 0 });
    }
    return sites;
  }

  // ---- column reductions and maps: vectors along the output's last axis ----

  /**
   * The outer loops with axis `along` run piece by piece, each piece's stretch the loop's range
   * (for o0, within the caller's [lo, hi)), the rows of each piece mapped with its expression.
   */
  private outerPieces(dims: readonly LoopVar[], last: LoopVar, along: string, list: readonly Piece[]): void {
    const f = this.f;
    const at = dims.findIndex((d) => d.name === along);
    const [before, d, after] = [dims.slice(0, at), dims[at], dims.slice(at + 1)];
    this.nest(before, () => {
      for (const q of list) {
        const inner = () => this.nest(after, () => this.columns(last, 0, last.extent, q.expr));
        if (d.name !== 'o0') {
          this.loop(d.name, q.from, q.to, 1, inner);
          continue;
        }
        // o0 over [max(lo, from), min(hi, to)).
        const i = this.varLocal(d.name);
        f.get(LO).i32(q.from).get(LO).i32(q.from).op('i32.gt_s').select().set(i);
        this.whileLess(i, () => f.get(HI).i32(q.to).get(HI).i32(q.to).op('i32.lt_s').select(), 1, inner);
      }
    });
  }

  /** Blocks of 16 outputs along `last` over [start, end) (the whole axis, or a map's piece), then of 4, then a partial vector. */
  private columns(last: LoopVar, start: number, end: Dim, epilogue: Expr): void {
    const split = last.name === 'o0';
    const from = split ? 'lo' : start;
    const to = split ? 'hi' : end;
    this.loop(last.name, from, to, 16, () => this.block(last, 4, 4, epilogue));
    this.loop(last.name, null, to, 4, () => this.block(last, 1, 4, epilogue));
    if (split) {
      this.loop(last.name, null, to, 1, () => this.block(last, 1, 1, epilogue));
      return;
    }
    const rest = (Number(end) - start) % 4;
    if (rest) {
      this.f.i32(Number(end) - rest).set(this.varLocal(last.name));
      this.block(last, 1, rest, epilogue);
    }
  }

  /** `vectors` vectors of outputs at the current position (`lanes` < 4: one partial vector, stored lane by lane). */
  private block(last: LoopVar, vectors: number, lanes: number, epilogue: Expr): void {
    const p = this.plan;
    const f = this.f;
    const site = (q: number): TileSite => ({ acc: () => undefined, offset: (at) => SimdWriter.offset(16 * q * coefOf(at, last.name)) });
    if (p.kind === 'map') return this.put(vectors, lanes, site, 'vec', epilogue);
    const accs = Array.from({ length: vectors }, () => f.local(V128));
    for (const a of accs) f.f32(IDENTITY[p.op]).simd('f32x4.splat').set(a);
    const walked = new Map(loadsOf(p.body).map((l) => [this.keyOf(l).key, l]));
    const ptrs = [...walked].map(([key, l]) => ({ key, param: inputParam(l.input), at: this.keyOf(l).at, local: f.local(I32) }));
    this.sites = new Map(ptrs.map((q) => [q.key, { at: q.at, local: q.local, splat: coefOf(q.at, last.name) === 0 }]));
    this.reduction(this.c.reduce, ptrs, () => {
      accs.forEach((acc, q) => {
        this.value(p.body, site(q), NO_LOADS, 'vec');
        this.combine(p.op, acc);
      });
    });
    this.put(vectors, lanes, (q) => ({ acc: () => f.get(accs[q]), offset: site(q).offset }), 'vec');
  }
}
