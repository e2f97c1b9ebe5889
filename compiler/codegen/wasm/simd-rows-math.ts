// exp and sigmoid for the row kernels (simd-rows.ts): WebAssembly has no transcendental
// instructions, and JavaScript's Math.exp costs about 15 ns a call, which made softmax's
// Σ exp(x − max) and exp(x − max) / Σ a third of a Transformer block's time. The vector form is
// Cephes's expf (range reduction by n = round(x·log₂e) in two parts, a degree-6 polynomial on
// |r| ≤ ½·ln 2, then ·2ⁿ built from the exponent bits), about 20 vector instructions for 4 lanes.
//
// Float32 contract: within 2 ulp of exp(x) rounded to float32 for normal results (the tests hold
// it to 3e-7 relative against Math.exp over [−87, 88]); exp(−∞) = 0, exp(+∞) = +∞, exp(NaN) = NaN;
// results below 2⁻¹²⁶ are subnormal down to 2⁻¹⁴⁹, then 0; above about 88.72 they are +∞, as
// float32 rounding of the true value gives. sigmoid(x) is 1 / (1 + exp(−x)), the JavaScript
// kernels' formula, over this exp. tanh is Cephes's tanhf: an odd polynomial for |x| ≤ 0.625,
// 1 − 2 / (exp(2|x|) + 1) above, x's sign put back by its bit (so tanh(−0) = −0); within 3 ulp of
// Math.tanh rounded to float32, ±1 beyond |x| ≈ 9. log is Cephes's logf (a loss's log of
// probabilities, logSoftmax's log Σ), within 2 ulp of Math.log rounded to float32; log(±0) = −∞,
// log of a negative number NaN.
import { BATCH_VAR, forEachChild, mapExpr, num, type Expr } from '../../../src/ir/expr.ts';
import { binaryAlu, unaryAlu } from './alu.ts';
import { V128, type FunctionBody } from './binary.ts';

/** The unary ops the row kernels compute beyond alu.ts's table. */
export const ROW_UNARY = new Set(['exp', 'sigmoid', 'tanh', 'log']);

/** Whether every op of `e` has a vector form here or in alu.ts (reductions excepted: the caller's). */
export function rowExprSupported(e: Expr): boolean {
  switch (e.k) {
    case 'const':
    case 'load':
      return true;
    case 'var':
      // Only the batch size (a mean's divisor), converted from the kernel's batch parameter.
      return e.name === BATCH_VAR;
    case 'unary':
      return (ROW_UNARY.has(e.op) || !!unaryAlu(e.op)) && rowExprSupported(e.a);
    case 'binary':
      return !!binaryAlu(e.op) && rowExprSupported(e.a) && rowExprSupported(e.b);
    case 'select':
      return rowExprSupported(e.cond) && rowExprSupported(e.a) && rowExprSupported(e.b);
    default:
      return false;
  }
}

