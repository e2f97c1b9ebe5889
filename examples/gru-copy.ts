// Reversing 10 symbols (of 8) with a bidirectional GRU (64 units each way, whole sequence) and a
// softmax over the symbols at each position: position t must name the symbol at 9 − t, which one
// of the two directions has to carry across the sequence. Measured (Adam 1e-2, batch 32, data in
// order): 99.2 % of the validation symbols right after 1,500 steps, 100 % from 5,000 (20 epochs
// are 6,250 steps). Data made in code: `data()`.
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
export const training = { epochs: 20, batchSize: 32, optimizer: 'adam', lr: 1e-2, loss: 'sparseCategoricalCrossEntropy', metrics: ['accuracy'] };
