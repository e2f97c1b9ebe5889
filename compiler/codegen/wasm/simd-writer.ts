// The machinery every SIMD kernel shape shares: loops over i32 locals, affine byte addresses,
// vector accumulators, the multiply-add (plain, or relaxed_madd in the relaxed-SIMD variant), and
// the epilogue evaluated on the accumulators and stored. The tile shapes live in simd-kernel.ts
// (register tiles) and simd-blocked.ts (packed panels for large products).
import type { Expr } from '../../../src/ir/expr.ts';
import { BATCH, type Dim } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { binaryAlu, unaryAlu, type WasmAlu } from './alu.ts';
import { FunctionBody, I32, V128 } from './binary.ts';
import type { WasmFunction } from './wasm-module.ts';
import { ACC, coefOf, epilogueLoad, type Affine, type Contraction, type LoopVar, type Tile } from './contraction.ts';

/** Parameters of every SIMD kernel: sizes, then one byte address per array (out first). */
export const BATCH_P = 0;
export const LO = 1;
export const HI = 2;
export const OUT = 3;
export const inputParam = (slot: number) => 4 + slot;
/** A kernel's function body over (batch, lo, hi, out, inputs…): it does nothing for an empty row range. */
export const kernelBody = (inputs: number) => new FunctionBody(inputParam(inputs), { lo: LO, hi: HI });

/** Rows of a register tile. */
export const ROWS = 4;

/** Thrown while rendering a kernel that cannot be expressed (a negative constant offset...): it stays JavaScript. */
export class NotExpressible extends Error {}

const COMPARISONS = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);

/** Where an epilogue value comes from inside a tile: the accumulator, or an address local plus offsets. */
export interface TileSite {
  acc(): void;
  /** Byte offset of the element (or vector) at this site for a load whose address local is given. */
  offset(at: Affine): number;
}

/** A pointer local that walks an operand: its parameter, affine offset and local. */
export interface Pointer {
  readonly param: number;
  readonly at: Affine;
  readonly local: number;
}

/** The key of an epilogue load in `store`'s address locals: its input and its offset. */
const loadKey = (input: number, at: Affine) => `${input}:${JSON.stringify(at)}`;

export class SimdWriter {
  readonly f: FunctionBody;
  readonly vars = new Map<string, number>();
  readonly outNames: ReadonlySet<string>;

  constructor(
    readonly k: Kernel,
    readonly c: Contraction,
    readonly tile: Tile,
    /** Emit f32x4.relaxed_madd for the products (the relaxed-SIMD variant). */
    readonly relaxed: boolean,
    /**
     * Render only the single-row loop over the caller's rows (`<name>_rows`, for calls of fewer
     * than ROWS rows: simd-kernel.ts); the kernel's other loops are unchanged.
     */
    readonly singleRows = false,
  ) {
    this.f = kernelBody(k.inputs.length);
    this.outNames = new Set(c.out.map((l) => l.name));
    this.fused = relaxed;
  }

  /** Whether `madd` emits relaxed_madd: the relaxed variant's choice, which a tile shape may turn off for a stretch of code. */
  fused: boolean;

  /** `acc += a · b` on vectors: `a` and `b` pushed by `operands`; one rounding with relaxed_madd where the engine fuses. */
  madd(acc: number, operands: () => void): void {
    const f = this.f;
    if (this.fused) {
      operands();
      f.get(acc).simd('f32x4.relaxed_madd').set(acc);
    } else {
      f.get(acc);
      operands();
      f.simd('f32x4.mul').simd('f32x4.add').set(acc);
    }
  }

  /** The i32 local of loop variable `v` (made on first use). */
  varLocal(v: string): number {
    let i = this.vars.get(v);
    if (i === undefined) {
      i = this.f.local(I32);
      this.vars.set(v, i);
    }
    return i;
  }

  // ---- loops and addresses ----

  bound(d: Dim | 'hi'): void {
    if (d === 'hi') this.f.get(HI);
    else if (d === BATCH) this.f.get(BATCH_P);
    else this.f.i32(d);
  }

  /** `while (i < end) { body(); i += step }` over local `i` (set by the caller); `end` pushes the bound. */
  whileLess(i: number, end: () => void, step: number, body: () => void): void {
    this.f.whileLess(i, end, () => {
      body();
      this.f.get(i).i32(step).op('i32.add').set(i);
    });
  }

