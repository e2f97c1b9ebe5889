// Gather and GatherElements (ONNX semantics): pick slices (Gather) or single elements
// (GatherElements) of `data` along a constant axis at int32 `indices`.
import * as E from '../expr.ts';
import { RuleError } from '../errors.ts';
import { BATCH, formatShape, normAxis, type Dim } from '../shape.ts';
import { defineOp } from './types.ts';
import { int, MAX_RANK } from './attr-schema.ts';

const axisSchema = { axis: int(-MAX_RANK, MAX_RANK) };

export interface GatherAttrs {
  axis: number;
}

/** out[a..., i..., b...] = data[a..., indices[i...], b...]; a negative index counts from the end. */
export const gather = defineOp<GatherAttrs>({
  kind: 'movement',
  arity: 2,
  attrs: axisSchema,
  infer([data, indices], { axis }) {
    if (indices.dtype !== 'int32') throw new RuleError(`gather indices must be int32, got ${indices.dtype}`);
    const ax = normAxis(axis, data.shape.length);
    if (data.shape[ax] === BATCH) throw new RuleError(`gather cannot index the batch dimension`);
    const shape: Dim[] = [...data.shape.slice(0, ax), ...indices.shape, ...data.shape.slice(ax + 1)];
    // Batched indices (an embedding lookup of [N, L] tokens) are fine where the batch stays first.
    if (shape.slice(1).includes(BATCH)) throw new RuleError(`gather of ${formatShape(data.shape)} would put the batch dimension inside ${formatShape(shape)}`);
    return { dtype: data.dtype, shape };
  },
  lower(ctx, { axis }) {
    const [data, indices] = ctx.inputs;
    const ax = normAxis(axis, data.shape.length);
    const r = indices.shape.length;
    const raw = ctx.load(1, ctx.out.slice(ax, ax + r));
    const size = data.shape[ax] as number;
    // (raw + size) mod size maps [-size, size) onto [0, size). No select here: the JS renderer
    // does not parenthesise a select used as the last index term.
    const index = E.binary('mod', E.add(raw, E.num(size)), E.num(size));
    return ctx.load(0, [...ctx.out.slice(0, ax), index, ...ctx.out.slice(ax + r)]);
  },
});


/**
 * GatherElements (ONNX semantics): out has the shape of `indices`, and
 * out[i...] = data[i... with the `axis` entry replaced by indices[i...]]; a negative index counts
 * from the end. Every other extent of `indices` must not exceed `data`'s.
 */
export const gatherElements = defineOp<GatherAttrs>({
  kind: 'movement',
  arity: 2,
  attrs: axisSchema,
  infer([data, indices], { axis }) {
    if (indices.dtype !== 'int32') throw new RuleError(`gatherElements indices must be int32, got ${indices.dtype}`);
    if (indices.shape.length !== data.shape.length) throw new RuleError(`gatherElements needs indices of the data's rank (${data.shape.length}), got ${formatShape(indices.shape)}`);
    const ax = normAxis(axis, data.shape.length);
    if (data.shape[ax] === BATCH) throw new RuleError(`gatherElements cannot index the batch dimension`);
    indices.shape.forEach((d, i) => {
      const e = data.shape[i];
      if (i === ax) return;
      if (d === BATCH ? e !== BATCH : typeof e === 'number' && d > e) {
        throw new RuleError(`gatherElements indices ${formatShape(indices.shape)} do not fit data ${formatShape(data.shape)}`);
      }
    });
    return { dtype: data.dtype, shape: [...indices.shape] };
  },
  lower(ctx, { axis }) {
    const data = ctx.inputs[0];
    const ax = normAxis(axis, data.shape.length);
    const raw = ctx.load(1, ctx.out);
    const size = data.shape[ax] as number;
    // No select (see gather): (raw + size) mod size maps [-size, size) onto [0, size).
    const index = E.binary('mod', E.add(raw, E.num(size)), E.num(size));
    return ctx.load(0, ctx.out.map((o, i) => (i === ax ? index : o)));
  },
});

export const onnxOps = { gather, gatherElements };