/** Clamps keep n = round(x·log₂e) within [−150, 128], so each half of 2ⁿ is a normal float. */
const LOW = -104;
const HIGH = 89;
const LOG2E = 1.4426950408889634;
/** ln 2 in two parts: C1 has 9 significant bits, so n·C1 is exact for |n| ≤ 150. */
const C1 = 0.693359375;
const C2 = -2.12194440e-4;
/** Cephes expf's polynomial for (exp(r) − 1 − r) / r², highest degree first. */
const POLY = [1.987569150e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

const splat = (f: FunctionBody, v: number) => f.f32(v).simd('f32x4.splat');

/** Replaces the vector on the stack by exp of each lane. */
export function vectorExp(f: FunctionBody): void {
  const x = f.local(V128);
  const n = f.local(V128);
  const r = f.local(V128);
  const y = f.local(V128);
  const half = f.local(V128);
  splat(f, HIGH).simd('f32x4.min');
  splat(f, LOW).simd('f32x4.max').set(x);
  // n = round(x·log₂e); r = x − n·ln 2 (two parts).
  f.get(x);
  splat(f, LOG2E).simd('f32x4.mul').simd('f32x4.nearest').set(n);
  f.get(x).get(n);
  splat(f, C1).simd('f32x4.mul').simd('f32x4.sub');
  f.get(n);
  splat(f, C2).simd('f32x4.mul').simd('f32x4.sub').set(r);
  // y = 1 + r + r²·P(r), P by Horner.
  splat(f, POLY[0]);
  for (const c of POLY.slice(1)) {
    f.get(r).simd('f32x4.mul');
    splat(f, c).simd('f32x4.add');
  }
  f.get(r).get(r).simd('f32x4.mul').simd('f32x4.mul');
  f.get(r).simd('f32x4.add');
  splat(f, 1).simd('f32x4.add').set(y);
  // ·2ⁿ as 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋): both factors normal, so only the last product may round (subnormal results).
  f.get(n).simd('i32x4.trunc_sat_f32x4_s').set(n);
  f.get(n).i32(1).simd('i32x4.shr_s').set(half);
  f.get(y);
  exponentBits(f, half);
  f.simd('f32x4.mul');
  f.get(n).get(half).simd('i32x4.sub').set(half);
  exponentBits(f, half);
  f.simd('f32x4.mul');
}

/** Pushes the float32 2^k for each i32 lane k of local `k` (−126 ≤ k ≤ 127): (k + 127) << 23. */
function exponentBits(f: FunctionBody, k: number): void {
  f.get(k);
  f.v128Const(new Uint8Array(new Int32Array([127, 127, 127, 127]).buffer)).simd('i32x4.add');
  f.i32(23).simd('i32x4.shl');
}

/** Replaces the vector on the stack by 1 / (1 + exp(−x)) of each lane. */
export function vectorSigmoid(f: FunctionBody): void {
  const e = f.local(V128);
  f.simd('f32x4.neg');
  vectorExp(f);
  f.set(e);
  splat(f, 1);
  splat(f, 1).get(e).simd('f32x4.add');
  f.simd('f32x4.div');
}

/** Cephes tanhf's polynomial for (tanh(a) − a) / a³ on a ≤ 0.625, highest degree first. */
const TANH_POLY = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
const SIGN = new Uint8Array(new Int32Array([-0x80000000, -0x80000000, -0x80000000, -0x80000000]).buffer);

/** Replaces the vector on the stack by tanh of each lane: both branches on |x|, chosen by lane, then x's sign bit. */
export function vectorTanh(f: FunctionBody): void {
  const x = f.local(V128);
  const a = f.local(V128);
  const z = f.local(V128);
  const small = f.local(V128);
  f.tee(x).simd('f32x4.abs').set(a);
  // Small: a + a·z·P(z), z = a².
  f.get(a).get(a).simd('f32x4.mul').set(z);
  splat(f, TANH_POLY[0]);
  for (const c of TANH_POLY.slice(1)) {
    f.get(z).simd('f32x4.mul');
    splat(f, c).simd('f32x4.add');
  }
  f.get(z).simd('f32x4.mul').get(a).simd('f32x4.mul').get(a).simd('f32x4.add').set(small);
  // Large: 1 − 2 / (exp(2a) + 1).
  splat(f, 1);
  splat(f, 2);
  f.get(a).get(a).simd('f32x4.add');
  vectorExp(f);
  splat(f, 1).simd('f32x4.add').simd('f32x4.div').simd('f32x4.sub');
  f.get(small);
  f.get(a);
  splat(f, 0.625).simd('f32x4.gt');
  f.simd('v128.bitselect');
  f.get(x).v128Const(SIGN).simd('v128.and').simd('v128.or');
}

/** Cephes logf's polynomial for (log(1 + m) − m + m²/2) / m³ on √½ − 1 ≤ m < √2 − 1, highest degree first. */
const LOG_POLY = [7.0376836292e-2, -1.151461031e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];
const i32x4 = (v: number) => new Uint8Array(new Int32Array([v, v, v, v]).buffer);

/**
 * Replaces the vector on the stack by log of each lane (Cephes logf): x = m·2^e with m in [√½, √2)
 * from the float's bits (subnormals scaled by 2²³ first), log(m) by polynomial, plus e·ln 2 in two
 * parts; then log(±0) = −∞, log(x < 0) = NaN, log(∞) = ∞, NaN stays NaN.
 */
export function vectorLog(f: FunctionBody): void {
  const x = f.local(V128);
  const xs = f.local(V128);
  const sub = f.local(V128);
  const e = f.local(V128);
  const m = f.local(V128);
  const lt = f.local(V128);
  const z = f.local(V128);
  const r = f.local(V128);
  f.set(x);
  f.get(x);
  splat(f, 2 ** -126).simd('f32x4.lt').set(sub);
  f.get(x);
  splat(f, 2 ** 23).simd('f32x4.mul').get(x).get(sub).simd('v128.bitselect').set(xs);
  // e = exponent − 126 (− 23 for a scaled subnormal), m = mantissa in [½, 1).
  f.get(xs).v128Const(i32x4(0x7f800000)).simd('v128.and').i32(23).simd('i32x4.shr_s');
  f.v128Const(i32x4(126)).simd('i32x4.sub');
  f.get(sub).v128Const(i32x4(23)).simd('v128.and').simd('i32x4.sub');
  f.simd('f32x4.convert_i32x4_s').set(e);
  f.get(xs).v128Const(i32x4(0x007fffff)).simd('v128.and').v128Const(i32x4(0x3f000000)).simd('v128.or').set(m);
  // Below √½: e − 1 and m = 2m − 1; else m − 1.
  f.get(m);
  splat(f, Math.SQRT1_2).simd('f32x4.lt').set(lt);
  f.get(m).get(m).get(lt).simd('v128.and').simd('f32x4.add');
  splat(f, 1).simd('f32x4.sub').set(m);
  f.get(e);
  splat(f, 1).get(lt).simd('v128.and').simd('f32x4.sub').set(e);
  f.get(m).get(m).simd('f32x4.mul').set(z);
  splat(f, LOG_POLY[0]);
  for (const c of LOG_POLY.slice(1)) {
    f.get(m).simd('f32x4.mul');
    splat(f, c).simd('f32x4.add');
  }
  f.get(m).simd('f32x4.mul').get(z).simd('f32x4.mul');
  f.get(e);
  splat(f, C2).simd('f32x4.mul').simd('f32x4.add');
  f.get(z);
  splat(f, 0.5).simd('f32x4.mul').simd('f32x4.sub');
  f.get(m).simd('f32x4.add');
  f.get(e);
  splat(f, C1).simd('f32x4.mul').simd('f32x4.add').set(r);
  // The special values, lane by lane.
  const pick = (value: () => void, when: () => void) => {
    value();
    f.get(r);
    when();
    f.simd('v128.bitselect').set(r);
  };
  pick(() => splat(f, -Infinity), () => f.get(x).f32(0).simd('f32x4.splat').simd('f32x4.eq'));
  pick(() => splat(f, NaN), () => f.get(x).f32(0).simd('f32x4.splat').simd('f32x4.lt'));
  pick(() => splat(f, Infinity), () => f.get(x).f32(Infinity).simd('f32x4.splat').simd('f32x4.eq'));
  pick(() => f.get(x), () => f.get(x).get(x).simd('f32x4.ne'));
  f.get(r);
}

/** Emits `op` on the value on the stack: a vector, or a scalar (splatted, computed, lane 0 taken). */
export function rowUnary(f: FunctionBody, op: string, vec: boolean): void {
  if (!vec) f.simd('f32x4.splat');
  if (op === 'exp') vectorExp(f);
  else if (op === 'tanh') vectorTanh(f);
  else if (op === 'log') vectorLog(f);
  else vectorSigmoid(f);
  if (!vec) f.extractLane(0);
}

/** One stretch [from, to) of an output axis over which `expr` is one branch of every select on that axis. */
export interface Piece {
  readonly from: number;
  readonly to: number;
  readonly expr: Expr;
}

const CMP = new Set(['lt', 'le', 'gt', 'ge', 'eq', 'ne']);
const truth: Record<string, (a: number, b: number) => boolean> = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  and: (a, b) => a !== 0 && b !== 0,
  or: (a, b) => a !== 0 || b !== 0,
};

