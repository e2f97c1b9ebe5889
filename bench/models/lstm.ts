// The benchmark's LSTM (issue 15): 50 steps of 64 features → LSTM 128 (last state, Keras gate
// order i, f, c, o) → Dense 128→10 logits. Batch 32 in the workloads.
import { layers, sequential } from '../../src/index.ts';

export const STEPS = 50;
export const FEATURES = 64;
export const UNITS = 128;
export const CLASSES = 10;

export default sequential({ name: 'lstm', input: [STEPS, FEATURES] }, [
  layers.lstm(UNITS, { name: 'lstm' }),
  layers.dense(CLASSES, { name: 'head' }),
]);
