// WebAssembly SIMD for window max/min reductions (max pooling, unpadded): 4 adjacent outputs
// per vector along the output's last dimension. In JavaScript each tap is a data-dependent
// branch (`if (x > acc || x !== x)`), mispredicted about half the time on real activations; the
// vector form is branchless. Each tap keeps the JavaScript kernel's exact rule, acc = x where
// x > acc or x is NaN, by compare and bitselect (not f32x4.max, whose choice between -0 and +0
// differs), so results are bit-identical to the interpreter's.
//
// Small windows (up to MAX_TAPS taps, e.g. 2×2 or 3×3 pooling) with an epilogue that reads no
// other array take a straight path: the taps unrolled at constant offsets from one pointer, a
// stride-2 window's neighbouring taps sharing the two vectors they read (even and odd floats),
// pointers that advance along the innermost row dimension, and a row whose width is not a
// multiple of 4 finished by one vector that overlaps the previous one (it stores the same values
// again) instead of a scalar loop. Its taps combine by f32x4.pmax/pmin (one instruction on x86,
// where compare-and-select is four), which is the rule for every tap but a NaN; NaN taps are
// or-ed into a mask that makes the lane NaN at the end. So the straight path's results are the
// interpreter's bit for bit (±0 included) except a NaN's payload (all ones). The general loops
// measured 0.69 ms for the MNIST CNN's pool at batch 64 (13 outputs a row: 3 vectors and a
// scalar tail, each tap a loop step); the straight path about 0.13 ms (kernel timings in one
// process, 10th percentile of 200 calls, on a loaded 2-core machine: 0.47 ms for the loops).
import type { Expr } from '../../../src/ir/expr.ts';
import { forEachChild } from '../../../src/ir/expr.ts';
import { BATCH, strides } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { F32, I32, V128 } from './binary.ts';
import { coefOf, epilogueIsAffine, epilogueLoads, loadOffset, replaceSum, type Affine, type Contraction, type Tile } from './contraction.ts';
import { inputParam, NotExpressible, OUT, SimdWriter, type SimdKernel } from './simd-writer.ts';

/** Most taps the straight path unrolls (a 4×4 window); larger windows keep the tap loops. */
const MAX_TAPS = 16;

/** A window reduction the vector code renders: `epilogue(max/min over taps of in[affine])`. */
export interface WindowReduction {
  readonly c: Contraction;
  readonly op: 'max' | 'min';
  readonly input: number;
  readonly at: Affine;
  /** Input elements between adjacent outputs along the last dimension (the pool's stride). */
  readonly stride: 1 | 2;
}

/** The kernel as a window max/min over one affine load, vectorisable along its last output dimension; or null. */
export function windowOf(k: Kernel): WindowReduction | null {
  if (k.dtype !== 'float32' || k.inputs.some((t) => t.dtype !== 'float32') || k.shape.length < 2) return null;
  const reduces: (Expr & { k: 'reduce' })[] = [];
  const find = (e: Expr) => (e.k === 'reduce' ? reduces.push(e) : forEachChild(e, find));
  find(k.expr);
  if (reduces.length !== 1) return null;
  const r = reduces[0];
  if ((r.op !== 'max' && r.op !== 'min') || r.body.k !== 'load' || r.vars.some((v) => v.extent === BATCH)) return null;
  const out = k.shape.map((extent, d) => ({ name: `o${d}`, extent }));
  const last = out[out.length - 1];
  if (last.extent === BATCH) return null;
  const outNames = new Set(out.map((l) => l.name));
  const at = loadOffset(k, r.body, new Set([...outNames, ...r.vars.map((v) => v.name)]));
  if (!at) return null;
  const stride = coefOf(at, last.name);
  if (stride !== 1 && stride !== 2) return null;
  const epilogue = replaceSum(k.expr, r, out);
  if (!epilogueIsAffine(k, epilogue, outNames)) return null;
  const outStrides = strides(k.shape);
  const outAt: Affine = { c: 0, coef: Object.fromEntries(out.map((l, d) => [l.name, outStrides[d]])) };
  const c: Contraction = { out, reduce: r.vars, product: null, epilogue, outAt };
  // The epilogue's other loads are vectors along the last dimension, or splatted.
  if (!epilogueLoads(k, c).every((l) => [0, 1].includes(coefOf(l.at, last.name)))) return null;
  return { c, op: r.op, input: r.body.input, at, stride };
}

/** Bytes of lanes 0 and 2 of the first vector, then of the second: every other float. */
const EVEN_FLOATS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27];
/** Lanes 1 and 3 of each: the other floats. */
const ODD_FLOATS = EVEN_FLOATS.map((b) => b + 4);

/**
 * The window's taps as float offsets from its first element, in the interpreter's order (the
 * reduction variables nested, the last innermost), or null where the window is too large or a
 * size is symbolic.
 */
