// The WebAssembly SIMD renderer: a pure function from a contraction kernel (contraction.ts) to
// one wasm function over 4-lane float32 vectors, with a register tile of vector accumulators.
//
// Two shapes of tile, chosen by where memory is contiguous (chooseTile, contraction.ts):
// - broadcast: the output's last dimension is contiguous in one operand (x·W along W's columns,
//   a convolution along output columns). Each vector holds 4 adjacent outputs; the other operand
//   is splatted. A tile is 4 rows × 8 columns (8 accumulators, under V8's ~15 vector registers).
// - dot: both operands are contiguous along a reduction (dY·Wᵀ, a filter gradient along image
//   columns). Each vector holds 4 partial sums of one output, added across lanes at the end; a
//   tile is 4 × 2 outputs.
// Reductions are plain loops over advancing pointers, tile neighbours constant address offsets;
// the epilogue (bias, activation, a gradient mask) runs on the accumulators before the one store.
import { mapExpr, type Expr } from '../../../src/ir/expr.ts';
import { BATCH, type Dim } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { binaryAlu, unaryAlu, type WasmAlu } from './alu.ts';
import { F32, FunctionBody, I32, V128, type WasmFunction } from './binary.ts';
import { ACC, chooseTile, coefOf, contractionOf, epilogueLoad, type Affine, type Contraction, type LoopVar, type Tile } from './contraction.ts';

/** Parameters of every SIMD kernel: sizes, then one byte address per array (out first). */
const BATCH_P = 0;
const LO = 1;
const HI = 2;
const OUT = 3;
const inputParam = (slot: number) => 4 + slot;

const ROWS = 4;
const BROADCAST_VECTORS = 2;
const DOT_COLS = 2;

export interface SimdKernel {
  readonly fn: WasmFunction;
  /** How the kernel is tiled, for the emitted module's comments. */
  readonly how: string;
  /**
   * An epilogue the vector code does not have (exp, tanh, sigmoid...): the wasm function stores
   * the sums and this elementwise JavaScript kernel finishes them in place, reading `out` as its
   * last input.
   */
  readonly epilogue: Kernel | null;
}

/** Thrown while rendering a kernel that cannot be expressed (a negative constant offset...): it stays JavaScript. */
class NotExpressible extends Error {}


/** A SIMD kernel in WebAssembly text format, with its description (`kiln ir --stage wasm`). */
export function simdListing(k: Kernel, s: SimdKernel): string {
  const params = ['batch', 'lo', 'hi', 'out', ...k.inputs.map((_, i) => `in${i}`)];
  return [`;; ${k.name}: ${s.how}${s.epilogue ? ` Epilogue in JavaScript: ${s.epilogue.name}.` : ''}`, s.fn.body.listing(k.name, params)].join('\n');
}

/** The SIMD version of kernel `k`, or null when it is not a contraction this renderer tiles. */
export function renderSimdKernel(k: Kernel): SimdKernel | null {
  const c = contractionOf(k);
  if (!c) return null;
  const vectorEpilogue = epilogueSupported(c.epilogue);
  if (!vectorEpilogue && !c.product) return null;
  const sums: Contraction = vectorEpilogue ? c : { ...c, epilogue: { k: 'load', input: ACC, index: c.out.map((l) => ({ k: 'var', name: l.name })) } };
  const tile = chooseTile(k, sums);
  if (!tile) return null;
  try {
    return { ...new SimdWriter(k, sums, tile).render(), epilogue: vectorEpilogue ? null : epilogueKernel(k, c) };
  } catch (e) {
    if (e instanceof NotExpressible) return null;
    throw e;
  }
}

/** The epilogue as an elementwise kernel over the stored sums (the output, read as one more input). */
function epilogueKernel(k: Kernel, c: Contraction): Kernel {
  const sums = k.inputs.length;
  const expr = mapExpr(c.epilogue, (e) => (e.k === 'load' && e.input === ACC ? { ...e, input: sums } : e));
  return { ...k, name: `${k.name}_epilogue`, expr, inputs: [...k.inputs, { dtype: k.dtype, shape: k.shape }], reads: [...k.reads, k.writes], ops: k.ops.slice(1), recomputes: [] };
}

const COMPARISONS = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);

function epilogueSupported(e: Expr): boolean {
  switch (e.k) {
    case 'const':
    case 'load':
      return true;
    case 'unary':
      return !!unaryAlu(e.op) && epilogueSupported(e.a);
    case 'binary':
      return !!binaryAlu(e.op) && epilogueSupported(e.a) && epilogueSupported(e.b);
    case 'select':
      return epilogueSupported(e.cond) && epilogueSupported(e.a) && epilogueSupported(e.b);
    default:
      return false;
  }
}

