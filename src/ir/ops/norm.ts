// Batch normalisation, inference form: running statistics folded into a per-channel affine map.
import * as E from '../expr.ts';
import { RuleError } from '../errors.ts';
import { formatShape, numel } from '../shape.ts';
import { defineOp } from './types.ts';
import { requireSameDType } from './util.ts';
import { num, oneOf, optional } from './attr-schema.ts';

export interface BatchNormAttrs {
  epsilon: number;
  /** Weight of the old running statistics in the training-time update. */
  momentum?: number;
  /** What the running variance tracks in training: the batch variance with n/(n − 1) (PyTorch, the default) or without (Keras). */
  runningVariance?: 'unbiased' | 'biased';
}

/** y = (x - mean[c]) / sqrt(var[c] + ε) · scale[c] + bias[c], channels on axis 1. */
export const batchNorm = defineOp<BatchNormAttrs>({
  kind: 'elementwise',
  arity: 5,
  attrs: { epsilon: num({ min: 0 }), momentum: optional(num()), runningVariance: optional(oneOf('unbiased', 'biased')) },
  infer(inputs) {
    const [x, ...stats] = inputs;
    requireSameDType(inputs);
    if (x.shape.length < 2) throw new RuleError(`expected input [N, C, ...], got ${formatShape(x.shape)}`);
    const c = x.shape[1];
    const bad = stats.find((t) => t.shape.length !== 1 || t.shape[0] !== c);
    if (bad) throw new RuleError(`scale, bias, mean and variance must be [${c}], got ${formatShape(bad.shape)}`);
    return x;
  },
  lower(ctx, { epsilon }) {
    const channel = [ctx.out[1]];
    const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => ctx.load(i, channel));
    const normalised = E.div(E.sub(ctx.load(0, ctx.out), mean), E.unary('sqrt', E.add(variance, E.num(epsilon))));
    return E.add(E.mul(normalised, scale), bias);
  },
  flops: (_i, out) => 2 * numel(out.shape),
});
