// After kiln train: the test figures when the data has a test split, and the predictions picture when the test data are 28×28 digits (skipped with a note otherwise).
import type { EmittedTrainer } from '../train-run.ts';
import type { Dataset, Evaluation } from '../../runtime/train-loop.ts';
import { writePredictionsPng } from '../png.ts';
import type { TrainingData } from './prepare.ts';

const percent = (fraction: number) => `${(100 * fraction).toFixed(2)} %`;

/** Evaluates on the test split (printing its line), or says there is none. */
export function testFigures(trainer: EmittedTrainer, data: TrainingData, print: (s: string) => void): Evaluation | undefined {
  if (!data.test) {
    print(`no test data (${data.description} has no test split; give --test-data and --test-labels)`);
    return undefined;
  }
  if (isRegression(data.test, data.labelWidth)) {
    // A 0.5 threshold "accuracy" of a regression means nothing: its figures are the errors.
    const r = trainer.evaluate(data.test, 500, ['mse', 'mae']);
    print(`test MSE ${r.metrics.mse.toFixed(4)}, MAE ${r.metrics.mae.toFixed(4)} (${data.test.count} test samples of ${data.description}, loss ${r.loss.toFixed(4)})`);
    return { ...r, accuracy: NaN };
  }
  const test = trainer.evaluate(data.test, 500);
  if (data.positions > 1) {
    // Counted here from predict, independently of evaluate's per-position accuracy (the epoch lines' figure).
    const accuracy = perPositionAccuracy(trainer, data.test, data.inputWidth, data.positions);
    print(`test accuracy per position: ${percent(accuracy)} (${data.test.count} test samples × ${data.positions} positions of ${data.description}, loss ${test.loss.toFixed(4)})`);
    return { ...test, accuracy };
  }
  print(`test accuracy: ${percent(test.accuracy)} (${data.test.count} test samples of ${data.description}, loss ${test.loss.toFixed(4)})`);
  return test;
}

/**
 * One float target a sample that is not all 0s and 1s: a regression (a binary classifier's
 * targets are 0/1 and keep their thresholded accuracy).
 */
export function isRegression(test: Dataset, labelWidth: number): boolean {
  if (labelWidth !== 1 || !(test.y instanceof Float32Array)) return false;
  for (let i = 0; i < test.y.length; i++) if (test.y[i] !== 0 && test.y[i] !== 1) return true;
  return false;
}

/** What the figures need of a trainer: inference on float32 inputs, or int32 ones (token ids). */
interface Predictor {
  predict(x: Float32Array | Int32Array, batch: number): ArrayLike<number>;
}

/** The fraction of (sample, position) pairs whose largest output is the labelled class; `test.y` holds `positions` class ids per sample. */
export function perPositionAccuracy(trainer: Predictor, test: Dataset, inputWidth: number, positions: number): number {
  const batch = 250;
  let correct = 0;
  for (let from = 0; from < test.count; from += batch) {
    const n = Math.min(batch, test.count - from);
    const out = trainer.predict(test.x.subarray(from * inputWidth, (from + n) * inputWidth), n);
    const classes = out.length / (n * positions);
    for (let p = 0; p < n * positions; p++) if (argmax(out, p * classes, classes) === test.y[from * positions + p]) correct++;
  }
  return correct / (test.count * positions);
}

/** Index of the largest of `n` values from `offset`. */
function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

/** Draws the first test digits with predicted/true labels; returns the file, or undefined (with a note or warning) when it does not apply or fails. */
export function predictionsPicture(trainer: Predictor, data: TrainingData, file: string, print: (s: string) => void, warn: (s: string) => void): string | undefined {
  if (!data.digits || !data.test) {
    print('no predictions picture (it shows 28×28 digit test images; this data has none)');
    return undefined;
  }
  const shown = data.digits.labels.length;
  const probs = trainer.predict(data.test.x.subarray(0, shown * data.inputWidth), shown);
  const classes = probs.length / shown;
  const predicted = Array.from({ length: shown }, (_, i) => argmax(probs, i * classes, classes));
  try {
    writePredictionsPng(file, data.digits.pixels, predicted, Array.from(data.digits.labels));
    print(`wrote ${file} (first ten test digits: predicted/true)`);
    return file;
  } catch (e) {
    warn(`warning: no predictions picture: ${(e as Error).message}`);
    return undefined;
  }
}
