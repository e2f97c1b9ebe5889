// Ops the ONNX importer needs beyond Kiln's own: comparisons (int32 0/1 results: Kiln has no
// bool dtype), Where, and Pad (constant, edge, reflect, wrap).
import * as E from '../expr.ts';
import type { Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import { broadcastShapes, formatShape, type Dim } from '../shape.ts';
import { defineOp } from './types.ts';
import { broadcastType, isIntArray, loadBroadcast, perElement } from './util.ts';

export interface CompareAttrs {
  op: 'lt' | 'le' | 'gt' | 'ge' | 'eq';
}

/** a OP b, broadcasting, as int32 1 or 0. */
export const compare = defineOp<CompareAttrs>({
  kind: 'elementwise',
  arity: 2,
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

export const onnxExtraOps = { compare, where, pad };