/** Where an epilogue value comes from inside a tile: the accumulator, or an address local plus offsets. */
interface TileSite {
  acc(): void;
  /** Byte offset of the element (or vector) at this site for a load whose address local is given. */
  offset(at: Affine): number;
}

class SimdWriter {
  private readonly f: FunctionBody;
  private readonly vars = new Map<string, number>();
  private readonly outNames: ReadonlySet<string>;

  constructor(
    private readonly k: Kernel,
    private readonly c: Contraction,
    private readonly tile: Tile,
  ) {
    this.f = new FunctionBody(4 + k.inputs.length);
    this.outNames = new Set(c.out.map((l) => l.name));
  }

  render(): Omit<SimdKernel, 'epilogue'> {
    const t = this.tile;
    const handled = new Set([t.rows?.name, t.kind === 'broadcast' ? t.col.name : t.cols?.name].filter((n): n is string => !!n));
    const outer = this.c.out.filter((l) => !handled.has(l.name));
    this.nest(outer, () => (t.kind === 'broadcast' ? this.broadcastRows(t) : this.dotRows(t)));
    const how =
      t.kind === 'broadcast'
        ? !this.c.product
          ? `SIMD: elementwise, 16 outputs along ${t.col.name} per step.`
          : `SIMD: 4 outputs along ${t.col.name} per vector; tile ${t.rows ? `${ROWS} ${t.rows.name} × ${4 * BROADCAST_VECTORS} ${t.col.name} (single rows: 1 × ${8 * BROADCAST_VECTORS})` : `1 × ${8 * BROADCAST_VECTORS} ${t.col.name}`}.`
        : `SIMD: 4 partial sums along ${t.red.name} per vector; tile ${t.rows ? `${ROWS} ${t.rows.name}` : '1'} × ${t.cols ? `${DOT_COLS} ${t.cols.name}` : '1'}.`;
    return { fn: { name: this.k.name, params: 4 + this.k.inputs.length, body: this.f }, how };
  }

  // ---- loops and addresses ----

  private bound(d: Dim | 'hi'): void {
    if (d === 'hi') this.f.get(HI);
    else if (d === BATCH) this.f.get(BATCH_P);
    else this.f.i32(d);
  }

  /** `for (v = from; v + step <= to; v += step) body()`; with `from` null, v continues where it is. */
  private loop(v: string, from: number | 'lo' | null, to: Dim | 'hi', step: number, body: () => void): void {
    const f = this.f;
    let i = this.vars.get(v);
    if (i === undefined) {
      i = f.local(I32);
      this.vars.set(v, i);
    }
    if (from === 'lo') f.get(LO).set(i);
    else if (from !== null) f.i32(from).set(i);
    f.block().loop();
    f.get(i).i32(step).op('i32.add');
    this.bound(to);
    f.op('i32.gt_s').brIf(1);
    body();
    f.get(i).i32(step).op('i32.add').set(i);
    f.br(0).end().end();
  }

  /** Nested loops over `dims` (o0, an output dimension, over the caller's [lo, hi)). */
  private nest(dims: readonly LoopVar[], body: () => void): void {
    if (!dims.length) return body();
    const [d, ...rest] = dims;
    this.loop(d.name, d.name === 'o0' ? 'lo' : 0, d.name === 'o0' ? 'hi' : d.extent, 1, () => this.nest(rest, body));
  }

  /** Rows in blocks of `ROWS`, then one at a time: `body(rowsInTile)`. */
  private rowLoops(rows: LoopVar | null, body: (n: number) => void): void {
    if (!rows) return body(1);
    const isSplit = rows.name === 'o0';
    this.loop(rows.name, isSplit ? 'lo' : 0, isSplit ? 'hi' : rows.extent, ROWS, () => body(ROWS));
    this.loop(rows.name, null, isSplit ? 'hi' : rows.extent, 1, () => body(1));
  }

  /** Pushes the byte address `param + 4·(c + Σ coef·v)` over the loop variables in scope, except `skip`. */
  private address(param: number, at: Affine, skip: ReadonlySet<string> = new Set()): void {
    const f = this.f;
    f.get(param);
    if (at.c) f.i32(4 * at.c).op('i32.add');
    for (const [v, x] of Object.entries(at.coef)) {
      const local = this.vars.get(v);
      if (!x || skip.has(v) || local === undefined) continue;
      f.get(local);
      f.i32(4 * x).op('i32.mul');
      f.op('i32.add');
    }
  }

