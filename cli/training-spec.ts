// The training objective from command-line words: the loss for `--loss`, the optimizer for
// `--optimizer`/`--lr`/`--momentum` (shared by `compile --train`, `train` and the browser demo).
import type { LossKind, LossSpec } from '../compiler/train/losses.ts';
import type { OptimizerSpec } from '../compiler/train/optimizers.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';

const LOSSES: readonly LossKind[] = ['mse', 'binaryCrossEntropy', 'categoricalCrossEntropy', 'sparseCategoricalCrossEntropy'];
const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;

/**
 * The loss for `--loss`: `auto` is sparse categorical cross-entropy, from logits unless the
 * model's output is a softmax (probabilities) or a logSoftmax (log-probabilities, which the loss
 * reads as they are when `fromLogits` is false).
 */
export function resolveLoss(graph: Graph, loss: string, fromLogits?: boolean): LossSpec {
  if (loss === 'auto') {
    const op = graph.outputs[0]?.node.op;
    return { kind: 'sparseCategoricalCrossEntropy', fromLogits: fromLogits ?? !(op === 'softmax' || op === 'logSoftmax') };
  }
  if (!(LOSSES as readonly string[]).includes(loss)) throw new KilnError(`unknown loss '${loss}' (auto, ${LOSSES.join(', ')})`);
  return { kind: loss as LossKind, fromLogits: !!fromLogits };
}

/** The optimizer for `--optimizer`, `--lr` and `--momentum`. */
export function resolveOptimizer(kind: string, lr: number, momentum?: number): OptimizerSpec {
  if (!(OPTIMIZERS as readonly string[]).includes(kind)) throw new KilnError(`unknown optimizer '${kind}' (${OPTIMIZERS.join(', ')})`);
  if (!(lr > 0)) throw new KilnError(`--lr must be a positive number, got ${lr}`);
  if (momentum !== undefined) {
    if (kind !== 'sgd' && kind !== 'rmsprop') throw new KilnError(`--momentum applies to sgd and rmsprop, not ${kind}`);
    return { kind, lr, momentum } as OptimizerSpec;
  }
  return { kind, lr } as OptimizerSpec;
}
