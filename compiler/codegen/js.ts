// JavaScript spelling of the kernel language: ALU ops, literals, and expressions with their
// temporaries, including the unrolled variants of a register tile (see js-kernel.ts).
import type { BinaryOp, Expr, UnaryOp } from '../../src/ir/expr.ts';
import { exprKey, walk } from '../../src/ir/expr.ts';
import { BATCH, strides, type Dim } from '../../src/ir/shape.ts';
import type { Kernel } from '../lower/kernel.ts';
import { identifier, intLiteral, numberLiteral } from './literal.ts';
import { coefficient, type Schedule, type Temp } from './schedule.ts';

/**
 * How each ALU op is spelled in JavaScript, with the interpreter's meaning (expr.ts): each is the
 * interpreter's own formula, so results are the same doubles. Comparisons yield booleans (see `num`).
 */
export const JS_UNARY: Record<UnaryOp, (a: string) => string> = {
  neg: (a) => `-${a}`,
  abs: (a) => `Math.abs(${a})`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  erf: (a) => `erf(${a})`,
  floor: (a) => `Math.floor(${a})`,
  sign: (a) => `Math.sign(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  sigmoid: (a) => `1 / (1 + Math.exp(-${a}))`,
};

export const JS_BINARY: Record<BinaryOp, (a: string, b: string) => string> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  pow: (a, b) => `Math.pow(${a}, ${b})`,
  max: (a, b) => `Math.max(${a}, ${b})`,
  min: (a, b) => `Math.min(${a}, ${b})`,
  idiv: (a, b) => `Math.floor(${a} / ${b})`,
  // Floor modulo, not JavaScript's % (the sign of the dividend); see `bool` for the % fast path.
  mod: (a, b) => `${a} - ${b} * Math.floor(${a} / ${b})`,
  lt: (a, b) => `${a} < ${b}`,
  le: (a, b) => `${a} <= ${b}`,
  gt: (a, b) => `${a} > ${b}`,
  ge: (a, b) => `${a} >= ${b}`,
  eq: (a, b) => `${a} === ${b}`,
  ne: (a, b) => `${a} !== ${b}`,
  and: (a, b) => `${a} && ${b}`,
  or: (a, b) => `${a} || ${b}`,
  hashUniform: (a, b) => `hashUniform(${a}, ${b})`,
};

const BOOLEAN_OPS = new Set<BinaryOp>(['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or']);
const isBoolean = (e: Expr) => e.k === 'binary' && BOOLEAN_OPS.has(e.op);

/**
 * Whether `e` is integer index arithmetic: loop variables (never negative) and integer constants
 * under + − ×, ÷ and mod; with `nonNegative`, also provably ≥ 0 (no subtraction, no negative constant).
 */
function isIndexArithmetic(e: Expr, nonNegative: boolean): boolean {
  if (e.k === 'var') return true;
  // Not -0: a shift or % of it gives +0 or -0 where floor division and floor modulo give the other.
  if (e.k === 'const') return Number.isInteger(e.value) && !Object.is(e.value, -0) && Math.abs(e.value) < 2 ** 31 && (!nonNegative || e.value >= 0);
  const ops = nonNegative ? ['add', 'mul', 'idiv', 'mod'] : ['add', 'sub', 'mul', 'idiv', 'mod'];
  return e.k === 'binary' && ops.includes(e.op) && isIndexArithmetic(e.a, nonNegative) && isIndexArithmetic(e.b, nonNegative);
}

/**
 * k when `e` is `idiv` or `mod` of index arithmetic by the constant 2^k (k ≥ 1), else null. A shift
 * floors like `idiv` for every int32; a mask equals JavaScript's `%` only for a non-negative dividend.
 */
function powerOfTwoShift(e: Expr & { k: 'binary' }): number | null {
  if ((e.op !== 'idiv' && e.op !== 'mod') || e.b.k !== 'const' || !isIndexArithmetic(e.a, e.op === 'mod')) return null;
  const k = Math.log2(e.b.value);
  return Number.isInteger(k) && k >= 1 && k <= 30 ? k : null;
}

/** Terms that may stand unparenthesised in a sum: sums and products of plain values. */
function simpleTerm(e: Expr): boolean {
  if (e.k === 'var' || e.k === 'const' || e.k === 'load') return true;
  return e.k === 'binary' && (e.op === 'add' || e.op === 'sub' || e.op === 'mul') && simpleTerm(e.a) && simpleTerm(e.b);
}

/** A number as JS source, exactly (keeps -0, spells Infinity and NaN): see literal.ts. */
export const literal = (v: number): string => numberLiteral(v);

export const extentJs = (d: Dim) => (d === BATCH ? 'batch' : intLiteral(d));

/** The names a kernel's parameters get in its function: `out`, `in0`, `in1`, ... */
export const inputName = (slot: number) => `in${slot}`;

/**
 * One copy of a tile's body: each blocked loop variable reads as `v + offset`, and temporaries
 * that depend on a variable with a non-zero offset get a suffix (`t3_1`, or `t3_r1_c2` in 2-D).
 */
export interface Variant {
  readonly offsets: readonly { readonly name: string; readonly offset: number; readonly tag: string }[];
}

/** Renders expressions of one kernel, given its schedule; knows the current tile variant. */
export class JsExpr {
  variant: Variant | null = null;
  private readonly dependence = new Map<string, boolean>();

  constructor(
    private readonly k: Kernel,
    private readonly sched: Schedule,
  ) {}

  /** Whether temp `t` reads loop variable `v`, directly or through other temps. */
  dependsOn(t: Temp, v: string): boolean {
    const key = `${t.name}|${v}`;
    const known = this.dependence.get(key);
    if (known !== undefined) return known;
    let found = false;
    walk(t.expr, (e) => {
      if (e.k === 'var' && e.name === v) found = true;
      const other = this.sched.tempByKey.get(exprKey(e));
      if (other && other !== t && this.dependsOn(other, v)) found = true;
    });
    this.dependence.set(key, found);
    return found;
  }

  /** Whether the current variant needs its own copy of `t` (some shifted variable reaches it). */
  needsCopy(t: Temp): boolean {
    return (this.variant?.offsets ?? []).every((o) => o.offset === 0 || this.dependsOn(t, o.name));
  }

  private suffix(depends: (v: string) => boolean): string {
    return (this.variant?.offsets ?? [])
      .filter((o) => o.offset > 0 && depends(o.name))
      .map((o) => `_${o.tag}${intLiteral(o.offset)}`)
      .join('');
  }

  tempName(t: Temp): string {
    return identifier(t.name + this.suffix((v) => this.dependsOn(t, v)));
  }

  /** The accumulator of the current variant (every blocked output variable shifts it). */
  accName(): string {
    return 'acc' + this.suffix(() => true);
  }

  /**
   * Row-major linear offset of a multi-index into a tensor of `shape`. In a shifted tile variant
   * an affine offset is spelled as the base variant's plus a constant, so the JIT computes the
   * shared part once for all the variants' loads (`in0[a + 13]` beside `in0[a]`).
   */
  offset(index: readonly Expr[], shape: readonly Dim[]): string {
    const shifts = (this.variant?.offsets ?? []).filter((o) => o.offset !== 0);
    if (shifts.length) {
      const s = strides(shape);
      const delta = shifts.reduce((sum, o) => sum + o.offset * index.reduce((c, e, d) => c + coefficient(e, o.name) * s[d], 0), 0);
      if (Number.isFinite(delta)) {
        const variant = this.variant;
        this.variant = null;
        const base = this.offset(index, shape);
        this.variant = variant;
        return delta === 0 ? base : `${base} + ${intLiteral(delta)}`;
      }
    }
    const s = strides(shape);
    const terms = index
      .map((e, d) => (e.k === 'const' && e.value === 0 ? '' : s[d] === 1 ? this.num(e, undefined, simpleTerm(e)) : `${this.num(e)} * ${intLiteral(s[d])}`))
      .filter((t) => t !== '');
    return terms.length ? terms.join(' + ') : '0';
  }

  /** Renders `e` as a numeric JS expression; `self` is the temp being defined (not to be reused). */
  num(e: Expr, self?: Temp, bare = false): string {
    const s = this.bool(e, self, bare);
    return isBoolean(e) ? `+(${s})` : s;
  }

  bool(e: Expr, self?: Temp, bare = false): string {
    const t = this.sched.tempByKey.get(exprKey(e));
    if (t && t !== self) return this.tempName(t);
    const wrap = (s: string) => (bare ? s : `(${s})`);
    switch (e.k) {
      case 'const':
        return e.value < 0 && !bare ? `(${numberLiteral(e.value)})` : numberLiteral(e.value);
      case 'var': {
        const shift = this.variant?.offsets.find((o) => o.name === e.name && o.offset > 0);
        return shift ? `(${identifier(e.name)} + ${intLiteral(shift.offset)})` : identifier(e.name);
      }
      case 'load':
        return `${inputName(e.input)}[${this.offset(e.index, this.k.inputs[e.input].shape)}]`;
      case 'unary':
        return wrap(JS_UNARY[e.op](this.num(e.a)));
      case 'binary': {
        // Index arithmetic by a power of two: a shift or a mask (exact floor division and floor
        // modulo for every int32), not a float division and Math.floor in the inner loop.
        const shift = powerOfTwoShift(e);
        if (shift !== null) return wrap(e.op === 'idiv' ? `${this.num(e.a)} >> ${intLiteral(shift)}` : `${this.num(e.a)} & ${intLiteral(2 ** shift - 1)}`);
        // % is floor modulo for integers a ≥ 0, b > 0: one instruction instead of a division and a floor.
        if (e.op === 'mod' && e.b.k === 'const' && Number.isInteger(e.b.value) && e.b.value > 0 && isIndexArithmetic(e.a, true)) {
          return wrap(`${this.num(e.a)} % ${this.num(e.b)}`);
        }
        const asBool = e.op === 'and' || e.op === 'or';
        const arg = (x: Expr) => (!asBool ? this.num(x) : isBoolean(x) ? this.bool(x) : `(${this.num(x)} !== 0)`);
        return wrap(JS_BINARY[e.op](arg(e.a), arg(e.b)));
      }
      case 'select': {
        const cond = isBoolean(e.cond) ? this.bool(e.cond) : `${this.num(e.cond)} !== 0`;
        return wrap(`${cond} ? ${this.num(e.a)} : ${this.num(e.b)}`);
      }
      case 'reduce':
        if (this.sched.reduce?.op === 'argmax' || this.sched.reduce?.op === 'argmin') return 'best';
        return this.sched.order === 'outputOuter' ? this.accName() : 'acc';
      default:
        return e satisfies never;
    }
  }
}