  private addressLocal(param: number, at: Affine, skip?: ReadonlySet<string>): number {
    const l = this.f.local(I32);
    this.address(param, at, skip);
    this.f.set(l);
    return l;
  }

  private static offset(bytes: number): number {
    if (bytes < 0) throw new NotExpressible();
    return bytes;
  }

  private zeroed(n: number): number[] {
    const f = this.f;
    const accs = Array.from({ length: n }, () => f.local(V128));
    for (const a of accs) f.f32(0).simd('f32x4.splat').set(a);
    return accs;
  }

  /**
   * The reduction loops around `step`, the innermost driven by pointers that advance each
   * iteration; a dimension of extent 1 needs no loop. Nothing is unrolled: V8's wasm compiler
   * then schedules the loads of a long straight-line body early and spills vector registers, and
   * both a fully unrolled 3×3 convolution window and a 4× unrolled dense reduction measured
   * slower than the plain loops (the convolution 2.5× slower).
   */
  private reduction(loops: readonly LoopVar[], pointers: readonly { param: number; at: Affine; local: number }[], step: () => void): void {
    const looped = loops.filter((l) => l.extent !== 1);
    const inner = looped[looped.length - 1];
    const setPointers = (skip: ReadonlySet<string>) => {
      for (const p of pointers) {
        this.address(p.param, p.at, skip);
        this.f.set(p.local);
      }
    };
    if (!inner) {
      setPointers(new Set());
      return step();
    }
    this.nest(looped.slice(0, -1), () => {
      setPointers(new Set([inner.name]));
      this.loop(inner.name, 0, inner.extent, 1, () => {
        step();
        for (const p of pointers) this.f.get(p.local).i32(4 * coefOf(p.at, inner.name)).op('i32.add').set(p.local);
      });
    });
  }

  // ---- broadcast tiles ----

  private broadcastRows(t: Extract<Tile, { kind: 'broadcast' }>): void {
    this.rowLoops(t.rows, (rows) => {
      const vectors = rows === 1 ? 2 * BROADCAST_VECTORS : BROADCAST_VECTORS;
      const cols = Number(t.col.extent);
      this.loop(t.col.name, 0, cols, 4 * vectors, () => this.broadcastTile(t, rows, vectors, 4));
      // The last columns: smaller blocks, then a partial vector stored lane by lane.
      let done = Math.floor(cols / (4 * vectors)) * 4 * vectors;
      for (let v = vectors >> 1; v >= 1; v >>= 1) {
        if (cols - done >= 4 * v) {
          this.f.i32(done).set(this.vars.get(t.col.name)!);
          this.broadcastTile(t, rows, v, 4);
          done += 4 * v;
        }
      }
      if (cols > done) {
        this.f.i32(done).set(this.vars.get(t.col.name)!);
        this.broadcastTile(t, rows, 1, cols - done);
      }
    });
  }

  /** One tile: `rows` × `vectors` accumulators; `lanes` < 4 only for a single partial vector. */
  private broadcastTile(t: Extract<Tile, { kind: 'broadcast' }>, rows: number, vectors: number, lanes: number): void {
    const f = this.f;
    const c = this.c;
    const accs = c.product ? this.zeroed(rows * vectors) : [];
    const rowCoef = (at: Affine) => (t.rows ? coefOf(at, t.rows.name) : 0);
    if (c.product) this.broadcastProducts(t, c.product, rows, vectors, accs);
    this.store(rows, vectors, lanes, (r, q) => ({
      acc: () => f.get(accs[r * vectors + q]),
      offset: (at) => SimdWriter.offset(4 * r * rowCoef(at) + 16 * q * coefOf(at, t.col.name)),
    }), 'vec', t.col.name);
  }

