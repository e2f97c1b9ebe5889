// exp, sigmoid, tanh and log for the row kernels (simd-rows.ts): WebAssembly has no transcendental
// instructions, and JavaScript's Math.exp costs about 15 ns a call, which made softmax's
// Σ exp(x − max) and exp(x − max) / Σ a third of a Transformer block's time. The vector form is
// Cephes's expf (range reduction by n = round(x·log₂e) in two parts, a degree-6 polynomial on
// |r| ≤ ½·ln 2 evaluated by Estrin's scheme, then ·2ⁿ built from the exponent bits), about 35
// vector instructions for 4 lanes. Each exp is one long chain of dependent instructions, so its
// latency counts as much as its instruction count: Estrin's scheme measured 7 % faster than
// Horner's (softmax's Σ exp(x − max) over [32, 4, 64, 64]), within the same 2 ulp.
//
// Float32 contract: within 2 ulp of exp(x) rounded to float32 for normal results (the tests hold
// it to 3e-7 relative against Math.exp over [−87, 88]); exp(−∞) = 0, exp(+∞) = +∞, exp(NaN) = NaN;
// results below 2⁻¹²⁶ are subnormal down to 2⁻¹⁴⁹, then 0; above about 88.72 they are +∞, as
// float32 rounding of the true value gives. sigmoid(x) is within 2 ulp of the JavaScript kernels'
// 1 / (1 + exp(−x)) rounded to float32 down to x = −87.33, and 0 below (where σ(x) < 2⁻¹²⁶); tanh is within 2 ulp of Math.tanh rounded to float32, odd (tanh(−0) = −0), ±1
// beyond |x| ≈ 9.01. Both are cheaper than exp (they are an LSTM step's gate math: five a unit):
// e = exp(−|x|) from a rounding by a "magic" add (no round or convert instructions) and a fitted
// polynomial, σ(−|x|) = e / (1 + e) and tanh(−|x|) = m / (m + 2) with m = expm1(−2|x|), then the
// sign; about 30 vector instructions each, against about 45 for 1 / (1 + exp(−x)) and 55 for
// tanhf's two branches. log is Cephes's logf (a loss's log of
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
/** Cephes expf's polynomial for (exp(r) − 1 − r) / r², highest degree first (p0 … p5). */
const POLY = [1.987569150e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
/**
 * 1.5·2²³: adding it to x·log₂e (|x·log₂e| ≤ 151) rounds to an integer, ties to even, as
 * f32x4.nearest does; its bits minus MAGIC_BITS are that integer as an i32, without
 * i32x4.trunc_sat_f32x4_s (which V8 builds from about 7 x86 instructions to saturate and zero NaN).
 */
const MAGIC = 12582912;
const MAGIC_BITS = 0x4b400000;

const splat = (f: FunctionBody, v: number) => f.f32(v).simd('f32x4.splat');

/**
 * Replaces the vector on the stack by exp of each lane. The clamps are pmin/pmax (one
 * minps/maxps each; V8 builds f32x4.min/max from about 7 instructions for their NaN and ±0
 * rules, which a clamp does not need: a NaN lane stays NaN either way). Constants are splatted
 * where used: holding them in locals set before the loops measured no faster (V8 11.3).
 */
export function vectorExp(f: FunctionBody): void {
  const x = f.local(V128);
  const n = f.local(V128);
  const r = f.local(V128);
  const y = f.local(V128);
  const t = f.local(V128);
  const half = f.local(V128);
  // pmin(x, HIGH) = HIGH < x ? HIGH : x; pmax(x, LOW) = x < LOW ? LOW : x (a NaN x stays).
  splat(f, HIGH).simd('f32x4.pmin');
  splat(f, LOW).simd('f32x4.pmax').set(x);
  // t = x·log₂e + 1.5·2²³, so n = t − 1.5·2²³ = round(x·log₂e); r = x − n·ln 2 (two parts).
  f.get(x);
  splat(f, LOG2E).simd('f32x4.mul');
  splat(f, MAGIC).simd('f32x4.add').set(t);
  f.get(t);
  splat(f, MAGIC).simd('f32x4.sub').set(n);
  f.get(x).get(n);
  splat(f, C1).simd('f32x4.mul').simd('f32x4.sub');
  f.get(n);
  splat(f, C2).simd('f32x4.mul').simd('f32x4.sub').set(r);
  // y = 1 + r + r²·P(r), P by Estrin: (p4·r + p5) + r²·((p2·r + p3) + r²·(p0·r + p1)).
  const r2 = f.local(V128);
  f.get(r).get(r).simd('f32x4.mul').set(r2);
  const lin = (hi: number, lo: number) => { f.get(r); splat(f, hi).simd('f32x4.mul'); splat(f, lo).simd('f32x4.add'); };
  lin(POLY[4], POLY[5]);
  lin(POLY[2], POLY[3]);
  lin(POLY[0], POLY[1]);
  f.get(r2).simd('f32x4.mul').simd('f32x4.add');
  f.get(r2).simd('f32x4.mul').simd('f32x4.add');
  f.get(r2).simd('f32x4.mul');
  f.get(r).simd('f32x4.add');
  splat(f, 1).simd('f32x4.add').set(y);
  // n as an i32 from t's bits; ·2ⁿ as 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋): both factors normal, so only the last product may round (subnormal results).
  f.get(t).v128Const(i32x4(MAGIC_BITS)).simd('i32x4.sub').set(n);
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
  f.get(k).v128Const(i32x4(127)).simd('i32x4.add');
  f.i32(23).simd('i32x4.shl');
}

/**
 * 2ⁿ and the reduced argument without rounding or converting instructions: adding `magic` (a
 * float whose unit in the last place is `step`, 1 or ½) rounds y = z·(−log₂e) to a multiple of
 * `step` in the low mantissa bits, which shifted into the exponent field make the scale 2^(n/step)
 * ((127 + n/step) is what those bits hold); subtracting `magic` gives n as a float. Leaves the
 * scale in `s` and z + n·ln 2 (ln 2 in the given parts) in `t`. Valid while z·log₂e < 126·step.
 */
function reduce(f: FunctionBody, z: number, magic: number, ln2: readonly number[], s: number, t: number): void {
  const n = f.local(V128);
  f.get(z);
  splat(f, -LOG2E).simd('f32x4.mul');
  splat(f, magic).simd('f32x4.add').set(n);
  f.get(n).i32(23).simd('i32x4.shl').set(s);
  f.get(n);
  splat(f, magic).simd('f32x4.sub').set(n);
  f.get(z).set(t);
  for (const part of ln2) {
    f.get(n);
    splat(f, part).simd('f32x4.mul').get(t).simd('f32x4.add').set(t);
  }
}

/** p(t) by Horner, coefficients highest degree first, left on the stack. */
function horner(f: FunctionBody, coefs: readonly number[], t: number): void {
  splat(f, coefs[0]);
  for (const c of coefs.slice(1)) {
    f.get(t).simd('f32x4.mul');
    splat(f, c).simd('f32x4.add');
  }
}

/**
 * exp(−t) = 1 + t·P(t) on |t| ≤ ½·ln 2, P of degree 5, highest first: fitted near-minimax in
 * relative error (Lawson's reweighted least squares on 2,000 Chebyshev points, 2e-9), rounded to
 * float32. EXPM1_MINUS_2 below is fitted the same way.
 */
const EXP_MINUS = [1.3843653723597527e-3, -8.37415549904108e-3, 4.166800156235695e-2, -1.6666431725025177e-1, 4.999999403953552e-1, -1];
/** Past this |x|, exp(−|x|) is below 2⁻¹²⁶ (the scale's exponent would wrap): σ(−|x|) is taken as 0. */
const SIGMOID_CUTOFF = 87.33654;
/** ln 2 in two parts for the reduction (n up to 126): the first has 16 significant bits, so n·part is exact. */
const LN2_PARTS = [0.693145751953125, 1.428606765330187e-6];
/** 1.5·2²³ + 127: its last place is 1, and its low bits hold 127 (the exponent bias) for n = 0. */
const MAGIC_1 = 12583039;

/**
 * Replaces the vector on the stack by σ(x) = 1 / (1 + exp(−x)) of each lane, computed as
 * e / (1 + e) with e = exp(−|x|) ≤ 1 (so nothing overflows), then 1 − that for x > 0.
 */
export function vectorSigmoid(f: FunctionBody): void {
  const [x, z, s, t, e] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.tee(x).simd('f32x4.abs').set(z);
  reduce(f, z, MAGIC_1, LN2_PARTS, s, t);
  // e = s·exp(−t) = s + (t·s)·P(t).
  horner(f, EXP_MINUS, t);
  f.get(t).get(s).simd('f32x4.mul').simd('f32x4.mul').get(s).simd('f32x4.add').set(e);
  // σ(−|x|) = e / (1 + e), zero past the cutoff (and at |x| = ∞, where t is NaN).
  splat(f, 0);
  f.get(e).get(e);
  splat(f, 1).simd('f32x4.add').simd('f32x4.div');
  f.get(z);
  splat(f, SIGMOID_CUTOFF).simd('f32x4.gt').simd('v128.bitselect').set(e);
  // x > 0: 1 − σ(−|x|). A NaN x is not > 0 and its e is NaN.
  splat(f, 1).get(e).simd('f32x4.sub').get(e);
  f.get(x);
  splat(f, 0).simd('f32x4.gt').simd('v128.bitselect');
}

/** (exp(−2t) − 1 + 2t) / t² on |t| ≤ ¼·ln 2, degree 4, highest first (fitted near-minimax, relative to expm1(−2t): 1.3e-8). */
const EXPM1_MINUS_2 = [8.884814381599426e-2, -2.6772844791412354e-1, 6.666752099990845e-1, -1.3333234786987305, 1.9999998807907104];
/** Past this |x|, tanh(x) rounds to ±1 in float32; clamping there keeps the scale a normal float. */
const TANH_SATURATION = 9.010913;
/** 1.5·2²² + 63.5: its last place is ½, and its low bits hold 127 for n = 0, so the scale is 2^(2n) = exp(−2z) rounded. */
const MAGIC_HALF = 6291519.5;

/**
 * Replaces the vector on the stack by tanh of each lane: with z = |x| (at most 9.01, where tanh
 * is ±1 in float32), m = expm1(−2z) = s − 1 + (t·s)·q(t) after the reduction (no cancellation
 * near 0, where s = 1 and m = t·q(t)), tanh(−z) = m / (m + 2); x's sign bit put back (tanh(−0) = −0, NaN stays NaN).
 */
export function vectorTanh(f: FunctionBody): void {
  const [x, z, s, t, m] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  // The bound where z exceeds it: a NaN z stays (no comparison with NaN holds).
  f.tee(x).simd('f32x4.abs').set(z);
  splat(f, TANH_SATURATION).get(z).get(z);
  splat(f, TANH_SATURATION).simd('f32x4.gt').simd('v128.bitselect').set(z);
  reduce(f, z, MAGIC_HALF, [Math.LN2], s, t);
  // q(t) = −2 + t·Q(t); m = (s − 1) + (t·s)·q(t).
  horner(f, EXPM1_MINUS_2, t);
  f.get(t).simd('f32x4.mul');
  splat(f, -2).simd('f32x4.add');
  f.get(t).get(s).simd('f32x4.mul').simd('f32x4.mul');
  f.get(s);
  splat(f, 1).simd('f32x4.sub').simd('f32x4.add').set(m);
  f.get(m).get(m);
  splat(f, 2).simd('f32x4.add').simd('f32x4.div');
  // tanh(−z) ≤ 0: its magnitude with x's sign bit.
  const y = f.local(V128);
  f.set(y);
  f.get(x).get(y).v128Const(SIGN).simd('v128.bitselect');
}

const SIGN = new Uint8Array(new Int32Array([-0x80000000, -0x80000000, -0x80000000, -0x80000000]).buffer);

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
