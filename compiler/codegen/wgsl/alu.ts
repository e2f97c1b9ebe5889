// The WGSL spelling of the kernel language's values (src/ir/expr.ts): f32 literals, the ALU ops
// with the meanings the reference interpreter gives them, and the helper functions they call.
import type { BinaryOp, Expr, UnaryOp } from '../../../src/ir/expr.ts';
import { BATCH_VAR } from '../../../src/ir/expr.ts';
import { internal } from '../../../src/ir/errors.ts';
import { identifier, intLiteral, numberLiteral } from '../literal.ts';

/** The largest finite float32: a larger literal is a WGSL error, so it becomes infinity (as f32 rounding would). */
const F32_MAX = 3.4028234663852886e38;

/**
 * An f32 literal. WGSL has no infinity or NaN literal (and a const-expression 1/0 is an error),
 * so those are bit patterns; every other value is JavaScript's exact text with the `f` suffix.
 */
export function f32Literal(v: number): string {
  if (Number.isNaN(v)) return 'bitcast<f32>(0x7fc00000u)';
  if (v >= F32_MAX * (1 + 2 ** -25) || v === Infinity) return 'bitcast<f32>(0x7f800000u)';
  if (v <= -F32_MAX * (1 + 2 ** -25) || v === -Infinity) return 'bitcast<f32>(0xff800000u)';
  const s = numberLiteral(v);
  return s.startsWith('-') ? `(${s}f)` : `${s}f`;
}

/** An i32 literal (offsets, extents, strides), through literal.ts. */
export function i32Literal(v: number): string {
  const s = intLiteral(v);
  if (Math.abs(v) > 2 ** 31 - 1) return internal(`${s} reached the WGSL renderer as an i32`);
  return v < 0 ? `(${s}i)` : `${s}i`;
}

/** Helper functions a shader may call, each defined for every f32 argument. */
export const WGSL_HELPERS: Readonly<Record<string, string>> = {
  kIdiv: `fn kIdiv(a: f32, b: f32) -> f32 {
  // floor(a / b) for integer-valued a, b: GPU division may be off by an ulp, so the quotient is
  // corrected until its remainder lies between 0 and b (b excluded), for either sign of b.
  var q = floor(a / b);
  let r = a - q * b;
  if (b > 0.0) {
    if (r < 0.0) { q = q - 1.0; }
    if (r >= b) { q = q + 1.0; }
  }
  if (b < 0.0) {
    if (r > 0.0) { q = q - 1.0; }
    if (r <= b) { q = q + 1.0; }
  }
  return q;
}`,
  kMod: `fn kMod(a: f32, b: f32) -> f32 {
  // Floor modulo: the sign of the divisor (src/ir/expr.ts), not WGSL's truncating %.
  return a - b * kIdiv(a, b);
}`,
  kTanh: `fn kTanh(x: f32) -> f32 {
  // exp of a non-positive number only: finite for every x (WGSL's tanh may be NaN at large |x|).
  let e = exp(-2.0 * abs(x));
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, x < 0.0);
}`,
  kSigmoid: `fn kSigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}`,
  kErf: `fn kErf(x: f32) -> f32 {
  // Abramowitz and Stegun 7.1.26 (error below 1.5e-7).
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let y = 1.0 - p * exp(-a * a);
  return select(y, -y, x < 0.0);
}`,
  kMax: `fn kMax(a: f32, b: f32) -> f32 {
  // NaN if either is NaN (Math.max); WGSL leaves max of a NaN unspecified.
  return select(max(a, b), a + b, a != a || b != b);
}`,
  kMin: `fn kMin(a: f32, b: f32) -> f32 {
  return select(min(a, b), a + b, a != a || b != b);
}`,
  kPow: `fn kPow(a: f32, b: f32) -> f32 {
  // WGSL's pow is undefined for a < 0 and for a = 0, b <= 0; Math.pow is not.
  if (b == 0.0) { return 1.0; }
  if (a > 0.0) { return pow(a, b); }
  if (a == 0.0) {
    var s = 1.0;
    if (bitcast<u32>(a) != 0u && floor(b) == b && floor(b * 0.5) != b * 0.5) { s = -1.0; }
    if (b > 0.0) { return s * 0.0; }
    return s * bitcast<f32>(0x7f800000u);
  }
  if (floor(b) != b) { return bitcast<f32>(0x7fc00000u); }
  let m = pow(-a, b);
  return select(-m, m, floor(b * 0.5) == b * 0.5);
}`,
};

