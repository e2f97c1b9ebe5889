// Reductions over axes, argmax, and the softmax family (composites of reductions).
import * as E from '../expr.ts';
import type { Expr, ReduceOp } from '../expr.ts';
import { RuleError } from '../errors.ts';
import type { Node, TensorType } from '../node.ts';
import { BATCH, normAxis, numel, type Dim } from '../shape.ts';
import type { LowerCtx } from './types.ts';
import { defineOp } from './types.ts';
import { requireFloat } from './util.ts';
import { bool, int, ints, MAX_RANK } from './attr-schema.ts';

const axis = () => int(-MAX_RANK, MAX_RANK);
const reduceSchema = { axes: ints([0, MAX_RANK], -MAX_RANK, MAX_RANK), keepdims: bool() };

export interface ReduceAttrs {
  /** Axes to reduce; empty means all. */
  axes: number[];
  keepdims: boolean;
}

function reducedAxes(x: TensorType, axes: number[]): number[] {
  if (!Array.isArray(axes)) throw new RuleError(`attribute axes must be a list of integers`);
  const all = axes.length === 0 ? x.shape.map((_, i) => i) : axes.map((a) => normAxis(a, x.shape.length));
  if (new Set(all).size !== all.length) throw new RuleError(`axes ${JSON.stringify(axes)} repeat an axis`);
  return all.sort((a, b) => a - b);
}

function reduceInfer(x: TensorType, { axes, keepdims }: ReduceAttrs): TensorType {
  const reduced = reducedAxes(x, axes);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!reduced.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return { dtype: x.dtype, shape };
}

/** Input index with reduction variables on the reduced axes and output indices elsewhere. */
function reduceIndex(ctx: LowerCtx, { axes, keepdims }: ReduceAttrs) {
  const x = ctx.inputs[0];
  const reduced = reducedAxes(x, axes);
  const vars: E.ReduceVar[] = [];
  let o = 0;
  const index = x.shape.map((extent, i): Expr => {
    if (!reduced.includes(i)) return ctx.out[o++];
    if (keepdims) o++;
    const name = ctx.fresh('r');
    vars.push({ name, extent });
    return E.v(name);
  });
  return { vars, index };
}

/** Number of reduced elements, as an expression (it involves the batch size when axis 0 is). */
function reducedCount(vars: readonly E.ReduceVar[]): Expr {
  const literal = vars.reduce((p, r) => (r.extent === BATCH ? p : p * r.extent), 1);
  return vars.some((r) => r.extent === BATCH) ? E.mul(E.v(E.BATCH_VAR), E.num(literal)) : E.num(literal);
}

function reduceOp(op: ReduceOp, mean = false) {
  return defineOp<ReduceAttrs>({
    kind: 'reduce',
    readsOnce: true,
    arity: 1,
    attrs: reduceSchema,
    infer: ([x], a) => reduceInfer(x, a),
    lower(ctx, a) {
      const { vars, index } = reduceIndex(ctx, a);
      const r = E.reduce(op, vars, ctx.load(0, index));
      return mean ? E.div(r, reducedCount(vars)) : r;
    },
    flops: ([x]) => numel(x.shape),
  });
}

export interface AxisAttrs {
  axis: number;
}

export interface ArgAttrs extends AxisAttrs {
  keepdims: boolean;
}

/** Softmax as max-subtracted exponentials over their sum: never overflows. */
function softmaxParts(x: import('../node.ts').Node, axis: number, emit: import('./types.ts').Emit) {
  const axes = [axis];
  const m = emit('reduceMax', [x], { axes, keepdims: true });
  const shifted = emit('sub', [x, m]);
  const e = emit('exp', [shifted]);
  const s = emit('reduceSum', [e], { axes, keepdims: true });
  return { shifted, e, s };
}

/** softmax and logSoftmax: same type rule and cost, different compositions. */
function softmaxFamily(decompose: (x: import('../node.ts').Node, axis: number, emit: import('./types.ts').Emit) => import('../node.ts').Node) {
  return defineOp<AxisAttrs>({
    kind: 'composite',
    arity: 1,
    attrs: { axis: axis() },
    infer([x], { axis }) {
      requireFloat(x);
      normAxis(axis, x.shape.length);
      return x;
    },
    decompose: ([x], { axis }, emit) => decompose(x, axis, emit),
    flops: ([x]) => 5 * numel(x.shape),
  });
}

export const reduceOps = {
  reduceSum: reduceOp('sum'),
  reduceMean: reduceOp('sum', true),
  reduceMax: reduceOp('max'),
  reduceMin: reduceOp('min'),
  /** Index of the first largest element along `axis`, as int32. */
  argmax: defineOp<ArgAttrs>({
    kind: 'reduce',
    arity: 1,
    attrs: { axis: axis(), keepdims: bool() },
    infer([x], { axis, keepdims }) {
      const t = reduceInfer(x, { axes: [axis], keepdims });
      return { dtype: 'int32', shape: t.shape };
    },
    lower(ctx, { axis, keepdims }) {
      const { vars, index } = reduceIndex(ctx, { axes: [axis], keepdims });
      return E.reduce('argmax', vars, ctx.load(0, index));
    },
    flops: ([x]) => numel(x.shape),
  }),
  // Return types written out: `emit` takes an OpName, the keys of the table this entry is in.
  softmax: softmaxFamily((x, axis, emit): Node => {
    const { e, s } = softmaxParts(x, axis, emit);
    return emit('div', [e, s]);
  }),
  logSoftmax: softmaxFamily((x, axis, emit): Node => {
    const { shifted, s } = softmaxParts(x, axis, emit);
    return emit('sub', [shifted, emit('log', [s])]);
  }),
};
