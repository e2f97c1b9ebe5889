// Ops the ONNX importer needs beyond Kiln's own: comparisons (int32 0/1 results: Kiln has no
// bool dtype), Where, Pad (constant, edge, reflect, wrap), and the roundings of a Cast to the narrow
// types Kiln carries widened (roundFloat: FLOAT16, BFLOAT16, FLOAT8…; roundInt: INT4, UINT2…).
import * as E from '../expr.ts';
import type { Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import { broadcastShapes, formatShape, type Dim } from '../shape.ts';
import { defineOp } from './types.ts';
import { broadcastType, isIntArray, loadBroadcast, perElement } from './util.ts';
import { bool, int, ints, MAX_RANK, NO_ATTRS, num, oneOf, optional } from './attr-schema.ts';

const special = () => oneOf('inf', 'nan', 'max');

export interface CompareAttrs {
  op: 'lt' | 'le' | 'gt' | 'ge' | 'eq';
}

/** a OP b, broadcasting, as int32 1 or 0. */
export const compare = defineOp<CompareAttrs>({
  kind: 'elementwise',
  arity: 2,
  attrs: { op: oneOf('lt', 'le', 'gt', 'ge', 'eq') },
  infer(inputs, { op }) {
    if (!['lt', 'le', 'gt', 'ge', 'eq'].includes(op)) throw new RuleError(`unknown comparison ${JSON.stringify(op)}`);
    return { dtype: 'int32', shape: broadcastType(inputs).shape };
  },
  lower: (ctx, { op }) => E.select(E.binary(op, loadBroadcast(ctx, 0), loadBroadcast(ctx, 1)), E.num(1), E.num(0)),
  flops: perElement,
});

/** cond ? x : y, broadcasting all three; cond is int32 (non-zero is true). */
export const where = defineOp({
  kind: 'elementwise',
  arity: 3,
  attrs: NO_ATTRS,
  infer([cond, x, y]) {
    if (cond.dtype !== 'int32') throw new RuleError(`where: the condition must be int32, got ${cond.dtype}`);
    const t = broadcastType([x, y]);
    return { dtype: t.dtype, shape: broadcastShapes(cond.shape, t.shape) };
  },
  lower: (ctx) => E.select(E.binary('ne', loadBroadcast(ctx, 0), E.num(0)), loadBroadcast(ctx, 1), loadBroadcast(ctx, 2)),
  flops: perElement,
});

export interface PadAttrs {
  /** [begin per axis..., end per axis...]; negative values crop. */
  pads: number[];
  mode: 'constant' | 'edge' | 'reflect' | 'wrap';
  value: number;
}

export const pad = defineOp<PadAttrs>({
  kind: 'movement',
  arity: 1,
  attrs: { pads: ints([0, 2 * MAX_RANK]), mode: oneOf('constant', 'edge', 'reflect', 'wrap'), value: num({ nonFinite: true }) },
  infer([x], { pads, mode }) {
    const r = x.shape.length;
    if (!isIntArray(pads, 2 * r)) throw new RuleError(`pads must be ${2 * r} integers, got ${JSON.stringify(pads)}`);
    if (!['constant', 'edge', 'reflect', 'wrap'].includes(mode)) throw new RuleError(`unknown pad mode ${JSON.stringify(mode)}`);
    const shape: Dim[] = x.shape.map((d, i) => {
      if (typeof d !== 'number') {
        if (pads[i] !== 0 || pads[i + r] !== 0) throw new RuleError(`cannot pad the batch dimension`);
        return d;
      }
      const n = d + pads[i] + pads[i + r];
      if (n < 0 || (mode !== 'constant' && n > 0 && d === 0)) throw new RuleError(`cannot pad ${formatShape(x.shape)} by ${JSON.stringify(pads)}`);
      if (mode === 'reflect' && (pads[i] >= d || pads[i + r] >= d) && (pads[i] > 0 || pads[i + r] > 0)) throw new RuleError(`reflect pads must be smaller than the axis (${d})`);
      return n;
    });
    return { dtype: x.dtype, shape };
  },
  lower(ctx, { pads, mode, value }) {
    const x = ctx.inputs[0];
    const r = x.shape.length;
    const conds: Expr[] = [];
    const index = ctx.out.map((o, i) => {
      const d = x.shape[i];
      const at = E.sub(o, E.num(pads[i]));
      if (typeof d !== 'number' || (pads[i] <= 0 && pads[i + r] <= 0)) return at;
      if (mode === 'constant') {
        conds.push(E.inRange(at, 0, d));
        return at;
      }
      if (mode === 'edge') return E.min(E.max(at, E.num(0)), E.num(d - 1));
      if (mode === 'wrap') return E.binary('mod', E.add(E.binary('mod', at, E.num(d)), E.num(d)), E.num(d));
      // reflect (no edge repeat): (d-1) - |(d-1) - |i||. Written without a select: the JS
      // renderer does not parenthesise a select used as the last index term.
      return E.sub(E.num(d - 1), E.unary('abs', E.sub(E.num(d - 1), E.unary('abs', at))));
    });
    const v = ctx.load(0, index);
    if (!conds.length) return v;
    const inside = conds.reduce((a, b) => E.binary('and', a, b));
    return E.select(inside, v, E.num(value));
  },
});

export interface RoundFloatAttrs {
  /** Mantissa bits of the narrow format. */
  mantissa: number;
  /** Exponent of its smallest normal number (below it, values are subnormal). */
  minExp: number;
  /** Its largest finite value. */
  max: number;
  /** What a finite value beyond `max` after rounding becomes: ±∞, NaN, or ±max (saturation). */
  overflow: 'inf' | 'nan' | 'max';
  /** What ±∞ becomes. */
  inf: 'inf' | 'nan' | 'max';
  /** Formats without NaN (FLOAT4E2M1) make it 0. */
  nanToZero?: boolean;
  /** Rounding: to nearest, ties to even (default), or towards +∞ / -∞. */
  mode?: 'nearest' | 'up' | 'down';
  /** Formats without zero (FLOAT8E8M0) raise smaller results to this, their smallest value. */
  least?: number;
}

/**
 * Rounds to the nearest value of a narrow float format (FLOAT16, BFLOAT16, FLOAT8…), ties to even,
 * keeping the type: Kiln carries those formats widened, and this is a Cast to one of them.
 */
export const roundFloat = defineOp<RoundFloatAttrs>({
  kind: 'elementwise',
  arity: 1,
  // Mantissa and exponent bounds: those of float64, the widest format Kiln carries.
  attrs: {
    mantissa: int(0, 52),
    minExp: int(-1074, 1023),
    max: num({ min: Number.MIN_VALUE }),
    overflow: special(),
    inf: special(),
    nanToZero: optional(bool()),
    mode: optional(oneOf('nearest', 'up', 'down')),
    least: optional(num({ min: 0 })),
  },
  infer([x], a) {
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new RuleError(`roundFloat needs a float input, got ${x.dtype}`);
    if (!Number.isInteger(a.mantissa) || !Number.isInteger(a.minExp) || !(a.max > 0)) throw new RuleError(`roundFloat: bad format`);
    return x;
  },
  lower(ctx, a) {
    const x = ctx.load(0, ctx.out);
    const ax = E.unary('abs', x);
    const pow2 = (e: Expr) => E.binary('pow', E.num(2), e);
    // The binary exponent of |x|, corrected for the rounding of log.
    const e0 = E.unary('floor', E.mul(E.unary('log', ax), E.num(Math.LOG2E)));
    const e1 = E.select(E.binary('gt', pow2(e0), ax), E.sub(e0, E.num(1)), e0);
    const e2 = E.select(E.binary('le', pow2(E.add(e1, E.num(1))), ax), E.add(e1, E.num(1)), e1);
    const ulp = pow2(E.sub(E.max(e2, E.num(a.minExp)), E.num(a.mantissa)));
    const q = E.div(x, ulp);
    const r0 = E.unary('floor', E.add(q, E.num(0.5)));
    const tie = E.binary('and', E.binary('eq', E.sub(r0, q), E.num(0.5)), E.binary('ne', E.binary('mod', r0, E.num(2)), E.num(0)));
    const rounded = a.mode === 'up' ? E.unary('neg', E.unary('floor', E.unary('neg', q))) : a.mode === 'down' ? E.unary('floor', q) : E.select(tie, E.sub(r0, E.num(1)), r0);
    const y0 = E.mul(rounded, ulp);
    const y = a.least !== undefined ? E.max(y0, E.num(a.least)) : y0;
    const special = (mode: 'inf' | 'nan' | 'max') =>
      mode === 'nan' ? E.num(NaN) : E.select(E.binary('gt', x, E.num(0)), E.num(mode === 'inf' ? Infinity : a.max), E.num(mode === 'inf' ? -Infinity : -a.max));
    const isInf = E.binary('eq', ax, E.num(Infinity));
    const out = E.select(isInf, special(a.inf), E.select(E.binary('gt', E.unary('abs', y), E.num(a.max)), special(a.overflow), y));
    return a.nanToZero ? E.select(E.binary('ne', x, x), E.num(0), out) : out;
  },
  flops: perElement,
});

export interface RoundIntAttrs {
  min: number;
  max: number;
}

/**
 * A float rounded to the nearest integer (ties to even) and wrapped into [min, max] modulo its
 * width, as int32: a Cast to INT4, UINT2… (ONNX keeps the low bits, as for the wider integers).
 */
export const roundInt = defineOp<RoundIntAttrs>({
  kind: 'elementwise',
  arity: 1,
  attrs: { min: int(), max: int() },
  infer([x], { min, max }) {
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new RuleError(`roundInt needs a float input, got ${x.dtype}`);
    if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) throw new RuleError(`roundInt: bad range [${min}, ${max}]`);
    return { dtype: 'int32', shape: x.shape };
  },
  lower(ctx, { min, max }) {
    const x = ctx.load(0, ctx.out);
    const r0 = E.unary('floor', E.add(x, E.num(0.5)));
    const tie = E.binary('and', E.binary('eq', E.sub(r0, x), E.num(0.5)), E.binary('ne', E.binary('mod', r0, E.num(2)), E.num(0)));
    const r = E.sub(E.select(tie, E.sub(r0, E.num(1)), r0), E.num(min));
    const m = E.num(max - min + 1);
    return E.add(E.binary('mod', E.add(E.binary('mod', r, m), m), m), E.num(min));
  },
  flops: perElement,
});

export const onnxExtraOps = { compare, where, pad, roundFloat, roundInt };
