// The loss of compile()'s `train` option: a kind, a full spec, or `auto` (as `kiln train --loss auto`).
import type { LossKind, LossSpec } from '../compiler/train/losses.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';

const LOSSES: readonly LossKind[] = ['mse', 'binaryCrossEntropy', 'categoricalCrossEntropy', 'sparseCategoricalCrossEntropy'];

/**
 * `auto` is sparse categorical cross-entropy, from logits unless the model's output is a softmax
 * (probabilities) or a logSoftmax (log-probabilities, read as they are) — the CLI's rule
 * (cli/training-spec.ts), which this floor cannot import.
 */
export function resolveTrainLoss(graph: Graph, loss: LossKind | LossSpec | 'auto', fromLogits?: boolean): LossSpec {
  if (typeof loss === 'object' && loss !== null) {
    if (!LOSSES.includes(loss.kind)) throw new KilnError(`compile(): unknown loss kind '${String(loss.kind)}' (${LOSSES.join(', ')})`);
    return loss;
  }
  if (loss === 'auto') {
    const op = graph.outputs[0]?.node.op;
    return { kind: 'sparseCategoricalCrossEntropy', fromLogits: fromLogits ?? !(op === 'softmax' || op === 'logSoftmax') };
  }
  if (!LOSSES.includes(loss)) throw new KilnError(`compile(): unknown loss '${String(loss)}' (auto, ${LOSSES.join(', ')})`);
  return { kind: loss, fromLogits: !!fromLogits };
}
