// ONNX NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss as compositions of Kiln ops.
import type { Node } from '../ir/node.ts';
import { int, prod, reshape, scalar, shapeOf, str, type OnnxContext, type OnnxOp } from './context.ts';

export type Reduction = 'none' | 'sum' | 'mean';

/**
 * The negative log-likelihood of log-probabilities `logp` [N, C, d...] at int32 `target`
 * [N, d...], weighted by `weight` [C] when given; targets equal to `ignoreIndex` count with
 * weight 0 (and may lie outside [0, C)). `mean` divides by the summed weights (by the count
 * when unweighted and nothing is ignored).
 */
export function nllLoss(c: OnnxContext, logp: Node, target: Node, weight: Node | undefined, reduction: Reduction, ignoreIndex: number | undefined): Node {
  const shape = shapeOf(logp);
  const tshape = shapeOf(target);
  if (shape.length < 2) c.unsupported(`the input must be [N, C, d...], got rank ${shape.length}`);
  if (tshape.length !== shape.length - 1 || tshape[0] !== shape[0] || tshape.some((d, i) => i > 0 && d !== shape[i + 1])) {
    c.unsupported(`target [${tshape.join(', ')}] does not fit input [${shape.join(', ')}]`);
  }
  if (target.type.dtype !== 'int32') c.unsupported(`target must be an integer tensor`);
  if (shape.some((d) => d === 0)) c.unsupported(`empty inputs are not supported`);
  const dtype = logp.type.dtype;
  let safe = target;
  let ignored: Node | undefined;
  if (ignoreIndex !== undefined) {
    ignored = c.emit('compare', [target, scalar(c, ignoreIndex, 'int32')], { op: 'eq' });
    safe = c.emit('where', [ignored, scalar(c, 0, 'int32'), target]);
  }
  const picked = c.emit('gatherElements', [logp, reshape(c, safe, [tshape[0], 1, ...tshape.slice(1)])], { axis: 1 });
  let loss = c.emit('neg', [reshape(c, picked, tshape)]);
  let w: Node | undefined;
  if (weight) {
    if (shapeOf(weight).length !== 1 || shapeOf(weight)[0] !== shape[1]) c.unsupported(`weight must be [C]`);
    w = c.emit('gather', [weight, safe], { axis: 0 });
    if (ignored) w = c.emit('where', [ignored, scalar(c, 0, dtype), w]);
  } else if (ignored) {
    w = c.emit('where', [ignored, scalar(c, 0, dtype), scalar(c, 1, dtype)]);
  }
  if (w) loss = c.emit('mul', [loss, w]);
  if (reduction === 'none') return loss;
  const axes = tshape.map((_, i) => i);
  const total = c.emit('reduceSum', [loss], { axes, keepdims: false });
  if (reduction === 'sum') return total;
  if (!w) return c.emit('div', [total, scalar(c, prod(tshape), dtype)]);
  return c.emit('div', [total, c.emit('reduceSum', [w], { axes, keepdims: false })]);
}

export const lossAttrs = (c: OnnxContext): { reduction: Reduction; ignoreIndex: number | undefined } => {
  const reduction = str(c, 'reduction', 'mean');
  if (reduction !== 'none' && reduction !== 'sum' && reduction !== 'mean') return c.unsupported(`reduction ${JSON.stringify(reduction)} is not supported`);
  return { reduction, ignoreIndex: c.attr('ignore_index') === undefined ? undefined : int(c, 'ignore_index', 0) };
};

export const nll: OnnxOp = (c) => {
  const { reduction, ignoreIndex } = lossAttrs(c);
  return nllLoss(c, c.input(0), c.input(1), c.has(2) ? c.input(2) : undefined, reduction, ignoreIndex);
};

/** SoftmaxCrossEntropyLoss: the NLL of logSoftmax over axis 1; output 1 is that log_prob. */
export const softmaxCrossEntropy: OnnxOp = (c) => {
  const { reduction, ignoreIndex } = lossAttrs(c);
  const x = c.input(0);
  if (shapeOf(x).length < 2) c.unsupported(`the input must be [N, C, d...]`);
  const logp = c.emit('logSoftmax', [x], { axis: 1 });
  return [nllLoss(c, logp, c.input(1), c.has(2) ? c.input(2) : undefined, reduction, ignoreIndex), logp];
};
