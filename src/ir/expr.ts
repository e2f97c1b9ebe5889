// The kernel language: scalar expressions over loop indices, the form every op lowers to.
//
// A lowered kernel computes one output element per point of its index space. Its body is an
// `Expr` tree that reads inputs (`load`), combines them with ALU ops, and contains at most one
// `reduce`. Renderers (JavaScript, GPU.js) turn the same tree into source; the reference
// interpreter evaluates it directly.
import type { Dim } from './shape.ts';

// What each ALU op means: one meaning, which the reference interpreter (src/ir/interpret.ts)
// defines and every renderer (JavaScript, WebAssembly SIMD, GPU.js) implements. Values are
// IEEE doubles in the interpreter; a renderer may compute in float32 (the float32 contract),
// and transcendental functions may differ by rounding, but never in the cases below.
// - Arithmetic, `sqrt`, `exp`, `log`, `floor`, `abs`, `neg`, `sign`: as JavaScript's Math
//   (floor(-0.5) = -1; sign(NaN) = NaN; sign(±0) = ±0).
// - `pow(a, b)`: as Math.pow, for negative bases too: pow(-2, 3) = -8, pow(-8, 1/3) = NaN,
//   pow(0, -1) = +∞, pow(-0, -1) = -∞, pow(x, 0) = 1 even for NaN.
// - `max`, `min`: NaN if either operand is NaN (Math.max; WebAssembly's f32.max).
// - `idiv(a, b)`: floor division ⌊a / b⌋ (rounds towards -∞: idiv(-7, 2) = -4).
// - `mod(a, b)`: floor modulo, a - b·⌊a / b⌋: the sign of the divisor (mod(-7, 3) = 2,
//   mod(7, -3) = -2), as Python's %, numpy.mod and ONNX Mod with fmod = 0; a zero result is +0.
//   Not JavaScript's % (the sign of the dividend), which equals it only for a ≥ 0 and b > 0.
//   idiv and mod are meant for integer-valued operands (index arithmetic, rounding): there
//   a = b·idiv(a, b) + mod(a, b) exactly.
// - Comparisons `lt le gt ge eq ne`: 1 or 0, IEEE: false with a NaN operand, except `ne`
//   (true); -0 equals +0.
// - `and`, `or`: 1 or 0, an operand counting as true when it is non-zero (NaN is non-zero).
// - `select(cond, a, b)`: `a` where cond is non-zero (NaN counts as non-zero, as in GLSL and
//   WebAssembly's `f32.ne cond, 0`), else `b`.
// - `hashUniform(seed, index)`: a counter-based uniform number in [0, 1) (dropout masks). The
//   interpreter, JavaScript and SIMD share runtime/math.ts's hash; GPU.js uses a float-only hash
//   (GLSL ES exposes no 32-bit integer multiply), so its masks are different draws.
export type UnaryOp = 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'tanh' | 'erf' | 'floor' | 'sigmoid' | 'log1p' | 'expm1' | 'sign';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'idiv' | 'mod' | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or' | 'hashUniform';
export type ReduceOp = 'sum' | 'max' | 'min' | 'argmax' | 'argmin';

/** A reduction axis: a loop variable and its extent (a literal, or the batch size). */
export interface ReduceVar {
  readonly name: string;
  readonly extent: Dim;
}

export type Expr =
  | { readonly k: 'const'; readonly value: number }
  /** A loop index, or `batch`: the run-time batch size. */
  | { readonly k: 'var'; readonly name: string }
  /** Element of input slot `input` at a multi-index (one index expression per dimension). */
  | { readonly k: 'load'; readonly input: number; readonly index: readonly Expr[] }
  | { readonly k: 'unary'; readonly op: UnaryOp; readonly a: Expr }
  | { readonly k: 'binary'; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'select'; readonly cond: Expr; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'reduce'; readonly op: ReduceOp; readonly vars: readonly ReduceVar[]; readonly body: Expr };

/** The variable that holds the run-time batch size in every kernel. */
export const BATCH_VAR = 'batch';

// Builders, with the algebraic simplifications that keep generated code readable.
export const num = (value: number): Expr => ({ k: 'const', value });
export const v = (name: string): Expr => ({ k: 'var', name });
export const unary = (op: UnaryOp, a: Expr): Expr =>
  a.k === 'const' && op === 'neg' ? num(-a.value) : { k: 'unary', op, a };

const isConst = (e: Expr, value: number): boolean => e.k === 'const' && e.value === value;