  /** The reduction of a broadcast tile: each step, `vectors` loads of one operand times `rows` splats of the other. */
  private broadcastProducts(t: Extract<Tile, { kind: 'broadcast' }>, product: NonNullable<Contraction['product']>, rows: number, vectors: number, accs: readonly number[]): void {
    const f = this.f;
    const [vOp, sOp] = t.vec === 'a' ? [product.a, product.b] : [product.b, product.a];
    const pv = f.local(I32);
    const ps = f.local(I32);
    const vloaded = Array.from({ length: vectors }, () => f.local(V128));
    const splat = f.local(V128);
    const rowCoef = (at: Affine) => (t.rows ? coefOf(at, t.rows.name) : 0);
    const pointers = [
      { param: inputParam(vOp.input), at: vOp.at, local: pv },
      { param: inputParam(sOp.input), at: sOp.at, local: ps },
    ];
    this.reduction(this.c.reduce, pointers, () => {
      for (let q = 0; q < vectors; q++) f.get(pv).vmem('v128.load', 16 * q).set(vloaded[q]);
      for (let r = 0; r < rows; r++) {
        f.get(ps).vmem('v128.load32_splat', SimdWriter.offset(4 * r * rowCoef(sOp.at))).set(splat);
        for (let q = 0; q < vectors; q++) {
          const acc = accs[r * vectors + q];
          f.get(acc).get(splat).get(vloaded[q]).simd('f32x4.mul').simd('f32x4.add').set(acc);
        }
      }
    });
  }

  // ---- dot tiles ----

  private dotRows(t: Extract<Tile, { kind: 'dot' }>): void {
    this.rowLoops(t.rows, (rows) => {
      if (!t.cols) return this.dotTile(t, rows, 1);
      this.loop(t.cols.name, 0, t.cols.extent, DOT_COLS, () => this.dotTile(t, rows, DOT_COLS));
      this.loop(t.cols.name, null, t.cols.extent, 1, () => this.dotTile(t, rows, 1));
    });
  }

  private dotTile(t: Extract<Tile, { kind: 'dot' }>, rows: number, cols: number): void {
    const f = this.f;
    const c = { ...this.c, ...this.c.product! };
    const accs = this.zeroed(rows * cols);
    const [pa, pb] = [f.local(I32), f.local(I32)];
    const aRegs = Array.from({ length: rows }, () => f.local(V128));
    const bReg = f.local(V128);
    const rowCoef = (at: Affine) => (t.rows ? coefOf(at, t.rows.name) : 0);
    const colCoef = (at: Affine) => (t.cols ? coefOf(at, t.cols.name) : 0);
    const extent = Number(t.red.extent);
    const full = Math.floor(extent / 4) * 4;
    const tail = extent - full;
    const others = c.reduce.filter((r) => r.name !== t.red.name);
    const pointers = [
      { param: inputParam(c.a.input), at: c.a.at, local: pa },
      { param: inputParam(c.b.input), at: c.b.at, local: pb },
    ];
    // One step: 4 lanes of the reduction for every output of the tile; a partial step masks its product.
    const step = (mask: number) => {
      for (let r = 0; r < rows; r++) f.get(pa).vmem('v128.load', SimdWriter.offset(4 * r * rowCoef(c.a.at))).set(aRegs[r]);
      for (let q = 0; q < cols; q++) {
        f.get(pb).vmem('v128.load', SimdWriter.offset(4 * q * colCoef(c.b.at))).set(bReg);
        for (let r = 0; r < rows; r++) {
          const acc = accs[r * cols + q];
          f.get(acc).get(aRegs[r]).get(bReg).simd('f32x4.mul');
          if (mask) this.laneMask(mask);
          f.simd('f32x4.add').set(acc);
        }
      }
    };
    // The vector loop over `red` (a pointer loop, 4 lanes per step), inside the other reduction loops.
    const loops = [...others, ...(full ? [{ name: t.red.name, extent: full }] : [])];
    this.reductionDot(loops, pointers, step, tail);
    this.store(rows, cols, 1, (r, q) => ({
      acc: () => {
        const acc = accs[r * cols + q];
        f.get(acc).extractLane(0);
        for (let l = 1; l < 4; l++) f.get(acc).extractLane(l).op('f32.add');
      },
      offset: (at) => SimdWriter.offset(4 * (r * rowCoef(at) + q * colCoef(at))),
    }), 'scalar');
  }

  /** Reduction loops of a dot tile: `others` nested, the vector loop innermost (4 lanes a step), then the tail. */
  private reductionDot(loops: readonly LoopVar[], pointers: readonly { param: number; at: Affine; local: number }[], step: (mask: number) => void, tail: number): void {
    const red = (this.tile as Extract<Tile, { kind: 'dot' }>).red.name;
    const vectorLoop = loops.length && loops[loops.length - 1].name === red ? loops[loops.length - 1] : null;
    const outer = vectorLoop ? loops.slice(0, -1) : loops;
    this.nest(outer, () => {
      for (const p of pointers) {
        this.address(p.param, p.at, new Set([red]));
        this.f.set(p.local);
      }
      if (vectorLoop) {
        this.loop(red, 0, vectorLoop.extent, 4, () => {
          step(0);
          for (const p of pointers) this.f.get(p.local).i32(16).op('i32.add').set(p.local);
        });
      }
      if (tail) step(tail);
    });
  }