/** The helpers a source calls, including those the helpers call, in declaration order. */
export function wgslHelpersUsed(source: string): string[] {
  const used = new Set<string>();
  const pending = [source];
  while (pending.length) {
    const text = pending.pop()!;
    for (const name of Object.keys(WGSL_HELPERS)) {
      if (!used.has(name) && text.includes(`${name}(`)) {
        used.add(name);
        pending.push(WGSL_HELPERS[name].slice(WGSL_HELPERS[name].indexOf('{')));
      }
    }
  }
  return Object.keys(WGSL_HELPERS).filter((n) => used.has(n));
}

const UNARY: Record<UnaryOp, (a: string) => string> = {
  neg: (a) => `(-${a})`,
  abs: (a) => `abs(${a})`,
  exp: (a) => `exp(${a})`,
  log: (a) => `log(${a})`,
  sqrt: (a) => `sqrt(${a})`,
  tanh: (a) => `kTanh(${a})`,
  erf: (a) => `kErf(${a})`,
  floor: (a) => `floor(${a})`,
  sign: (a) => `sign(${a})`,
  log1p: (a) => `log(1.0 + ${a})`,
  expm1: (a) => `(exp(${a}) - 1.0)`,
  sigmoid: (a) => `kSigmoid(${a})`,
};

type BooleanOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or';
const BOOLEAN: Record<BooleanOp, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=', and: '&&', or: '||' };

const BINARY: Record<Exclude<BinaryOp, BooleanOp | 'hashUniform'>, (a: string, b: string) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `kPow(${a}, ${b})`,
  max: (a, b) => `kMax(${a}, ${b})`,
  min: (a, b) => `kMin(${a}, ${b})`,
  idiv: (a, b) => `kIdiv(${a}, ${b})`,
  mod: (a, b) => `kMod(${a}, ${b})`,
};

/** How the renderer around an epilogue names what it reads. */
export interface ValueScope {
  /** A load (the accumulator is input -1) as an f32 expression. */
  load(e: Expr & { k: 'load' }): string;
}

/** The WGSL name of a kernel loop variable (a prefix keeps it apart from the shader's own names). */
export const loopVar = (name: string): string => (name === BATCH_VAR ? 'batch' : identifier(`v_${name}`));

const isBoolean = (e: Expr): e is Expr & { k: 'binary'; op: BooleanOp } => e.k === 'binary' && e.op in BOOLEAN;

/** An f32 expression for `e`. */
export function f32Expr(e: Expr, scope: ValueScope): string {
  if (isBoolean(e)) return `select(0.0, 1.0, ${boolExpr(e, scope)})`;
  switch (e.k) {
    case 'const':
      return f32Literal(e.value);
    case 'var':
      return `f32(${loopVar(e.name)})`;
    case 'load':
      return scope.load(e);
    case 'unary':
      return UNARY[e.op](f32Expr(e.a, scope));
    case 'binary':
      if (e.op === 'hashUniform') return internal('hashUniform reached the WGSL renderer');
      return BINARY[e.op as keyof typeof BINARY](f32Expr(e.a, scope), f32Expr(e.b, scope));
    case 'select':
      return `select(${f32Expr(e.b, scope)}, ${f32Expr(e.a, scope)}, ${boolExpr(e.cond, scope)})`;
    case 'reduce':
      return internal('a reduction reached the WGSL epilogue');
    default:
      return e satisfies never;
  }
}

/** A bool expression: true where `e` is non-zero (NaN counts as non-zero). */
function boolExpr(e: Expr, scope: ValueScope): string {
  if (!isBoolean(e)) return `(${f32Expr(e, scope)} != 0.0)`;
  const logic = e.op === 'and' || e.op === 'or';
  const arg = (x: Expr) => (logic ? boolExpr(x, scope) : f32Expr(x, scope));
  return `(${arg(e.a)} ${BOOLEAN[e.op]} ${arg(e.b)})`;
}