  /** `for (v = from; v + step <= to; v += step) body()`; with `from` null, v continues where it is. */
  loop(v: string, from: number | 'lo' | null, to: Dim | 'hi', step: number, body: () => void): void {
    const f = this.f;
    const i = this.varLocal(v);
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
  nest(dims: readonly LoopVar[], body: () => void): void {
    if (!dims.length) return body();
    const [d, ...rest] = dims;
    this.loop(d.name, d.name === 'o0' ? 'lo' : 0, d.name === 'o0' ? 'hi' : d.extent, 1, () => this.nest(rest, body));
  }

  /**
   * Which row loops a tile over `rows` needs: blocks of ROWS, single rows, or both. A literal extent
   * says which would run; one that never would is not emitted (less code for V8 to compile).
   */
  static rowTiles(rows: LoopVar): { blocks: boolean; singles: boolean } {
    if (rows.name === 'o0' || rows.extent === BATCH) return { blocks: true, singles: true };
    const extent = Number(rows.extent);
    return { blocks: extent >= ROWS, singles: extent % ROWS !== 0 };
  }

  /** Rows in blocks of `ROWS`, then one at a time: `body(rowsInTile)`. */
  rowLoops(rows: LoopVar | null, body: (n: number) => void): void {
    if (!rows) return body(1);
    const isSplit = rows.name === 'o0';
    if (isSplit && this.singleRows) return this.loop(rows.name, 'lo', 'hi', 1, () => body(1));
    const { blocks, singles } = SimdWriter.rowTiles(rows);
    if (blocks) this.loop(rows.name, isSplit ? 'lo' : 0, isSplit ? 'hi' : rows.extent, ROWS, () => body(ROWS));
    if (singles) this.loop(rows.name, blocks ? null : 0, isSplit ? 'hi' : rows.extent, 1, () => body(1));
  }

  /** Pushes the byte address `param + 4·(c + Σ coef·v)` over the loop variables in scope, except `skip`. */
  address(param: number, at: Affine, skip: ReadonlySet<string> = new Set()): void {
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

  addressLocal(param: number, at: Affine, skip?: ReadonlySet<string>): number {
    const l = this.f.local(I32);
    this.address(param, at, skip);
    this.f.set(l);
    return l;
  }

  static offset(bytes: number): number {
    if (bytes < 0) throw new NotExpressible();
    return bytes;
  }

  zeroed(n: number): number[] {
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
   * slower than the plain loops (the convolution 2.5× slower; the 4 × 8 blocked tile unrolled
   * twice, 1.5× slower). TurboFan unrolls such a loop twice itself and keeps it in registers.
   */
  reduction(loops: readonly LoopVar[], pointers: readonly { param: number; at: Affine; local: number }[], step: () => void): void {
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
      const strided = pointers.map((p) => ({ local: p.local, stride: 4 * coefOf(p.at, inner.name) }));
      this.f.stepLoop(strided, () => this.bound(inner.extent), step);
    });
  }

  laneMask(lanes: number): void {
    const mask = new Int32Array(4).map((_, l) => (l < lanes ? -1 : 0));
    this.f.v128Const(new Uint8Array(mask.buffer)).simd('v128.and');
  }

  // ---- epilogue and store ----

  /**
   * For each output of the tile: the epilogue over its accumulator, stored. `lanes` < 4 stores a
   * partial vector lane by lane.
   */
  store(rows: number, cols: number, lanes: number, site: (r: number, q: number) => TileSite, mode: 'vec' | 'scalar', col?: string, epilogue: Expr = this.c.epilogue): void {
    const f = this.f;
    const loads = new Map<string, { at: Affine; local: number; splat: boolean }>();
    const collect = (e: Expr) => {
      if (e.k === 'load' && e.input !== ACC) {
        // By input and offset: one input may be read at two (slices of one value, an LSTM's gate blocks).
        const at = epilogueLoad(this.k, e, this.outNames);
        const key = loadKey(e.input, at);
        if (!loads.has(key)) loads.set(key, { at, local: this.addressLocal(inputParam(e.input), at), splat: mode === 'vec' && coefOf(at, col!) === 0 });
      }
      if (e.k === 'unary') collect(e.a);
      if (e.k === 'binary') [e.a, e.b].forEach(collect);
      if (e.k === 'select') [e.cond, e.a, e.b].forEach(collect);
    };
    collect(epilogue);
    const out = this.addressLocal(OUT, this.c.outAt);
    const tmp = f.local(V128);
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) {
        const s = site(r, q);
        const outOffset = s.offset(this.c.outAt);
        if (mode === 'scalar') {
          f.get(out);
          this.value(epilogue, s, loads, mode);
          f.f32Store(outOffset);
        } else if (lanes === 4) {
          f.get(out);
          this.value(epilogue, s, loads, mode);
          f.vmem('v128.store', outOffset);
        } else {
          this.value(epilogue, s, loads, mode);
          f.set(tmp);
          for (let l = 0; l < lanes; l++) f.get(out).get(tmp).extractLane(l).f32Store(outOffset + 4 * l);
        }
      }
    }
  }

  /** Emits an ALU instruction that `epilogueSupported` vouched for. */
  alu(op: WasmAlu | null, vec: boolean): void {
    if (!op) throw new NotExpressible();
    if (vec) this.f.simd(op.vec);
    else this.f.op(op.scalar);
  }

  /**
   * max(x, c) or min(x, c) with a constant c on vectors (a ReLU is max(x, 0)), as one pmax/pmin
   * where it means the same, and returns true; else false. f32x4.max/min handle NaN and ±0 in
   * either operand, which V8 does in 8 x86 instructions; pmax(x, c) = x < c ? c : x is one (maxps)
   * and already right for a NaN x, which it returns, and for every x ≠ c. Of equal operands it
   * returns x: only ±0 can differ, max(−0, +0) being +0, which adding +0 restores (it changes no
   * other value); min(+0, −0) = −0 has no such fix, so min with c = −0 keeps f32x4.min.
   */
  private pseudoMinMax(e: Extract<Expr, { k: 'binary' }>, s: TileSite, loads: ReadonlyMap<string, { at: Affine; local: number; splat: boolean }>): boolean {
    if (e.op !== 'max' && e.op !== 'min') return false;
    const [x, c] = e.b.k === 'const' ? [e.a, e.b] : e.a.k === 'const' ? [e.b, e.a] : [null, null];
    if (!x || c?.k !== 'const' || Number.isNaN(c.value) || (e.op === 'min' && Object.is(c.value, -0))) return false;
    this.value(x, s, loads, 'vec');
    this.f.f32(c.value).simd('f32x4.splat').simd(e.op === 'max' ? 'f32x4.pmax' : 'f32x4.pmin');
    if (e.op === 'max' && Object.is(c.value, 0)) this.f.f32(0).simd('f32x4.splat').simd('f32x4.add');
    return true;
  }

  /** Pushes the epilogue's value at a tile site: a vector (4 outputs) or a scalar. */
  value(e: Expr, s: TileSite, loads: ReadonlyMap<string, { at: Affine; local: number; splat: boolean }>, mode: 'vec' | 'scalar'): void {
    const f = this.f;
    const vec = mode === 'vec';
    switch (e.k) {
      case 'const':
        f.f32(e.value);
        if (vec) f.simd('f32x4.splat');
        return;
      case 'load': {
        if (e.input === ACC) return s.acc();
        const l = loads.get(loadKey(e.input, epilogueLoad(this.k, e, this.outNames)))!;
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
        if (vec && this.pseudoMinMax(e, s, loads)) return;
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

/** A kernel's WebAssembly SIMD version: the function, how it is tiled, and any JavaScript epilogue. */
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
  /** `<name>_pack(w)`: writes the copy of W that the kernel reads, packed once per weight set (simd-blocked.ts's Prepack). */
  readonly pack?: WasmFunction;
  /** `<name>_blocked`: a large product's cache-blocked path, which calls of MIN_ROWS rows or more take (simd-kernel.ts). */
  readonly blocked?: WasmFunction;
  /** `<name>_rows`: a product's single-row path over the batch, which calls of fewer than ROWS rows take (simd-kernel.ts). */
  readonly rows?: WasmFunction;
}
