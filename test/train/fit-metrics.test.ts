// fit's and evaluate's metrics against float64 references computed here from the weights:
// training metrics from each batch's predictions before its step, validation metrics of the
// final weights, top-k, binary accuracy, MSE/MAE, defaults per model, bad names.
import { describe, expect, it } from 'vitest';
import { dense, input, model } from '../../src/index.ts';
import { copyRecord, denseRef, trainerFactory, uniformArray, weightRecord } from './trainer-support.ts';

/** x[3] → dense(2) with MSE and SGD: a regression with two targets. */
async function regression() {
  const x = input([3], { name: 'x' });
  const y = dense(x, 2, { name: 'fc' });
  return trainerFactory('fit-metrics', model({ name: 'fit_metrics_reg', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } });
}

/** Mean over samples and outputs of f(prediction − target). */
const elementMean = (p: ArrayLike<number>, t: ArrayLike<number>, f: (d: number) => number) => {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += f(p[i] - t[i]);
  return s / p.length;
};

describe('fit metrics', () => {
  it("training MSE/MAE are the means over each batch's predictions before its step; validation ones are the final weights'", async () => {
    const create = await regression();
    const [X, Y] = [uniformArray(10 * 3, 11), uniformArray(10 * 2, 12)];
    const [VX, VY] = [uniformArray(6 * 3, 13), uniformArray(6 * 2, 14)];
    const w0 = weightRecord(create({ seed: 4 }));
    const t = create({ weights: copyRecord(w0) });
    const history = t.fit({ x: X, y: Y, count: 10 }, { epochs: 1, batchSize: 4, shuffle: false, metrics: ['mse', 'mae'], validationData: { x: VX, y: VY, count: 6 } });
    // The same steps by hand on a twin, reading the predictions from the weights before each step.
    const twin = create({ weights: copyRecord(w0) });
    let [se, ae] = [0, 0];
    for (const [from, n] of [[0, 4], [4, 4], [8, 2]]) {
      const w = weightRecord(twin);
      const xb = X.subarray(from * 3, (from + n) * 3);
      const yb = Y.subarray(from * 2, (from + n) * 2);
      const p = denseRef(xb, n, 3, w['fc/kernel'], 2, w['fc/bias']);
      se += elementMean(p, yb, (d) => d * d) * n;
      ae += elementMean(p, yb, Math.abs) * n;
      twin.step(xb, yb, n);
    }
    const log = history.epochs[0];
    expect([log.metrics.mse, log.metrics.mae]).toBeAllclose([se / 10, ae / 10], { rtol: 1e-5 });
    expect(Object.keys(log.metrics).sort()).toEqual(['mae', 'mse']);
    const w = weightRecord(t);
    const pv = denseRef(VX, 6, 3, w['fc/kernel'], 2, w['fc/bias']);
    expect([log.valMetrics!.mse, log.valMetrics!.mae, log.valLoss!]).toBeAllclose([elementMean(pv, VY, (d) => d * d), elementMean(pv, VY, Math.abs), elementMean(pv, VY, (d) => d * d)], { rtol: 1e-5 });
    expect(log.accuracy).toBeUndefined();
  });

  it('evaluate: accuracy, top-2 accuracy and binary accuracy against counts made here', async () => {
    const x = input([4], { name: 'x' });
    const y = dense(x, 5, { name: 'fc', activation: 'softmax' });
    const create = await trainerFactory('fit-metrics', model({ name: 'fit_metrics_cls', inputs: x, outputs: y }).graph, { loss: { kind: 'sparseCategoricalCrossEntropy' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const t = create({ seed: 9 });
    const n = 40;
    const X = uniformArray(n * 4, 21);
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 5);
    const e = t.evaluate({ x: X, y: labels, count: n }, 16, ['accuracy', 'top2Accuracy']);
    const w = weightRecord(t);
    const logits = denseRef(X, n, 4, w['fc/kernel'], 5, w['fc/bias']);
    let [top1, top2] = [0, 0];
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * 5, i * 5 + 5));
      const ranked = row.map((v, c) => [v, c]).sort((a, b) => b[0] - a[0]).map(([, c]) => c);
      if (ranked[0] === labels[i]) top1++;
      if (ranked.slice(0, 2).includes(labels[i])) top2++;
    }
    expect(e.metrics.accuracy).toBe(top1 / n);
    expect(e.accuracy).toBe(top1 / n);
    expect(e.metrics.top2Accuracy).toBe(top2 / n);
    expect(top2).toBeGreaterThan(top1);
    // Default: a classifier's fit reports training accuracy (the field the epoch log always declared).
    const log = create({ seed: 9 }).fit({ x: X, y: labels, count: n }, { epochs: 1, batchSize: 8 }).epochs[0];
    expect(log.accuracy).toBeTypeOf('number');
    expect(log.metrics.accuracy).toBe(log.accuracy);
  });

  it('binary accuracy thresholds every output at 0.5 (multi-label)', async () => {
    const x = input([3], { name: 'x' });
    const y = dense(x, 3, { name: 'fc', activation: 'sigmoid' });
    const create = await trainerFactory('fit-metrics', model({ name: 'fit_metrics_bin', inputs: x, outputs: y }).graph, { loss: { kind: 'binaryCrossEntropy' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const t = create({ seed: 3 });
    const n = 20;
    const X = uniformArray(n * 3, 31);
    const Y = Float32Array.from({ length: n * 3 }, (_, i) => (i % 3 === 0 ? 1 : i % 2));
    const e = t.evaluate({ x: X, y: Y, count: n }, 8, ['binaryAccuracy']);
    const w = weightRecord(t);
    const z = denseRef(X, n, 3, w['fc/kernel'], 3, w['fc/bias']);
    const right = Array.from(z).filter((v, i) => (1 / (1 + Math.exp(-v)) >= 0.5 ? 1 : 0) === Y[i]).length;
    expect(e.metrics.binaryAccuracy).toBeCloseTo(right / (n * 3), 12);
  });

  it('a regression with one output gets no default metric; unknown or unfit metric names throw naming what is available', async () => {
    const x = input([3], { name: 'x' });
    const y = dense(x, 1, { name: 'fc' });
    const create = await trainerFactory('fit-metrics', model({ name: 'fit_metrics_one', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const t = create({ seed: 1 });
    const data = { x: uniformArray(8 * 3, 41), y: uniformArray(8, 42), count: 8 };
    expect(t.fit(data, { epochs: 1, batchSize: 4 }).epochs[0].metrics).toEqual({});
    const steps = t.steps;
    expect(() => t.fit(data, { epochs: 1, batchSize: 4, metrics: ['precision'] })).toThrow(/unknown metric 'precision' \(available: accuracy, binaryAccuracy, top<k>Accuracy/);
    expect(() => t.fit(data, { epochs: 1, batchSize: 4, metrics: ['top5Accuracy'] })).toThrow(/metric 'top5Accuracy' needs at least 5 classes, the model outputs 1/);
    expect(t.steps).toBe(steps);
  });
});
