// Ops that gradients are made of: masks, broadcasts, and the backward kernels of windowed ops.
import * as E from '../expr.ts';
import type { Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import type { TensorType } from '../node.ts';
import { broadcastShapes, formatShape, numel, sameShape, type Dim } from '../shape.ts';
import { convSchema, poolSchema, type Conv2dAttrs, type PoolAttrs } from './conv.ts';
import { resolveSlice, sliceSchema, type SliceAttrs } from './movement.ts';
import { dims, int, NO_ATTRS, num, oneOf, optional } from './attr-schema.ts';

const backward = { inputShape: dims() };
import { defineOp, type LowerCtx } from './types.ts';
import { broadcastType, loadBroadcast, perElement, requireInts } from './util.ts';

/** 1 where x > 0, else 0: the mask in the gradients of relu, clip and maximum. */
export const step = defineOp({
  kind: 'elementwise',
  arity: 1,
  attrs: NO_ATTRS,
  infer: ([x]) => x,
  lower: (ctx) => E.select(E.binary('gt', ctx.load(0, ctx.out), E.num(0)), E.num(1), E.num(0)),
  flops: perElement,
});

export const sign = defineOp({
  kind: 'elementwise',
  arity: 1,
  attrs: NO_ATTRS,
  infer: ([x]) => x,
  lower: (ctx) => E.unary('sign', ctx.load(0, ctx.out)),
  flops: perElement,
});

/** 1 where a == b (broadcasting), else 0: marks the winners of a max. */
export const isEqual = defineOp({
  kind: 'elementwise',
  arity: 2,
  attrs: NO_ATTRS,
  infer: (inputs) => broadcastType(inputs),
  lower: (ctx) => E.select(E.binary('eq', loadBroadcast(ctx, 0), loadBroadcast(ctx, 1)), E.num(1), E.num(0)),
  flops: perElement,
});

export interface ExpandAttrs {
  shape: Dim[];
}

/** Broadcasts x to `shape` (which may start with the batch). */
export const expand = defineOp<ExpandAttrs>({
  kind: 'movement',
  arity: 1,
  attrs: { shape: dims() },
  infer([x], { shape }) {
    const out = broadcastShapes(x.shape, shape);
    if (!sameShape(out, shape)) throw new RuleError(`cannot expand ${formatShape(x.shape)} to ${formatShape(shape)}`);
    return { dtype: x.dtype, shape };
  },
  lower: (ctx) => loadBroadcast(ctx, 0),
});

/** The run-time batch size as a float scalar: the divisor of means over the batch. */
export const batchSize = defineOp<{ dtype?: 'float32' | 'float64' }>({
  kind: 'movement',
  arity: 0,
  attrs: { dtype: optional(oneOf('float32', 'float64')) },
  infer: (_i, { dtype }) => ({ dtype: dtype ?? 'float32', shape: [] }),
  lower: () => E.v(E.BATCH_VAR),
});

export interface OneHotAttrs {
  depth: number;
}

/** int32 labels [..] → float32 [.., depth] with a 1 at each label. */
export const oneHot = defineOp<OneHotAttrs>({
  kind: 'movement',
  arity: 1,
  attrs: { depth: int(1) },
  infer([labels], { depth }) {
    if (labels.dtype !== 'int32') throw new RuleError(`oneHot needs int32 labels, got ${labels.dtype}`);
    requireInts([depth], 1, 'depth', 1);
    return { dtype: 'float32', shape: [...labels.shape, depth] };
  },
  lower: (ctx) => E.select(E.binary('eq', ctx.load(0, ctx.out.slice(0, -1)), ctx.out[ctx.out.length - 1]), E.num(1), E.num(0)),
});

export interface BackwardAttrs {
  /** Shape of the forward input whose gradient this computes. */
  inputShape: Dim[];
}

/** Forward output position along one axis read by input position `pos` at tap t, if any. */
function tapSource(pos: Expr, t: Expr, stride: number, dilation: number, padBefore: number, extent: number) {
  const shifted = E.sub(E.add(pos, E.num(padBefore)), E.mul(t, E.num(dilation)));
  const o = E.binary('idiv', shifted, E.num(stride));
  const valid = stride === 1 ? E.inRange(shifted, 0, extent) : E.binary('and', E.binary('eq', E.binary('mod', shifted, E.num(stride)), E.num(0)), E.inRange(o, 0, extent));
  return { o: stride === 1 ? shifted : o, valid };
}

/** Sum over window taps (i, j) of `value(oh, ow, i, j)` for the outputs that read input (h, w). */
function scatterWindows(ctx: LowerCtx, a: PoolAttrs | Conv2dAttrs, kernel: [number, number], outHW: [number, number], extra: { name: string; extent: number }[], value: (oh: Expr, ow: Expr, i: Expr, j: Expr) => Expr): Expr {
  const [i, j] = [ctx.fresh('i'), ctx.fresh('j')];
  const [h, w] = [ctx.out[2], ctx.out[3]];
  const rows = tapSource(h, E.v(i), a.strides[0], a.dilations[0], a.pads[0], outHW[0]);
  const cols = tapSource(w, E.v(j), a.strides[1], a.dilations[1], a.pads[1], outHW[1]);
  const body = E.select(E.binary('and', rows.valid, cols.valid), value(rows.o, cols.o, E.v(i), E.v(j)), E.num(0));
  return E.reduce('sum', [...extra, { name: i, extent: kernel[0] }, { name: j, extent: kernel[1] }], body);
}

const backwardType = (g: TensorType, shape: Dim[]): TensorType => ({ dtype: g.dtype, shape });

/** dL/dx of conv2d from dy [N, F, OH, OW] and the filter [F, C/g, kH, kW]. */
export const conv2dBackwardInput = defineOp<Conv2dAttrs & BackwardAttrs>({
  kind: 'reduce',
  arity: 2,
  attrs: { ...convSchema, ...backward },
  infer: ([g], a) => backwardType(g, a.inputShape),
  lower(ctx, a) {
    const [f, cg, kh, kw] = ctx.inputs[1].shape as number[];
    const fg = f / a.group;
    const fi = ctx.fresh('f');
    const [, , oh, ow] = ctx.inputs[0].shape as number[];
    const c = ctx.out[1];
    // Filters of c's group: f = group(c) * fg + fi; the filter's channel is c mod cg.
    const filter = a.group === 1 ? E.v(fi) : E.add(E.mul(E.binary('idiv', c, E.num(cg)), E.num(fg)), E.v(fi));
    const channel = a.group === 1 ? c : E.binary('mod', c, E.num(cg));
    return scatterWindows(ctx, a, [kh, kw], [oh, ow], [{ name: fi, extent: fg }], (y, x, i, j) =>
      E.mul(ctx.load(0, [ctx.out[0], filter, y, x]), ctx.load(1, [filter, channel, i, j])),
    );
  },
  flops: ([g, w]) => 2 * numel(g.shape) * numel(w.shape.slice(1)),
});

/** dL/dW of conv2d from dy [N, F, OH, OW] and the input x: a reduction over batch and positions. */
export const conv2dBackwardFilter = defineOp<Conv2dAttrs & BackwardAttrs>({
  kind: 'reduce',
  arity: 2,
  attrs: { ...convSchema, ...backward },
  infer: ([g], a) => backwardType(g, a.inputShape),
  lower(ctx, a) {
    const [n, , oh, ow] = ctx.inputs[0].shape;
    const [, , h, w] = ctx.inputs[1].shape as number[];
    const [f, c, i, j] = ctx.out;
    const cg = a.inputShape[1] as number;
    const fg = (a.inputShape[0] as number) / a.group;
    const [bn, y, x] = [ctx.fresh('n'), ctx.fresh('y'), ctx.fresh('x')];
    const ih = E.add(E.sub(E.mul(E.v(y), E.num(a.strides[0])), E.num(a.pads[0])), E.mul(i, E.num(a.dilations[0])));
    const iw = E.add(E.sub(E.mul(E.v(x), E.num(a.strides[1])), E.num(a.pads[1])), E.mul(j, E.num(a.dilations[1])));
    const channel = a.group === 1 ? c : E.add(E.mul(E.binary('idiv', f, E.num(fg)), E.num(cg)), c);
    const product = E.mul(ctx.load(0, [E.v(bn), f, E.v(y), E.v(x)]), ctx.load(1, [E.v(bn), channel, ih, iw]));
    const padded = a.pads.some((p) => p > 0);
    const body = padded ? E.select(E.binary('and', E.inRange(ih, 0, h), E.inRange(iw, 0, w)), product, E.num(0)) : product;
    return E.reduce('sum', [{ name: bn, extent: n }, { name: y, extent: oh as number }, { name: x, extent: ow as number }], body);
  },
  flops: ([g], out) => 2 * numel(g.shape) * numel(out.shape.slice(1)),
});

/** Non-overlapping, unpadded windows (the usual 2×2 pool with stride 2). */
const tiles = (a: PoolAttrs) => a.strides[0] === a.kernel[0] && a.strides[1] === a.kernel[1] && a.pads.every((p) => p === 0) && a.dilations.every((d) => d === 1);

/** dL/dx of maxPool2d from dy, x and y: each output's gradient goes to the inputs equal to its max. */
export const maxPool2dBackward = defineOp<PoolAttrs>({
  kind: 'reduce',
  arity: 3,
  attrs: poolSchema,
  infer: ([, x]) => x,
  lower(ctx, a) {
    const [, , oh, ow] = ctx.inputs[0].shape as number[];
    const x = ctx.load(1, ctx.out);
    if (tiles(a)) {
      // Windows that tile the input: each input lies in at most one window, no search needed.
      const [y, xo] = [0, 1].map((d) => E.binary('idiv', ctx.out[2 + d], E.num(a.kernel[d])));
      const at = [ctx.out[0], ctx.out[1], y, xo];
      const inside = E.binary('and', E.binary('lt', y, E.num(oh)), E.binary('lt', xo, E.num(ow)));
      return E.select(inside, E.select(E.binary('eq', x, ctx.load(2, at)), ctx.load(0, at), E.num(0)), E.num(0));
    }
    return scatterWindows(ctx, a, a.kernel, [oh, ow], [], (y, xo) => {
      const at = [ctx.out[0], ctx.out[1], y, xo];
      return E.select(E.binary('eq', x, ctx.load(2, at)), ctx.load(0, at), E.num(0));
    });
  },
});

/** dL/dx of avgPool2d: each output's gradient spread over its window (count as in the forward). */
export const avgPool2dBackward = defineOp<PoolAttrs & BackwardAttrs>({
  kind: 'reduce',
  arity: 2,
  attrs: { ...poolSchema, ...backward },
  infer: ([g], a) => backwardType(g, a.inputShape),
  lower(ctx, a) {
    const [, , oh, ow] = ctx.inputs[0].shape as number[];
    // The forward's divisor per output position is supplied as input 1 ([OH, OW]).
    return scatterWindows(ctx, a, a.kernel, [oh, ow], [], (y, x) => E.div(ctx.load(0, [ctx.out[0], ctx.out[1], y, x]), ctx.load(1, [y, x])));
  },
});

/** dL/dx of slice: the gradient placed back on the slice's grid, zeros elsewhere. */
export const sliceBackward = defineOp<SliceAttrs & BackwardAttrs>({
  kind: 'movement',
  arity: 1,
  attrs: { ...sliceSchema, ...backward },
  infer: ([g], a) => backwardType(g, a.inputShape),
  lower(ctx, a) {
    const parts = resolveSlice({ dtype: ctx.output.dtype, shape: a.inputShape }, a);
    let inside: Expr | null = null;
    const index = ctx.out.map((o, d) => {
      const { start, step: s, size } = parts[d];
      if (start === 0 && s === 1 && size === a.inputShape[d]) return o;
      const shifted = E.sub(o, E.num(start));
      const k = E.binary('idiv', shifted, E.num(s));
      const onGrid = E.binary('and', E.binary('eq', E.binary('mod', shifted, E.num(s)), E.num(0)), E.inRange(k, 0, size as number));
      inside = inside ? E.binary('and', inside, onGrid) : onGrid;
      return k;
    });
    const value = ctx.load(0, index);
    return inside ? E.select(inside, value, E.num(0)) : value;
  },
});


export interface DropoutMaskAttrs {
  rate: number;
  /**
   * This mask's stream among the training graph's `streams` dropout masks: element i draws
   * counter i·streams + stream, so masks of different layers never share draws (two dropouts of
   * one tensor, or of tensors of one shape, would otherwise drop the same positions).
   */
  stream?: number;
  streams?: number;
}

/**
 * The training-time dropout mask for a tensor shaped like input 0: 1/(1-rate) where the
 * element survives, 0 where it is dropped, drawn from (seed, element index); input 1 is the
 * step's scalar seed, so each step draws a new mask and the backward pass reuses this one.
 */
export const dropoutMask = defineOp<DropoutMaskAttrs>({
  kind: 'movement',
  arity: 2,
  attrs: { rate: num({ min: 0, max: 1 }), stream: optional(int(0, 65535)), streams: optional(int(1, 65536)) },
  infer([x, seed], { rate, stream = 0, streams = 1 }) {
    if (seed.shape.length !== 0) throw new RuleError(`dropout seed must be a scalar, got ${formatShape(seed.shape)}`);
    if (!(rate >= 0 && rate < 1)) throw new RuleError(`dropout rate must be in [0, 1), got ${rate}`);
    if (stream >= streams) throw new RuleError(`dropout stream ${stream} must be below streams ${streams}`);
    return { dtype: x.dtype, shape: x.shape };
  },
  lower(ctx, { rate, stream = 0, streams = 1 }) {
    const strideOf = (d: number) => ctx.output.shape.slice(d + 1).reduce<number>((p, n) => p * (n as number), 1);
    const flat = ctx.out.reduce<Expr>((acc, o, d) => E.add(acc, E.mul(o, E.num(strideOf(d) * streams))), E.num(stream));
    const u = E.binary('hashUniform', ctx.load(1, []), flat);
    return E.select(E.binary('ge', u, E.num(rate)), E.num(1 / (1 - rate)), E.num(0));
  },
});


export const gradOps = { dropoutMask, batchSize, step, sign, isEqual, expand, oneHot, conv2dBackwardInput, conv2dBackwardFilter, maxPool2dBackward, avgPool2dBackward, sliceBackward };
