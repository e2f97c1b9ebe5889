// Ops that move or reinterpret data: reshape (a view), transpose, concat, slice, identity.
import * as E from '../expr.ts';
import type { Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import type { TensorType } from '../node.ts';
import { BATCH, formatShape, isBatched, normAxis, sampleSize, type Dim } from '../shape.ts';
import { defineOp } from './types.ts';
import { isIntArray, requireSameDType } from './util.ts';
import { type AttrSchema, dims, int, ints, MAX_RANK, NO_ATTRS, num, optional } from './attr-schema.ts';

const axis = () => int(-MAX_RANK, MAX_RANK);
const sliceList = () => ints([0, MAX_RANK]);
/** Slice attributes (sliceBackward adds the forward input's shape). */
export const sliceSchema = { starts: sliceList(), ends: sliceList(), axes: optional(ints([0, MAX_RANK], -MAX_RANK, MAX_RANK)), steps: optional(sliceList()) };

export interface ReshapeAttrs {
  /** Target shape; one entry may be -1 (inferred). On a batched input the first entry is the batch: -1. */
  shape: Dim[];
}

/** The concrete shape a reshape produces, or a RuleError naming both element counts. */
export function resolveReshape(x: TensorType, target: readonly Dim[]): Dim[] {
  if (!Array.isArray(target) || !target.every((d) => d === BATCH || Number.isInteger(d))) {
    throw new RuleError(`attribute shape must be a list of integers, got ${JSON.stringify(target)}`);
  }
  const batched = isBatched(x.shape);
  if (batched && !(target[0] === -1 || target[0] === BATCH)) {
    throw new RuleError(`reshape of batched ${formatShape(x.shape)} must keep the batch first: write -1 as the first dimension, got ${formatShape(target)}`);
  }
  const rest = batched ? target.slice(1) : [...target];
  const have = sampleSize(x.shape);
  const unknown = rest.filter((d) => d === -1).length;
  if (unknown > 1 || rest.some((d) => d !== -1 && (d as number) < 0)) {
    throw new RuleError(`invalid reshape target ${formatShape(target)}`);
  }
  const known = rest.reduce<number>((p, d) => (d === -1 ? p : p * (d as number)), 1);
  const what = batched ? ' per sample' : '';
  const resolved = rest.map((d) => (d === -1 ? (known === 0 ? 0 : have / known) : d));
  if ((unknown === 1 && (known === 0 || have % known !== 0)) || (unknown === 0 && known !== have)) {
    throw new RuleError(
      `cannot reshape ${formatShape(x.shape)} (${have} values${what}) to ${formatShape(target)} (${known} values${what})`,
    );
  }
  return batched ? [BATCH, ...resolved] : resolved;
}

export interface TransposeAttrs {
  perm: number[];
}

export interface ConcatAttrs {
  axis: number;
}

export interface SliceAttrs {
  starts: number[];
  ends: number[];
  axes?: number[];
  steps?: number[];
}

/** Per-axis start and step of a slice, clamped as ONNX does; axes not sliced keep start 0, step 1. */
export function resolveSlice(x: TensorType, a: SliceAttrs): { start: number; step: number; size: Dim }[] {
  const rank = x.shape.length;
  const axes = a.axes ?? a.starts.map((_, i) => i);
  const steps = a.steps ?? axes.map(() => 1);
  if (!isIntArray(a.starts) || !isIntArray(a.ends) || !isIntArray(axes) || !isIntArray(steps) || a.starts.length !== axes.length || a.ends.length !== axes.length || steps.length !== axes.length) {
    throw new RuleError(`slice starts, ends, axes and steps must be integer lists of one length`);
  }
  const out = x.shape.map((size) => ({ start: 0, step: 1, size }));
  axes.forEach((axis, i) => {
    const ax = normAxis(axis, rank);
    const dim = x.shape[ax];
    if (dim === BATCH) throw new RuleError(`cannot slice the batch dimension`);
    const step = steps[i];
    if (step === 0) throw new RuleError(`slice step cannot be 0`);
    const clampIndex = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
    const start = step > 0 ? clampIndex(a.starts[i], 0, dim) : clampIndex(a.starts[i], 0, dim - 1);
    const end = step > 0 ? clampIndex(a.ends[i], 0, dim) : clampIndex(a.ends[i], -1, dim - 1);
    const size = Math.max(0, Math.ceil((end - start) / step));
    out[ax] = { start, step, size };
  });
  return out;
}

const view = <A>(attrs: AttrSchema<A>, infer: (x: TensorType, attrs: A) => TensorType) =>
  defineOp<A>({ kind: 'view', arity: 1, attrs, infer: ([x], a) => infer(x, a) });

export interface DropoutAttrs {
  rate: number;
}

export const movementOps = {
  reshape: view<ReshapeAttrs>({ shape: dims(true) }, (x, { shape }) => ({ dtype: x.dtype, shape: resolveReshape(x, shape) })),
  identity: view(NO_ATTRS, (x) => x),
  /** Identity at inference; the training graph replaces it with a seeded mask. */
  dropout: view<DropoutAttrs>({ rate: num({ min: 0, max: 1 }) }, (x, { rate }) => {
    if (!(rate >= 0 && rate < 1)) throw new RuleError(`dropout rate must be in [0, 1), got ${rate}`);
    return x;
  }),
  transpose: defineOp<TransposeAttrs>({
    kind: 'movement',
    arity: 1,
    attrs: { perm: ints([0, MAX_RANK], 0, MAX_RANK - 1) },
    infer([x], { perm }) {
      const rank = x.shape.length;
      if (!isIntArray(perm, rank) || new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
        throw new RuleError(`perm ${JSON.stringify(perm)} is not a permutation of ${rank} axes`);
      }
      if (isBatched(x.shape) && perm[0] !== 0) throw new RuleError(`transpose cannot move the batch dimension`);
      return { dtype: x.dtype, shape: perm.map((p) => x.shape[p]) };
    },
    lower(ctx, { perm }) {
      const index = new Array<Expr>(perm.length);
      perm.forEach((p, j) => (index[p] = ctx.out[j]));
      return ctx.load(0, index);
    },
  }),
  concat: defineOp<ConcatAttrs>({
    kind: 'movement',
    arity: 'variadic',
    attrs: { axis: axis() },
    infer(inputs, { axis }) {
      requireSameDType(inputs);
      const first = inputs[0];
      const ax = normAxis(axis, first.shape.length);
      if (first.shape[ax] === BATCH) throw new RuleError(`cannot concatenate along the batch dimension`);
      let total = 0;
      for (const t of inputs) {
        const fits = t.shape.length === first.shape.length && t.shape.every((d, i) => i === ax || d === first.shape[i]);
        if (!fits) throw new RuleError(`shapes ${formatShape(first.shape)} and ${formatShape(t.shape)} differ outside axis ${ax}`);
        total += t.shape[ax] as number;
      }
      return { dtype: first.dtype, shape: first.shape.map((d, i) => (i === ax ? total : d)) };
    },
    lower(ctx, { axis }) {
      const ax = normAxis(axis, ctx.output.shape.length);
      const o = ctx.out[ax];
      const offsets: number[] = [];
      ctx.inputs.reduce((off, t) => (offsets.push(off), off + (t.shape[ax] as number)), 0);
      // Nested selects from the last part backwards: o < end(i) ? part i : later parts.
      let result: Expr = E.num(0);
      for (let i = ctx.inputs.length - 1; i >= 0; i--) {
        const index = ctx.out.map((e, j) => (j === ax ? E.sub(o, E.num(offsets[i])) : e));
        const part = ctx.load(i, index);
        const end = offsets[i] + (ctx.inputs[i].shape[ax] as number);
        result = i === ctx.inputs.length - 1 ? part : E.select(E.binary('lt', o, E.num(end)), part, result);
      }
      return result;
    },
  }),
  slice: defineOp<SliceAttrs>({
    kind: 'movement',
    arity: 1,
    attrs: sliceSchema,
    infer: ([x], a) => ({ dtype: x.dtype, shape: resolveSlice(x, a).map((s) => s.size) }),
    lower(ctx, a) {
      const parts = resolveSlice(ctx.inputs[0], a);
      return ctx.load(0, ctx.out.map((o, i) => E.add(E.mul(o, E.num(parts[i].step)), E.num(parts[i].start))));
    },
  }),
};
