// The label layouts of accuracy and top-k (runtime/fit/metrics.ts): label width L against output
// width W — L == 1 one class a sample, L == W one-hot rows, W = L·C (C > 1) L positions of C
// classes — each counted against hand counts; widths that fit none are refused.
import { describe, expect, it } from 'vitest';
import { checkMetrics, isCorrect, labelLayout, metricSums } from '../../runtime/fit/metrics.ts';
import { dense, input, model } from '../../src/index.ts';
import { trainerFactory, uniformArray } from './trainer-support.ts';

/** The value of `names` after one batch of `batch` samples. */
function score(names: string[], outputWidth: number, labelWidth: number, pred: number[], labels: ArrayLike<number>, batch: number): number[] {
  const shape = { outputWidth, labelWidth };
  checkMetrics(names, shape);
  return metricSums(names, shape).map((s) => {
    s.add(pred, labels, batch);
    return s.value();
  });
}

describe('accuracy by label layout', () => {
  it('L == 1: one class id a sample (3 samples, 3 classes: argmaxes 1, 0, 2 against 1, 2, 2 → 2/3)', () => {
    // Sample 1's label (2) is second largest: top-2 counts it, so 3/3.
    const pred = [0.1, 0.7, 0.2, /**/ 0.5, 0.2, 0.3, /**/ 0.0, 0.1, 0.9];
    expect(score(['accuracy', 'top2Accuracy'], 3, 1, pred, Int32Array.of(1, 2, 2), 3)).toEqual([2 / 3, 1]);
  });

  it('L == W: one-hot rows (2 samples of 3: argmax 2 vs row 2 right, argmax 0 vs row 1 wrong → 1/2)', () => {
    const pred = [0.1, 0.2, 0.7, /**/ 0.6, 0.3, 0.1];
    expect(score(['accuracy'], 3, 3, pred, Float32Array.of(0, 0, 1, /**/ 0, 1, 0), 2)).toEqual([0.5]);
  });

  it('W = L·C: 2 samples × 3 positions of 2 classes, 4 of 6 positions right → 4/6, not whole samples (0/2)', () => {
    // Position argmaxes: sample 0 → 1, 0, 1; sample 1 → 0, 0, 1.
    const pred = [0, 1, /**/ 1, 0, /**/ 0.2, 0.8, /**/ 0.9, 0.1, /**/ 0.6, 0.4, /**/ 0.3, 0.7];
    const labels = Int32Array.of(1, 1, 1, /**/ 0, 1, 0);
    // Right: (0,0), (0,2), (1,0); wrong: (0,1), (1,1), (1,2) → 3/6. Top-2 of 2 classes: all 6.
    expect(score(['accuracy', 'top2Accuracy', 'top1Accuracy'], 6, 3, pred, labels, 2)).toEqual([3 / 6, 1, 3 / 6]);
    expect(isCorrect(pred, 6, 0, labels, 3)).toBe(false);
    expect(isCorrect([0, 1, 1, 0, 0, 1], 6, 0, Int32Array.of(1, 0, 1), 3)).toBe(true);
  });

  it('over batches the mean is over positions: 1/2 then 2/2 positions right → 3/4', () => {
    const [s] = metricSums(['accuracy'], { outputWidth: 4, labelWidth: 2 });
    s.add([1, 0, 1, 0], Int32Array.of(0, 1), 1);
    s.add([1, 0, 0, 1], Int32Array.of(0, 1), 1);
    expect(s.value()).toBe(3 / 4);
  });

  it('the layouts, and widths that fit none refused with both widths named', () => {
    expect(labelLayout({ outputWidth: 10, labelWidth: 1 })).toEqual({ positions: 1, classes: 10, oneHot: false });
    expect(labelLayout({ outputWidth: 10, labelWidth: 10 })).toEqual({ positions: 1, classes: 10, oneHot: true });
    expect(labelLayout({ outputWidth: 80, labelWidth: 8 })).toEqual({ positions: 8, classes: 10, oneHot: false });
    expect(labelLayout({ outputWidth: 4, labelWidth: 3 })).toBeUndefined();
    expect(() => checkMetrics(['accuracy'], { outputWidth: 4, labelWidth: 3 })).toThrow("metric 'accuracy' needs one class id a sample, one-hot rows of the output's width, or one class id per position (output width a multiple of the label width): the model outputs 4 values per sample, the labels have 3");
    // Top-k counts the classes of a position, not the values of a sample.
    expect(() => checkMetrics(['top3Accuracy'], { outputWidth: 6, labelWidth: 3 })).toThrow("metric 'top3Accuracy' needs at least 3 classes, the model outputs 2");
  });
});

describe('a regression (one float output, MSE)', () => {
  it('gets no threshold accuracy by default, in training or validation figures', async () => {
    const x = input([2], { name: 'x' });
    const create = await trainerFactory('metrics-positions', model({ name: 'metrics_regression', inputs: x, outputs: dense(x, 1, { name: 'fc' }) }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const data = { x: uniformArray(16, 1), y: uniformArray(8, 2, 0, 3), count: 8 };
    const [log] = create({ seed: 1 }).fit(data, { epochs: 1, batchSize: 4, validationData: data }).epochs;
    expect(log.metrics).toEqual({});
    expect(log.valMetrics).toEqual({});
    expect(log.accuracy).toBeUndefined();
    expect(log.valAccuracy).toBeUndefined();
  });
});
