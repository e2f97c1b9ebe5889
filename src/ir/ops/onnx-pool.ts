// N-D max and average pooling over every axis after [N, C] (ONNX's 3-D pooling; Kiln's own
// pooling ops are 2-D). Pads are [begin per axis..., end per axis...].
import * as E from '../expr.ts';
import type { Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import { formatShape, numel, type Dim } from '../shape.ts';
import { defineOp, type LowerCtx } from './types.ts';
import { requireInts } from './util.ts';
import { type AttrSchema, bool, ints, MAX_RANK, oneOf, optional } from './attr-schema.ts';

const perAxis = () => ints([1, MAX_RANK], 1);
const pads = () => ints([2, 2 * MAX_RANK], 0);

export interface PoolNdAttrs {
  mode: 'max' | 'avg';
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  countIncludePad?: boolean;
  /**
   * With countIncludePad: the pads whose taps count in an average (default `pads`); ceil_mode
   * grows the end pads, and taps in that growth do not count.
   */
  countedPads?: number[];
}

function taps(ctx: LowerCtx, a: PoolNdAttrs) {
  const spatial = ctx.inputs[0].shape.slice(2) as number[];
  const vars = a.kernel.map((extent) => ({ name: ctx.fresh('k'), extent }));
  const pos = spatial.map((_, i) => E.add(E.sub(E.mul(ctx.out[i + 2], E.num(a.strides[i])), E.num(a.pads[i])), E.mul(E.v(vars[i].name), E.num(a.dilations[i]))));
  const checks = spatial.flatMap((size, i) => (a.pads[i] > 0 || a.pads[i + spatial.length] > 0 ? [E.inRange(pos[i], 0, size)] : []));
  const inside = checks.length ? checks.reduce((p, q) => E.binary('and', p, q)) : null;
  return { vars, value: ctx.load(0, [ctx.out[0], ctx.out[1], ...pos]), inside, spatial };
}

const poolNdSchema: AttrSchema<PoolNdAttrs> = {
  mode: oneOf('max', 'avg'),
  kernel: perAxis(),
  strides: perAxis(),
  dilations: perAxis(),
  pads: pads(),
  countIncludePad: optional(bool()),
  countedPads: optional(pads()),
};

export const poolNd = defineOp<PoolNdAttrs>({
  kind: 'reduce',
  arity: 1,
  attrs: poolNdSchema,
  infer([x], a) {
    const n = x.shape.length - 2;
    if (n < 1) throw new RuleError(`expected input [N, C, ...spatial], got ${formatShape(x.shape)}`);
    if (a.mode !== 'max' && a.mode !== 'avg') throw new RuleError(`unknown pooling mode ${JSON.stringify(a.mode)}`);
    requireInts(a.kernel, n, 'kernel', 1);
    requireInts(a.strides, n, 'strides', 1);
    requireInts(a.dilations, n, 'dilations', 1);
    requireInts(a.pads, 2 * n, 'pads', 0);
    if (a.countedPads !== undefined) requireInts(a.countedPads, 2 * n, 'countedPads', 0);
    const out: Dim[] = x.shape.slice(2).map((d, i) => {
      if (typeof d !== 'number') throw new RuleError(`cannot pool over the batch dimension`);
      const span = (a.kernel[i] - 1) * a.dilations[i] + 1;
      const o = Math.floor((d + a.pads[i] + a.pads[i + n] - span) / a.strides[i]) + 1;
      if (o < 1) throw new RuleError(`the pooling window does not fit ${formatShape(x.shape)}`);
      return o;
    });
    return { dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...out] };
  },
  lower(ctx, a) {
    const { vars, value, inside, spatial } = taps(ctx, a);
    if (a.mode === 'max') return E.reduce('max', vars, inside ? E.select(inside, value, E.num(-Infinity)) : value);
    const sum = E.reduce('sum', vars, inside ? E.select(inside, value, E.num(0)) : value);
    const full = a.kernel.reduce((p, k) => p * k, 1);
    const n = spatial.length;
    const counted = a.countIncludePad ? (a.countedPads ?? a.pads) : new Array<number>(2 * n).fill(0);
    const allCount = a.countIncludePad && counted.every((p, i) => p === a.pads[i]);
    if (!inside || allCount) return E.div(sum, E.num(full));
    // Divide by the taps that fall inside the counted region, counted per axis.
    let count: Expr = E.num(1);
    spatial.forEach((size, i) => {
      let c: Expr = E.num(0);
      for (let t = 0; t < a.kernel[i]; t++) {
        const p = E.add(E.sub(E.mul(ctx.out[i + 2], E.num(a.strides[i])), E.num(a.pads[i])), E.num(t * a.dilations[i]));
        c = E.add(c, E.select(E.inRange(p, -counted[i], size + counted[i + n]), E.num(1), E.num(0)));
      }
      count = E.mul(count, c);
    });
    return E.div(sum, count);
  },
  flops: (_i, out, a) => numel(out.shape) * a.kernel.reduce((p, k) => p * k, 1),
});

