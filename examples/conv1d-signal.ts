// A 1-D CNN that tells four generated waveforms apart (sine, square, sawtooth, triangle, each
// with a random frequency, phase, amplitude and noise). `kiln train examples/conv1d-signal.ts`
// trains it on the signals `data()` makes (no --data needed). Measured with the CLI (seed 0):
// 99.65 % test accuracy after 10 epochs (validation 99.90 %; under 15 s on a shared 2-core machine).
import { layers, sequential } from 'kiln';
import { random } from './data/sequence-tasks.ts';

export const LENGTH = 128;
export const CLASSES = ['sine', 'square', 'sawtooth', 'triangle'] as const;

export default sequential({ name: 'conv1d_signal', input: [1, LENGTH] }, [
  layers.conv1d({ filters: 16, kernelSize: 7, padding: 'same', activation: 'relu' }),
  layers.maxPool1d(2),
  layers.conv1d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }),
  layers.maxPool1d(2),
  layers.conv1d({ filters: 32, kernelSize: 3, dilation: 2, padding: 'causal', activation: 'relu' }),
  layers.globalAvgPool1d(),
  layers.dense(CLASSES.length), // logits
]);

/** One period of each waveform at phase u ∈ [0, 1), in [-1, 1]. */
const WAVES: ((u: number) => number)[] = [
  (u) => Math.sin(2 * Math.PI * u),
  (u) => (u < 0.5 ? 1 : -1),
  (u) => 2 * u - 1,
  (u) => 1 - 4 * Math.abs(u - 0.5),
];

/** `count` signals x [count, 1, 128] (float32) with their class y [count] (int32). */
export function signals(count: number, seed: number): { x: Float32Array; y: Int32Array; count: number } {
  const next = random(seed);
  const x = new Float32Array(count * LENGTH);
  const y = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const kind = Math.floor(next() * WAVES.length);
    const cycles = 2 + next() * 6; // periods over the window
    const phase = next();
    const amplitude = 0.5 + next();
    for (let t = 0; t < LENGTH; t++) {
      const u = (((t / LENGTH) * cycles + phase) % 1 + 1) % 1;
      x[n * LENGTH + t] = amplitude * WAVES[kind](u) + 0.1 * (next() * 2 - 1);
    }
    y[n] = kind;
  }
  return { x, y, count };
}

/** Data made in code: the CLI trains on it when no --data is given. */
export function data(options: { seed: number }) {
  return {
    train: signals(8000, options.seed),
    validation: signals(1000, options.seed + 1),
    test: signals(2000, options.seed + 2),
  };
}

/** Defaults for `kiln train` of this model; explicit flags win. */
export const training = { epochs: 10, batchSize: 32, optimizer: 'adam', lr: 1e-3, loss: 'sparseCategoricalCrossEntropy', fromLogits: true, metrics: ['accuracy'] };