/** `e` at the points of [from, to) along `v`, where every comparison of `v` with a constant has one answer: those comparisons, and selects on them, folded. */
function specialise(e: Expr, v: string, from: number): Expr {
  const at = (x: Expr) => (x.k === 'var' && x.name === v ? from : x.k === 'const' ? x.value : undefined);
  return mapExpr(e, (x) => {
    if (x.k === 'binary' && truth[x.op]) {
      const [a, b] = [at(x.a), at(x.b)];
      const onV = (x.a.k === 'var' && x.a.name === v) || (x.b.k === 'var' && x.b.name === v);
      // A comparison with v is folded (its answer holds over the piece); and/or only of constants.
      if (a !== undefined && b !== undefined && (onV ? CMP.has(x.op) : x.a.k === 'const' && x.b.k === 'const')) return num(truth[x.op](a, b) ? 1 : 0);
    }
    if (x.k === 'select' && x.cond.k === 'const') return x.cond.value !== 0 ? x.a : x.b;
    return x;
  });
}

/**
 * A concat (or pad) along the last output axis `v` is a select on `v < end` for each part: over
 * the whole row a vector would compute every part and pick lanes. Split at each constant that
 * `v` is compared with, the row is pieces on which every such select takes one branch, so each
 * piece is a plain map (an LSTM step's new carry: h where v < H, c from there). Undefined when
 * nothing compares `v` with a constant (the kernel is one piece).
 */
export function piecesAlong(e: Expr, v: string, extent: number): Piece[] | undefined {
  const cuts = new Set<number>();
  const visit = (x: Expr) => {
    if (x.k === 'binary' && CMP.has(x.op)) {
      const [vv, c, flipped] = x.a.k === 'var' && x.a.name === v && x.b.k === 'const' ? [x.a, x.b.value, false] : x.b.k === 'var' && x.b.name === v && x.a.k === 'const' ? [x.b, x.a.value, true] : [];
      // v < c, v ≥ c change at c; v ≤ c, v > c at c + 1; v = c, v ≠ c at both; flipped, the same.
      if (vv && Number.isInteger(c)) {
        const op = flipped ? ({ lt: 'gt', gt: 'lt', le: 'ge', ge: 'le' } as Record<string, string>)[x.op] ?? x.op : x.op;
        if (op === 'lt' || op === 'ge' || op === 'eq' || op === 'ne') cuts.add(c as number);
        if (op === 'le' || op === 'gt' || op === 'eq' || op === 'ne') cuts.add((c as number) + 1);
      }
    }
    forEachChild(x, visit);
  };
  visit(e);
  const inside = [...cuts].filter((c) => c > 0 && c < extent).sort((a, b) => a - b);
  if (cuts.size === 0) return undefined;
  const bounds = [0, ...inside, extent];
  return bounds.slice(0, -1).map((from, i) => ({ from, to: bounds[i + 1], expr: specialise(e, v, from) }));
}
