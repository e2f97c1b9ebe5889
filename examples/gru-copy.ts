// Reversing 10 symbols (of 8) with a bidirectional GRU (64 units each way, whole sequence) and a
// softmax over the symbols at each position: position t must name the symbol at 9 − t, which one
// of the two directions has to carry across the sequence. `kiln train examples/gru-copy.ts` trains
// it on the sequences `data()` makes (no --data needed). Adam 1e-2 alone learns it but keeps
// spiking late (validation 99.95 % at epoch 18, 97.6 % at 19); the cosine decay of the learning
// rate over the 20 epochs settles it. Measured with the CLI (seed 0, batch 32, shuffled): 99.0 %
// of the validation symbols right after 6 epochs, 99.97 % or more from 9, and 99.99 % per symbol
// on the test split after 20 (6,260 steps; about a minute on a shared 2-core machine).
import { layers, sequential } from 'kiln';
import { reversal } from './data/sequence-tasks.ts';

export const LENGTH = 10;
export const SYMBOLS = 8;

export default sequential({ name: 'gru_copy', input: [LENGTH, SYMBOLS] }, [
  layers.gru(64, { bidirectional: true, returnSequences: true }),
  layers.dense(SYMBOLS, { activation: 'softmax' }),
]);

/** Data made in code: the CLI trains on it when no --data is given. */
export function data(options: { seed: number }) {
  return {
    train: reversal(10_000, LENGTH, SYMBOLS, options.seed),
    validation: reversal(1_000, LENGTH, SYMBOLS, options.seed + 1),
    test: reversal(1_000, LENGTH, SYMBOLS, options.seed + 2),
  };
}

/** Defaults for `kiln train` of this model; explicit flags win. */
export const training = { epochs: 20, batchSize: 32, optimizer: 'adam', lr: 1e-2, schedule: 'cosine', loss: 'sparseCategoricalCrossEntropy', metrics: ['accuracy'] };