export function windowTaps(w: WindowReduction): number[] | null {
  let taps = [0];
  for (const v of w.c.reduce) {
    if (typeof v.extent !== 'number') return null;
    const coef = coefOf(w.at, v.name);
    const extent = v.extent;
    taps = taps.flatMap((t) => Array.from({ length: extent }, (_, i) => t + i * coef));
    if (taps.length > MAX_TAPS) return null;
  }
  return taps.every((t) => t >= 0) ? taps : null;
}

/** Renders the window writer's output as a SIMD kernel, or null where a piece of it has no vector form. */
export function renderWindowKernel(k: Kernel, w: WindowReduction, vectorEpilogue: boolean): SimdKernel | null {
  if (!vectorEpilogue) return null;
  const last = w.c.out[w.c.out.length - 1];
  const tile: Tile = { kind: 'broadcast', col: last, rows: null, vec: 'a' };
  // The straight path re-stores overlapped outputs: only where the epilogue reads no array (one
  // that might be the output itself). Its row pointers advance along a dimension after the
  // batch's (o0, the thread split), so the output has 3 dimensions or more.
  const taps = windowTaps(w);
  const straight = taps && Number(last.extent) >= 4 && w.c.out.length >= 3 && !epilogueLoads(k, w.c).length ? taps : null;
  try {
    const writer = new WindowWriter(k, w.c, tile, false, w);
    if (straight) writer.straight(straight, Number(last.extent));
    else writer.render();
    const how = `SIMD: window ${w.op}, 4 outputs along ${last.name} per vector (stride ${w.stride}), branchless compare-and-select${straight ? `, ${straight.length} taps unrolled` : ''}.`;
    return { fn: { name: k.name, params: 4 + k.inputs.length, body: writer.f }, how, epilogue: null };
  } catch (e) {
    if (e instanceof NotExpressible) return null;
    throw e;
  }
}

class WindowWriter extends SimdWriter {
  constructor(k: Kernel, c: Contraction, tile: Tile, relaxed: boolean, private readonly w: WindowReduction) {
    super(k, c, tile, relaxed);
  }

  render(): void {
    const last = this.c.out[this.c.out.length - 1];
    const cols = Number(last.extent);

    const full = Math.floor(cols / 4) * 4;
    this.nest(this.c.out.slice(0, -1), () => {
      if (full) this.loop(last.name, 0, cols, 4, () => this.vectorStep());
      if (full < cols) {
        this.f.i32(full).set(this.varLocal(last.name));
        this.loop(last.name, null, cols, 1, () => this.scalarStep());
      }
    });
  }

  /** The comparison that takes a tap: `x > acc` for max, `x < acc` for min; NaN always taken. */
  private take(x: number, acc: number, vec: boolean): void {
    const f = this.f;
    const cmp = this.w.op === 'max' ? 'gt' : 'lt';
    if (vec) {
      f.get(x).get(acc).simd(`f32x4.${cmp}`);
      f.get(x).get(x).simd('f32x4.ne').simd('v128.or');
    } else {
      f.get(x).get(acc).op(`f32.${cmp}`);
      f.get(x).get(x).op('f32.ne').op('i32.or');
    }
  }

  private vectorStep(): void {
    const f = this.f;
    const acc = f.local(V128);
    const x = f.local(V128);
    const p = f.local(I32);
    f.f32(this.w.op === 'max' ? -Infinity : Infinity).simd('f32x4.splat').set(acc);
    this.reduction(this.c.reduce, [{ param: inputParam(this.w.input), at: this.w.at, local: p }], () => {
      f.get(p).vmem('v128.load', 0);
      if (this.w.stride === 2) f.get(p).vmem('v128.load', 16).shuffle(EVEN_FLOATS);
      f.set(x);
      // acc = take ? x : acc, lane by lane.
      f.get(x).get(acc);
      this.take(x, acc, true);
      f.simd('v128.bitselect').set(acc);
    });
    const last = this.c.out[this.c.out.length - 1].name;
    this.store(1, 1, 4, () => ({ acc: () => f.get(acc), offset: () => 0 }), 'vec', last);
  }

