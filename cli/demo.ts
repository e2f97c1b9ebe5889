// `npm run demo`: print the MNIST CNN's summary, train it (compiled) on MNIST, report test accuracy.
import { summaryCommand } from './commands.ts';
import { trainCommand, type TrainResult } from './train.ts';

/** What the demo can be asked for (`npm run demo -- --epochs 5`). */
export interface DemoOptions {
  /** Passes over the 60,000 training images (default 1). */
  epochs?: number;
  model?: string;
  out?: string;
}

/**
 * Compiles examples/cnn.ts with a training step (Adam, lr 1e-3, sparse categorical cross-entropy
 * on its softmax output), trains it with batches of 64, prints the test accuracy and writes
 * build/cnn/predictions.png.
 */
export async function demo(print: (s: string) => void, options: DemoOptions = {}): Promise<TrainResult> {
  const model = options.model ?? 'examples/cnn.ts';
  print(await summaryCommand(model, false));
  return trainCommand(
    model,
    { data: 'mnist', epochs: options.epochs ?? 1, batchSize: 64, optimizer: 'adam', lr: 1e-3, loss: 'sparseCategoricalCrossEntropy', seed: 0, validation: 0, out: options.out ?? 'build/cnn' },
    print,
  );
}
