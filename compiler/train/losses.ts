// Loss functions as IR, with Keras's and PyTorch's semantics (means over the batch). A softmax
// output trained with cross-entropy is rewritten to logSoftmax of its logits: stable and fused.
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Node, NodeMeta } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';

export type LossKind = 'mse' | 'binaryCrossEntropy' | 'categoricalCrossEntropy' | 'sparseCategoricalCrossEntropy';

export interface LossSpec {
  kind: LossKind;
  /** The model outputs logits (no final sigmoid/softmax). */
  fromLogits?: boolean;
}

/** Keras clips probabilities to [ε, 1-ε] before taking logs. */
const EPSILON = 1e-7;
const meta: NodeMeta = { layer: 'loss', layerKind: 'Loss' };
const op = (name: OpName, inputs: Node[], attrs: Record<string, unknown> = {}) => makeNode(name, inputs, attrs, meta);
const scalar = (v: number) => op('const', [], { dtype: 'float32', shape: [], values: [v] });

/** Mean over the batch of a per-element quantity summed over the rest. */
function batchMeanOfSum(x: Node): Node {
  const total = op('reduceSum', [x], { axes: [], keepdims: false });
  return op('div', [total, op('batchSize', [], { dtype: x.type.dtype })]);
}

/** Labels as the loss needs them: what the user feeds (int32 classes or float targets). */
export function labelType(spec: LossSpec, output: Node): { dtype: 'float32' | 'int32'; shape: Node['type']['shape'] } {
  return spec.kind === 'sparseCategoricalCrossEntropy' ? { dtype: 'int32', shape: output.type.shape.slice(0, -1) } : { dtype: 'float32', shape: output.type.shape };
}

/** The log-probabilities of a classifier output, taking the stable path when it ends in softmax. */
function logProbabilities(output: Node, fromLogits: boolean): Node {
  if (fromLogits) return op('logSoftmax', [output], { axis: -1 });
  if (output.op === 'softmax') return op('logSoftmax', [output.inputs[0]], output.attrs as Record<string, unknown>);
  if (output.op === 'logSoftmax') return output;
  return op('log', [op('clip', [output], { min: EPSILON, max: 1 - EPSILON })]);
}

/** The scalar loss of `output` against `labels`. */
export function buildLoss(spec: LossSpec, output: Node, labels: Node): Node {
  const fromLogits = !!spec.fromLogits;
  switch (spec.kind) {
    case 'mse': {
      const d = op('sub', [output, labels]);
      return op('reduceMean', [op('mul', [d, d])], { axes: [], keepdims: false });
    }
    case 'binaryCrossEntropy': {
      // From logits z: softplus(z) - z·t; from probabilities: -(t·log p + (1-t)·log(1-p)).
      if (fromLogits || output.op === 'sigmoid') {
        const z = fromLogits ? output : output.inputs[0];
        const per = op('sub', [op('softplus', [z]), op('mul', [z, labels])]);
        return op('reduceMean', [per], { axes: [], keepdims: false });
      }
      const p = op('clip', [output], { min: EPSILON, max: 1 - EPSILON });
      const pos = op('mul', [labels, op('log', [p])]);
      const neg = op('mul', [op('sub', [scalar(1), labels]), op('log', [op('sub', [scalar(1), p])])]);
      return op('neg', [op('reduceMean', [op('add', [pos, neg])], { axes: [], keepdims: false })]);
    }
    case 'categoricalCrossEntropy':
    case 'sparseCategoricalCrossEntropy': {
      const classes = output.type.shape[output.type.shape.length - 1] as number;
      const target = spec.kind === 'sparseCategoricalCrossEntropy' ? op('oneHot', [labels], { depth: classes }) : labels;
      return op('neg', [batchMeanOfSum(op('mul', [target, logProbabilities(output, fromLogits)]))]);
    }
    default:
      throw new KilnError(`unknown loss '${String((spec as LossSpec).kind)}' (mse, binaryCrossEntropy, categoricalCrossEntropy, sparseCategoricalCrossEntropy)`);
  }
}