/**
 * MaxPool's Indices output: where each window's (first) largest element lies in the input, as a
 * flat index over the whole input [N, C, ...spatial], spatial axes row-major (ONNX storage_order 0)
 * or column-major (storage_order 1), int32.
 * The window taps run as one flattened reduction variable (the argmax of the JS backend records one).
 */
export const maxPoolIndices = defineOp<PoolNdAttrs & { columnMajor?: boolean }>({
  kind: 'reduce',
  arity: 1,
  attrs: { ...poolNdSchema, columnMajor: optional(bool()) },
  infer([x], a) {
    const t = poolNd.infer([x], { ...a, mode: 'max' });
    if (x.shape.some((d) => typeof d !== 'number')) throw new RuleError(`maxPoolIndices needs a static shape`);
    return { dtype: 'int32', shape: t.shape };
  },
  lower(ctx, a) {
    const shape = ctx.inputs[0].shape as number[];
    const spatial = shape.slice(2);
    const n = spatial.length;
    const total = a.kernel.reduce((p, k) => p * k, 1);
    const k = ctx.fresh('k');
    const tapsOf = (flat: Expr) =>
      a.kernel.map((kern, i) => {
        const stride = a.kernel.slice(i + 1).reduce((p, q) => p * q, 1);
        return E.binary('mod', E.binary('idiv', flat, E.num(stride)), E.num(kern));
      });
    const posOf = (taps: Expr[]) => spatial.map((_, i) => E.add(E.sub(E.mul(ctx.out[i + 2], E.num(a.strides[i])), E.num(a.pads[i])), E.mul(taps[i], E.num(a.dilations[i]))));
    const pos = posOf(tapsOf(E.v(k)));
    const checks = spatial.flatMap((size, i) => (a.pads[i] > 0 || a.pads[i + n] > 0 ? [E.inRange(pos[i], 0, size)] : []));
    const value = ctx.load(0, [ctx.out[0], ctx.out[1], ...pos]);
    const body = checks.length ? E.select(checks.reduce((p, q) => E.binary('and', p, q)), value, E.num(-Infinity)) : value;
    const best = E.reduce('argmax', [{ name: k, extent: total }], body);
    const at = posOf(tapsOf(best));
    // Spatial position row-major (storage_order 0) or column-major (1), after the N·C planes before it.
    const order = a.columnMajor ? spatial.map((_, i) => n - 1 - i) : spatial.map((_, i) => i);
    let flat: Expr = E.add(E.mul(ctx.out[0], E.num(shape[1])), ctx.out[1]);
    for (const i of order) flat = E.add(E.mul(flat, E.num(spatial[i])), at[i]);
    return flat;
  },
  flops: (_i, out, a) => numel(out.shape) * a.kernel.reduce((p, k) => p * k, 1),
});

export const onnxPoolOps = { poolNd, maxPoolIndices };
