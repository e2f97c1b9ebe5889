// WebAssembly SIMD for window max/min reductions (max pooling, unpadded): 4 adjacent outputs
// per vector along the output's last dimension. In JavaScript each tap is a data-dependent
// branch (`if (x > acc || x !== x)`), mispredicted about half the time on real activations; the
// vector form is branchless. Each tap keeps the JavaScript kernel's exact rule, acc = x where
// x > acc or x is NaN, by compare and bitselect (not f32x4.max, whose choice between -0 and +0
// differs), so results are bit-identical to the interpreter's.
import type { Expr } from '../../../src/ir/expr.ts';
import { forEachChild } from '../../../src/ir/expr.ts';
import { BATCH, strides } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { F32, I32, V128 } from './binary.ts';
import { coefOf, epilogueIsAffine, epilogueLoads, loadOffset, replaceSum, type Affine, type Contraction, type Tile } from './contraction.ts';
import { inputParam, NotExpressible, SimdWriter, type SimdKernel } from './simd-writer.ts';

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

/** Renders the window writer's output as a SIMD kernel, or null where a piece of it has no vector form. */
export function renderWindowKernel(k: Kernel, w: WindowReduction, vectorEpilogue: boolean): SimdKernel | null {
  if (!vectorEpilogue) return null;
  const last = w.c.out[w.c.out.length - 1];
  const tile: Tile = { kind: 'broadcast', col: last, rows: null, vec: 'a' };
  try {
    const writer = new WindowWriter(k, w.c, tile, false, w);
    writer.render();
    const how = `SIMD: window ${w.op}, 4 outputs along ${last.name} per vector (stride ${w.stride}), branchless compare-and-select.`;
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