  /** Zeroes the lanes from `lanes` on of the vector on the stack (they read past the end, maybe NaN). */
  private laneMask(lanes: number): void {
    const mask = new Int32Array(4).map((_, l) => (l < lanes ? -1 : 0));
    this.f.v128Const(new Uint8Array(mask.buffer)).simd('v128.and');
  }

  // ---- epilogue and store ----

  /**
   * For each output of the tile: the epilogue over its accumulator, stored. `lanes` < 4 stores a
   * partial vector lane by lane.
   */
  private store(rows: number, cols: number, lanes: number, site: (r: number, q: number) => TileSite, mode: 'vec' | 'scalar', col?: string): void {
    const f = this.f;
    const loads = new Map<number, { at: Affine; local: number; splat: boolean }>();
    const collect = (e: Expr) => {
      if (e.k === 'load' && e.input !== ACC && !loads.has(e.input)) {
        const at = epilogueLoad(this.k, e, this.outNames);
        loads.set(e.input, { at, local: this.addressLocal(inputParam(e.input), at), splat: mode === 'vec' && coefOf(at, col!) === 0 });
      }
      if (e.k === 'unary') collect(e.a);
      if (e.k === 'binary') [e.a, e.b].forEach(collect);
      if (e.k === 'select') [e.cond, e.a, e.b].forEach(collect);
    };
    collect(this.c.epilogue);
    const out = this.addressLocal(OUT, this.c.outAt);
    const tmp = f.local(V128);
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) {
        const s = site(r, q);
        const outOffset = s.offset(this.c.outAt);
        if (mode === 'scalar') {
          f.get(out);
          this.value(this.c.epilogue, s, loads, mode);
          f.f32Store(outOffset);
        } else if (lanes === 4) {
          f.get(out);
          this.value(this.c.epilogue, s, loads, mode);
          f.vmem('v128.store', outOffset);
        } else {
          this.value(this.c.epilogue, s, loads, mode);
          f.set(tmp);
          for (let l = 0; l < lanes; l++) f.get(out).get(tmp).extractLane(l).f32Store(outOffset + 4 * l);
        }
      }
    }
  }

  /** Emits an ALU instruction that `epilogueSupported` vouched for. */
  private alu(op: WasmAlu | null, vec: boolean): void {
    if (!op) throw new NotExpressible();
    if (vec) this.f.simd(op.vec);
    else this.f.op(op.scalar);
  }

  /** Pushes the epilogue's value at a tile site: a vector (4 outputs) or a scalar. */
  private value(e: Expr, s: TileSite, loads: ReadonlyMap<number, { at: Affine; local: number; splat: boolean }>, mode: 'vec' | 'scalar'): void {
    const f = this.f;
    const vec = mode === 'vec';
    switch (e.k) {
      case 'const':
        f.f32(e.value);
        if (vec) f.simd('f32x4.splat');
        return;
      case 'load': {
        if (e.input === ACC) return s.acc();
        const l = loads.get(e.input)!;
        f.get(l.local);
        if (!vec) f.f32Load(s.offset(l.at));
        else f.vmem(l.splat ? 'v128.load32_splat' : 'v128.load', s.offset(l.at));
        return;
      }
      case 'unary':
        this.value(e.a, s, loads, mode);
        this.alu(unaryAlu(e.op), vec);
        return;
      case 'binary':
        this.value(e.a, s, loads, mode);
        this.value(e.b, s, loads, mode);
        this.alu(binaryAlu(e.op), vec);
        // A comparison is 1 or 0, as in the JavaScript kernels.
        if (COMPARISONS.has(e.op)) {
          if (vec) f.f32(1).simd('f32x4.splat').simd('v128.and');
          else f.op('f32.convert_i32_u');
        }
        return;
      case 'select':
        this.value(e.a, s, loads, mode);
        this.value(e.b, s, loads, mode);
        this.value(e.cond, s, loads, mode);
        f.f32(0);
        if (vec) f.simd('f32x4.splat').simd('f32x4.ne').simd('v128.bitselect');
        else f.op('f32.ne').op('select');
        return;
      default:
        throw new NotExpressible();
    }
  }
}
