// Matrix multiplication: the dense layer's core, with optional transposed operands.
import * as E from '../expr.ts';
import { RuleError } from '../errors.ts';
import { BATCH, broadcastShapes, formatShape, numel, type Dim } from '../shape.ts';
import { broadcastIndex, requireSameDType } from './util.ts';
import { defineOp } from './types.ts';
import { bool, optional } from './attr-schema.ts';

export interface MatmulAttrs {
  /** Read `a` as its last two dims swapped (so autodiff needs no transpose kernel). */
  transA?: boolean;
  transB?: boolean;
}

/** [..., M, K] · [..., K, N] → [..., M, N], leading dims broadcast. */
export const matmul = defineOp<MatmulAttrs>({
  kind: 'reduce',
  arity: 2,
  attrs: { transA: optional(bool()), transB: optional(bool()) },
  infer([a, b], { transA, transB }) {
    requireSameDType([a, b]);
    if (a.shape.length < 2 || b.shape.length < 2) {
      throw new RuleError(`matmul needs operands of rank ≥ 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
    }
    const [m, ka] = lastTwo(a.shape, transA);
    const [kb, n] = lastTwo(b.shape, transB);
    if (ka !== kb) {
      throw new RuleError(
        `inner dimensions differ: ${formatShape(a.shape)} · ${formatShape(b.shape)} (${ka} vs ${kb})`,
      );
    }
    const lead = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...lead, m, n];
    if (shape.slice(1).includes(BATCH)) {
      throw new RuleError(`matmul of ${formatShape(a.shape)} and ${formatShape(b.shape)} would put the batch dimension inside ${formatShape(shape)}`);
    }
    return { dtype: a.dtype, shape };
  },
  lower(ctx, { transA, transB }) {
    const [a, b] = ctx.inputs;
    const rank = ctx.out.length;
    const k = E.v(ctx.fresh('k'));
    const [m, n] = [ctx.out[rank - 2], ctx.out[rank - 1]];
    const lead = ctx.out.slice(0, -2);
    const leadShape = ctx.output.shape.slice(0, -2);
    const aLead = broadcastIndex(a.shape.slice(0, -2), lead, leadShape);
    const bLead = broadcastIndex(b.shape.slice(0, -2), lead, leadShape);
    const aIdx = transA ? [k, m] : [m, k];
    const bIdx = transB ? [n, k] : [k, n];
    const extent = lastTwo(a.shape, transA)[1];
    return E.reduce('sum', [{ name: (k as { name: string }).name, extent }], E.mul(ctx.load(0, [...aLead, ...aIdx]), ctx.load(1, [...bLead, ...bIdx])));
  },
  flops: ([a], out, { transA }) => 2 * numel(out.shape) * (lastTwo(a.shape, transA)[1] as number),
});

function lastTwo(shape: readonly Dim[], transposed?: boolean): [Dim, Dim] {
  const r = shape.length;
  return transposed ? [shape[r - 1], shape[r - 2]] : [shape[r - 2], shape[r - 1]];
}
