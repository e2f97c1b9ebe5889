// Elementwise ops: unary activations and broadcasting binary arithmetic.
import * as E from '../expr.ts';
import type { Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import { isDType, type DType } from '../dtype.ts';
import { broadcastType, loadBroadcast, perElement } from './util.ts';
import { defineOp, type OpDef } from './types.ts';
import { type AttrSchema, type Field, NO_ATTRS, num, nullable, oneOf, optional, showValue } from './attr-schema.ts';

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** A unary op from its scalar formula. */
function unaryOp<A = Record<string, never>>(formula: (x: Expr, attrs: A) => Expr, cost = 1, attrs = NO_ATTRS as unknown as AttrSchema<A>): OpDef<A> {
  return defineOp<A>({
    kind: 'elementwise',
    arity: 1,
    attrs,
    infer: ([x]) => x,
    lower: (ctx, attrs) => formula(ctx.load(0, ctx.out), attrs),
    flops: (inputs, out) => cost * perElement(inputs, out),
  });
}

/** A broadcasting binary op from its scalar formula. */
function binaryOp(formula: (a: Expr, b: Expr) => Expr): OpDef {
  return defineOp({
    kind: 'elementwise',
    arity: 2,
    attrs: NO_ATTRS,
    infer: (inputs) => broadcastType(inputs),
    lower: (ctx) => formula(loadBroadcast(ctx, 0), loadBroadcast(ctx, 1)),
    flops: perElement,
  });
}

const positive = (x: Expr) => E.binary('gt', x, E.num(0));

/** A finite number that stays nonzero in float32 (a divisor: celu's alpha). */
function nonzero(): Field<number> {
  const finite = num();
  return {
    optional: false,
    check: (v, at) => {
      const x = finite.check(v, at);
      if (Math.fround(x) === 0) throw new RuleError(`attribute ${at} must be a finite number that is nonzero in float32, got ${showValue(v)}`);
      return x;
    },
  };
}

export const elementwiseOps = {
  neg: unaryOp((x) => E.unary('neg', x)),
  abs: unaryOp((x) => E.unary('abs', x)),
  exp: unaryOp((x) => E.unary('exp', x)),
  log: unaryOp((x) => E.unary('log', x)),
  sqrt: unaryOp((x) => E.unary('sqrt', x)),
  erf: unaryOp((x) => E.unary('erf', x)),
  relu: unaryOp((x) => E.max(x, E.num(0))),
  sigmoid: unaryOp((x) => E.unary('sigmoid', x), 4),
  tanh: unaryOp((x) => E.unary('tanh', x), 4),
  leakyRelu: unaryOp<{ alpha: number }>((x, { alpha }) => E.select(positive(x), x, E.mul(E.num(alpha), x)), 1, { alpha: num() }),
  elu: unaryOp<{ alpha: number }>((x, { alpha }) => E.select(positive(x), x, E.mul(E.num(alpha), E.unary('expm1', x))), 4, { alpha: num() }),
  /**
   * celu(x) = max(0, x) + min(0, α(e^(x/α) − 1)) (ONNX Celu). For either sign of α the min term
   * is α(e^(x/α) − 1) where x ≤ 0 and 0 where x > 0, so this is elu's select with x/α in the
   * exponent, with no overflowing e^(x/α) on the positive side; expm1 keeps tiny negative inputs.
   */
  celu: unaryOp<{ alpha: number }>((x, { alpha }) => E.select(positive(x), x, E.mul(E.num(alpha), E.unary('expm1', E.div(x, E.num(alpha))))), 5, { alpha: nonzero() }),
  selu: unaryOp(
    (x) => E.mul(E.num(SELU_SCALE), E.select(positive(x), x, E.mul(E.num(SELU_ALPHA), E.unary('expm1', x)))),
    5,
  ),
  /** softplus(x) = log(1 + e^x), in the form that neither overflows nor loses small values. */
  softplus: unaryOp(
    (x) => E.add(E.max(x, E.num(0)), E.unary('log1p', E.unary('exp', E.unary('neg', E.unary('abs', x))))),
    4,
  ),
  /** GELU, exact (erf) form by default as in PyTorch and ONNX; `approximate: 'tanh'` for the other. */
  gelu: unaryOp<{ approximate?: 'none' | 'tanh' }>((x, { approximate }) => {
    const half = E.mul(E.num(0.5), x);
    if (approximate === 'tanh') {
      const inner = E.mul(E.num(Math.sqrt(2 / Math.PI)), E.add(x, E.mul(E.num(0.044715), E.mul(x, E.mul(x, x)))));
      return E.mul(half, E.add(E.num(1), E.unary('tanh', inner)));
    }
    return E.mul(half, E.add(E.num(1), E.unary('erf', E.mul(x, E.num(Math.SQRT1_2)))));
  }, 8, { approximate: optional(oneOf('none', 'tanh')) }),
  /** Clamp to [min, max]; a missing bound is no bound. */
  clip: unaryOp<{ min?: number | null; max?: number | null }>((x, { min, max }) => {
    const lo = min === undefined || min === null ? x : E.max(x, E.num(min));
    return max === undefined || max === null ? lo : E.min(lo, E.num(max));
  }, 2, { min: optional(nullable(num({ nonFinite: true }))), max: optional(nullable(num({ nonFinite: true }))) }),
  cast: defineOp<{ to: DType }>({
    kind: 'elementwise',
    arity: 1,
    attrs: { to: oneOf<DType>('float32', 'float64', 'int32') },
    infer: ([x], { to }) => {
      if (!isDType(to)) throw new RuleError(`cast: unknown dtype ${JSON.stringify(to)}`);
      return { dtype: to, shape: x.shape };
    },
    // Conversion happens on store: a float written to an Int32Array truncates toward zero.
    lower: (ctx) => ctx.load(0, ctx.out),
  }),
  add: binaryOp(E.add),
  sub: binaryOp(E.sub),
  mul: binaryOp(E.mul),
  div: binaryOp(E.div),
  pow: binaryOp((a, b) => E.binary('pow', a, b)),
  maximum: binaryOp(E.max),
  minimum: binaryOp(E.min),
};