  /**
   * Rows of the output (every dimension but the last), pointers advanced along the innermost one;
   * in each row, vectors of 4 outputs, the last one moved back to end at the row's end.
   */
  straight(taps: readonly number[], cols: number): void {
    const f = this.f;
    const outer = this.c.out.slice(0, -1);
    const inner = outer[outer.length - 1];
    const last = this.c.out[outer.length].name;
    const skip = new Set([inner.name, last, ...this.c.reduce.map((v) => v.name)]);
    const pIn = f.local(I32);
    const pOut = f.local(I32);
    const pi = f.local(I32);
    const po = f.local(I32);
    // Bytes between adjacent outputs: in the input (the stride) and in the output (contiguous).
    const inStep = 4 * this.w.stride;
    const outStep = 4 * coefOf(this.c.outAt, last);
    this.nest(outer.slice(0, -1), () => {
      // Row pointers at the first row (the innermost row dimension at 0), then advanced row by row.
      this.address(inputParam(this.w.input), this.w.at, skip);
      f.set(pIn);
      this.address(OUT, this.c.outAt, skip);
      f.set(pOut);
      this.loop(inner.name, 0, inner.extent, 1, () => {
        f.get(pIn).set(pi);
        f.get(pOut).set(po);
        const full = Math.floor(cols / 4);
        this.whileCount(full, () => {
          this.windowVector(taps, pi, 0, po, 0);
          f.get(pi).i32(4 * inStep).op('i32.add').set(pi);
          f.get(po).i32(4 * outStep).op('i32.add').set(po);
        });
        // The last outputs: one vector ending at the row's end, from the row's start pointers.
        if (cols % 4) this.windowVector(taps, pIn, (cols - 4) * inStep, pOut, (cols - 4) * outStep);
        f.get(pIn).i32(4 * coefOf(this.w.at, inner.name)).op('i32.add').set(pIn);
        f.get(pOut).i32(4 * coefOf(this.c.outAt, inner.name)).op('i32.add').set(pOut);
      });
    });
  }

  /** `body` `n` times (n ≥ 1 a compile-time count), on a counter local of its own. */
  private whileCount(n: number, body: () => void): void {
    const f = this.f;
    const i = f.local(I32);
    f.i32(n).set(i);
    f.loop();
    body();
    f.get(i).i32(1).op('i32.sub').set(i);
    f.get(i).brIf(0);
    f.end();
  }

  /** 4 outputs: every tap from pointer local `p` (+ `inAt` bytes) taken in order, the epilogue stored at `q` (+ `outAt`). */
  private windowVector(taps: readonly number[], p: number, inAt: number, q: number, outAt: number): void {
    const f = this.f;
    const acc = f.local(V128);
    const x = f.local(V128);
    const nan = f.local(V128);
    // A stride-2 window's taps at floats 2j and 2j + 1 read the same 8 floats: loaded once.
    const pairs = new Map<number, [number, number]>();
    taps.forEach((t, i) => {
      if (this.w.stride === 1) f.get(p).vmem('v128.load', SimdWriter.offset(inAt + 4 * t));
      else {
        const even = t - (t % 2);
        let pair = pairs.get(even);
        if (!pair) {
          pair = [f.local(V128), f.local(V128)];
          f.get(p).vmem('v128.load', SimdWriter.offset(inAt + 4 * even)).set(pair[0]);
          f.get(p).vmem('v128.load', SimdWriter.offset(inAt + 4 * even + 16)).set(pair[1]);
          pairs.set(even, pair);
        }
        f.get(pair[0]).get(pair[1]).shuffle(t % 2 ? ODD_FLOATS : EVEN_FLOATS);
      }
      // The first tap is taken whatever it holds (from ∓Infinity the rule keeps ∓Infinity or takes the tap: the same bits).
      if (i === 0) {
        f.set(acc);
        f.get(acc).get(acc).simd('f32x4.ne').set(nan);
        return;
      }
      // pmax(acc, x) = acc < x ? x : acc (pmin: x < acc ? x : acc) is the rule for every x but NaN,
      // which it skips: NaN taps are only noted, and make the result NaN at the end.
      f.set(x);
      f.get(acc).get(x).simd(this.w.op === 'max' ? 'f32x4.pmax' : 'f32x4.pmin').set(acc);
      f.get(nan).get(x).get(x).simd('f32x4.ne').simd('v128.or').set(nan);
    });
    // Lanes that met a NaN: all ones, a NaN (the rule would keep the last NaN tap's own bits).
    f.get(acc).get(nan).simd('v128.or').set(acc);
    f.get(q);
    this.value(this.c.epilogue, { acc: () => f.get(acc), offset: () => 0 }, new Map(), 'vec');
    f.vmem('v128.store', SimdWriter.offset(outAt));
  }

  private scalarStep(): void {
    const f = this.f;
    const acc = f.local(F32);
    const x = f.local(F32);
    const p = f.local(I32);
    f.f32(this.w.op === 'max' ? -Infinity : Infinity).set(acc);
    this.reduction(this.c.reduce, [{ param: inputParam(this.w.input), at: this.w.at, local: p }], () => {
      f.get(p).f32Load(0).set(x);
      f.get(x).get(acc);
      this.take(x, acc, false);
      f.select().set(acc);
    });
    this.store(1, 1, 1, () => ({ acc: () => f.get(acc), offset: () => 0 }), 'scalar');
  }
}
