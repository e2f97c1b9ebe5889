// Convolution and pooling over NCHW tensors, with stride, padding and dilation.
import * as E from '../expr.ts';
import type { Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import type { TensorType } from '../node.ts';
import { formatShape, numel, type Dim } from '../shape.ts';
import type { LowerCtx } from './types.ts';
import { defineOp } from './types.ts';
import { requireInts, requireRank, requireSameDType } from './util.ts';
import { type AttrSchema, bool, type Field, int, ints, NO_ATTRS, optional } from './attr-schema.ts';

const pair = ints(2, 1) as Field<[number, number]>;
/** Schemas of the window attributes (conv.ts's and grad-ops.ts's windowed ops share them). */
export const windowSchema: AttrSchema<WindowAttrs> = { strides: pair, pads: ints(4, 0) as Field<[number, number, number, number]>, dilations: pair };
export const convSchema: AttrSchema<Conv2dAttrs> = { ...windowSchema, group: int(1) };
export const poolSchema: AttrSchema<PoolAttrs> = { ...windowSchema, kernel: pair, countIncludePad: optional(bool()) };

/** Spatial window attributes; pads are [top, left, bottom, right] as in ONNX. */
export interface WindowAttrs {
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
}

export interface Conv2dAttrs extends WindowAttrs {
  group: number;
}

export interface PoolAttrs extends WindowAttrs {
  kernel: [number, number];
  /** Average pools only: divide by the whole window even where it hangs over the padding. */
  countIncludePad?: boolean;
}

function checkWindow(a: WindowAttrs): void {
  requireInts(a.strides, 2, 'strides', 1);
  requireInts(a.pads, 4, 'pads', 0);
  requireInts(a.dilations, 2, 'dilations', 1);
}

/** Output extent of one spatial axis. */
function outExtent(size: number, k: number, stride: number, dilation: number, padBefore: number, padAfter: number): number {
  return Math.floor((size + padBefore + padAfter - dilation * (k - 1) - 1) / stride) + 1;
}

function spatialOut(x: TensorType, k: [number, number], a: WindowAttrs, what: string): [number, number] {
  const [h, w] = [x.shape[2], x.shape[3]] as number[];
  const oh = outExtent(h, k[0], a.strides[0], a.dilations[0], a.pads[0], a.pads[2]);
  const ow = outExtent(w, k[1], a.strides[1], a.dilations[1], a.pads[1], a.pads[3]);
  if (oh < 1 || ow < 1) {
    throw new RuleError(`${what} window ${k[0]}×${k[1]} does not fit input ${formatShape(x.shape)} (output would be ${oh}×${ow})`);
  }
  return [oh, ow];
}

/**
 * Input row and column read by output position (oh, ow) at window offset (i, j), and the
 * condition that it lies inside the unpadded input (null when no padding can be reached).
 */
function windowRead(ctx: LowerCtx, a: WindowAttrs, i: Expr, j: Expr): { ih: Expr; iw: Expr; inside: Expr | null } {
  const [, , h, w] = ctx.inputs[0].shape as number[];
  const [oh, ow] = [ctx.out[2], ctx.out[3]];
  const ih = E.add(E.sub(E.mul(oh, E.num(a.strides[0])), E.num(a.pads[0])), E.mul(i, E.num(a.dilations[0])));
  const iw = E.add(E.sub(E.mul(ow, E.num(a.strides[1])), E.num(a.pads[1])), E.mul(j, E.num(a.dilations[1])));
  // Without padding every window lies inside the input, so no bounds test is emitted.
  const inside = a.pads.some((p) => p > 0) ? E.binary('and', E.inRange(ih, 0, h), E.inRange(iw, 0, w)) : null;
  return { ih, iw, inside };
}

export const conv2d = defineOp<Conv2dAttrs>({
  kind: 'reduce',
  arity: 2,
  attrs: convSchema,
  infer([x, w], a) {
    requireSameDType([x, w]);
    requireRank(x, 4, 'input [N, C, H, W]');
    requireRank(w, 4, 'filter [F, C/group, kH, kW]');
    checkWindow(a);
    const [c, f, cg] = [x.shape[1], w.shape[0], w.shape[1]] as number[];
    if (!Number.isInteger(a.group) || a.group < 1 || c % a.group !== 0 || f % a.group !== 0) {
      throw new RuleError(`group ${a.group} must divide input channels ${c} and filters ${f}`);
    }
    if (cg * a.group !== c) {
      throw new RuleError(`filter ${formatShape(w.shape)} expects ${cg * a.group} input channels, input ${formatShape(x.shape)} has ${c}`);
    }
    const [oh, ow] = spatialOut(x, [w.shape[2] as number, w.shape[3] as number], a, 'conv2d');
    return { dtype: x.dtype, shape: [x.shape[0], f, oh, ow] };
  },
  lower(ctx, a) {
    const [f, cg, kh, kw] = ctx.inputs[1].shape as number[];
    const fPerGroup = f / a.group;
    const [c, i, j] = [ctx.fresh('c'), ctx.fresh('i'), ctx.fresh('j')];
    const { ih, iw, inside } = windowRead(ctx, a, E.v(i), E.v(j));
    const [n, fo] = [ctx.out[0], ctx.out[1]];
    const channel = a.group === 1 ? E.v(c) : E.add(E.mul(E.binary('idiv', fo, E.num(fPerGroup)), E.num(cg)), E.v(c));
    const product = E.mul(ctx.load(0, [n, channel, ih, iw]), ctx.load(1, [fo, E.v(c), E.v(i), E.v(j)]));
    const vars = [
      { name: c, extent: cg },
      { name: i, extent: kh },
      { name: j, extent: kw },
    ];
    return E.reduce('sum', vars, inside ? E.select(inside, product, E.num(0)) : product);
  },
  flops: ([, w], out) => 2 * numel(out.shape) * numel(w.shape.slice(1)),
});

function poolInfer(x: TensorType, a: PoolAttrs, what: string): TensorType {
  requireRank(x, 4, 'input [N, C, H, W]');
  requireInts(a.kernel, 2, 'kernel', 1);
  checkWindow(a);
  const [oh, ow] = spatialOut(x, a.kernel, a, what);
  return { dtype: x.dtype, shape: [x.shape[0], x.shape[1], oh, ow] };
}

function poolVars(ctx: LowerCtx, a: PoolAttrs) {
  const [i, j] = [ctx.fresh('i'), ctx.fresh('j')];
  const read = windowRead(ctx, a, E.v(i), E.v(j));
  const value = ctx.load(0, [ctx.out[0], ctx.out[1], read.ih, read.iw]);
  const vars = [
    { name: i, extent: a.kernel[0] },
    { name: j, extent: a.kernel[1] },
  ];
  return { vars, value, inside: read.inside };
}

export const maxPool2d = defineOp<PoolAttrs>({
  kind: 'reduce',
  arity: 1,
  attrs: poolSchema,
  infer: ([x], a) => poolInfer(x, a, 'maxPool2d'),
  lower(ctx, a) {
    const { vars, value, inside } = poolVars(ctx, a);
    return E.reduce('max', vars, inside ? E.select(inside, value, E.num(-Infinity)) : value);
  },
  flops: (_i, out, a) => numel(out.shape) * a.kernel[0] * a.kernel[1],
});

export const avgPool2d = defineOp<PoolAttrs>({
  kind: 'reduce',
  arity: 1,
  attrs: poolSchema,
  infer: ([x], a) => poolInfer(x, a, 'avgPool2d'),
  lower(ctx, a) {
    const { vars, value, inside } = poolVars(ctx, a);
    const sum = E.reduce('sum', vars, inside ? E.select(inside, value, E.num(0)) : value);
    if (!inside || a.countIncludePad) return E.div(sum, E.num(a.kernel[0] * a.kernel[1]));
    return E.div(sum, validCount(ctx, a));
  },
  flops: (_i, out, a) => numel(out.shape) * a.kernel[0] * a.kernel[1],
});

/** How many window positions of output (oh, ow) fall inside the input, as an expression. */
function validCount(ctx: LowerCtx, a: PoolAttrs): Expr {
  const [, , h, w] = ctx.inputs[0].shape as number[];
  const axis = (o: Expr, size: number, k: number, s: number, d: number, p: number): Expr => {
    // Window taps o*s - p + t*d for t < k; count those in [0, size).
    let count: Expr = E.num(0);
    for (let t = 0; t < k; t++) {
      const pos = E.add(E.sub(E.mul(o, E.num(s)), E.num(p)), E.num(t * d));
      count = E.add(count, E.select(E.inRange(pos, 0, size), E.num(1), E.num(0)));
    }
    return count;
  };
  return E.mul(
    axis(ctx.out[2], h, a.kernel[0], a.strides[0], a.dilations[0], a.pads[0]),
    axis(ctx.out[3], w, a.kernel[1], a.strides[1], a.dilations[1], a.pads[1]),
  );
}

export const globalAvgPool = defineOp({
  kind: 'reduce',
  arity: 1,
  attrs: NO_ATTRS,
  infer([x]) {
    if (x.shape.length < 3) throw new RuleError(`expected input [N, C, ...spatial], got ${formatShape(x.shape)}`);
    return { dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...x.shape.slice(2).map((): Dim => 1)] };
  },
  lower(ctx) {
    const spatial = ctx.inputs[0].shape.slice(2) as number[];
    const vars = spatial.map((extent) => ({ name: ctx.fresh('s'), extent }));
    const sum = E.reduce('sum', vars, ctx.load(0, [ctx.out[0], ctx.out[1], ...vars.map((r) => E.v(r.name))]));
    return E.div(sum, E.num(spatial.reduce((p, d) => p * d, 1)));
  },
  flops: ([x]) => numel(x.shape),
});