export function binary(op: BinaryOp, a: Expr, b: Expr): Expr {
  if (op === 'add') {
    if (isConst(a, 0)) return b;
    if (isConst(b, 0)) return a;
  }
  if (op === 'sub' && isConst(b, 0)) return a;
  if (op === 'mul') {
    if (isConst(a, 1)) return b;
    if (isConst(b, 1)) return a;
    // No x·0 → 0: x may be NaN or infinite, and the product must say so.
  }
  if ((op === 'div' || op === 'idiv') && isConst(b, 1)) return a;
  if (a.k === 'const' && b.k === 'const' && ['add', 'sub', 'mul'].includes(op)) {
    return num(op === 'add' ? a.value + b.value : op === 'sub' ? a.value - b.value : a.value * b.value);
  }
  return { k: 'binary', op, a, b };
}

export const add = (a: Expr, b: Expr) => binary('add', a, b);
export const sub = (a: Expr, b: Expr) => binary('sub', a, b);
export const mul = (a: Expr, b: Expr) => binary('mul', a, b);
export const div = (a: Expr, b: Expr) => binary('div', a, b);
export const max = (a: Expr, b: Expr) => binary('max', a, b);
export const min = (a: Expr, b: Expr) => binary('min', a, b);
export const select = (cond: Expr, a: Expr, b: Expr): Expr => ({ k: 'select', cond, a, b });
export const load = (input: number, index: readonly Expr[]): Expr => ({ k: 'load', input, index });
export const reduce = (op: ReduceOp, vars: readonly ReduceVar[], body: Expr): Expr =>
  vars.length === 0 ? body : { k: 'reduce', op, vars, body };

/** `lo <= e && e < hi`, the bounds test of padded convolutions and pools. */
export const inRange = (e: Expr, lo: number, hi: number): Expr =>
  binary('and', binary('ge', e, num(lo)), binary('lt', e, num(hi)));

/** Calls `f` on each child of `e`; `branch` marks the arms of a select (evaluated lazily). */
export function forEachChild(e: Expr, f: (child: Expr, branch: boolean) => void): void {
  switch (e.k) {
    case 'const':
    case 'var':
      return;
    case 'load':
      return e.index.forEach((i) => f(i, false));
    case 'unary':
      return f(e.a, false);
    case 'binary':
      f(e.a, false);
      return f(e.b, false);
    case 'select':
      f(e.cond, false);
      f(e.a, true);
      return f(e.b, true);
    case 'reduce':
      return f(e.body, false);
    default:
      return e satisfies never;
  }
}

/** Visits every node of an expression tree once per occurrence, parents first. */
export function walk(e: Expr, visit: (e: Expr) => void): void {
  visit(e);
  forEachChild(e, (c) => walk(c, visit));
}

/** The reductions in an expression (a lowered kernel has at most one distinct one). */
export function reductions(e: Expr): Expr[] {
  const found = new Map<string, Expr>();
  walk(e, (x) => {
    if (x.k === 'reduce') found.set(exprKey(x), x);
  });
  return [...found.values()];
}

/** A structural key: equal keys mean equal expressions (used for CSE in renderers). */
export function exprKey(e: Expr): string {
  switch (e.k) {
    case 'const':
      return Object.is(e.value, -0) ? '-0' : String(e.value);
    case 'var':
      return e.name;
    case 'load':
      return `$${e.input}[${e.index.map(exprKey).join(',')}]`;
    case 'unary':
      return `${e.op}(${exprKey(e.a)})`;
    case 'binary':
      return `${e.op}(${exprKey(e.a)},${exprKey(e.b)})`;
    case 'select':
      return `sel(${exprKey(e.cond)},${exprKey(e.a)},${exprKey(e.b)})`;
    case 'reduce':
      return `${e.op}{${e.vars.map((r) => `${r.name}<${r.extent}`).join(',')}}(${exprKey(e.body)})`;
    default:
      return e satisfies never;
  }
}

/** Rewrites an expression bottom-up; `f` sees children already rewritten. */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  switch (e.k) {
    case 'const':
    case 'var':
      return f(e);
    case 'load':
      return f({ ...e, index: e.index.map((i) => mapExpr(i, f)) });
    case 'unary':
      return f({ ...e, a: mapExpr(e.a, f) });
    case 'binary':
      return f({ ...e, a: mapExpr(e.a, f), b: mapExpr(e.b, f) });
    case 'select':
      return f({ ...e, cond: mapExpr(e.cond, f), a: mapExpr(e.a, f), b: mapExpr(e.b, f) });
    case 'reduce':
      return f({ ...e, body: mapExpr(e.body, f) });
    default:
      return e satisfies never;
  }
}
