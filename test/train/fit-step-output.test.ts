// The training step's own predictions: `lastOutput()` equals a separate predict on the weights
// the step started from (a model without dropout or batch norm), fit's training metrics come from
// it (counted here by hand from predict on a twin) and fit no longer calls predict per batch.
// Both backends: JavaScript and GPU.js (its CPU mode).
import { describe, expect, it } from 'vitest';
import { compile, layers, sequential } from '../../api/index.ts';
import type { Trainer } from '../../runtime/index.ts';
import { uniformArray } from './trainer-support.ts';

const [COUNT, IN, CLASSES, BATCH] = [20, 4, 3, 8];

/** x[4] → dense(6, relu) → dense(3) logits; sparse categorical cross-entropy, SGD with a large rate (the weights move). */
async function classifier(backend: 'js' | 'gpujs') {
  const net = sequential({ name: `step_out_${backend}`, input: [IN] }, [layers.dense(6, { name: 'h', activation: 'relu' }), layers.dense(CLASSES, { name: 'out' })]);
  const m = await compile(net, { backend, seed: 7, train: { optimizer: { kind: 'sgd', lr: 0.5 }, loss: 'sparseCategoricalCrossEntropy', fromLogits: true } });
  // GPU.js in its CPU mode: runs anywhere, float32 as on a device.
  const options = backend === 'gpujs' ? ({ mode: 'cpu' } as object) : {};
  return (weights?: Uint8Array) => m.createTrainer({ ...options, ...(weights ? { weights } : {}) });
}

const X = uniformArray(COUNT * IN, 31);
const Y = Int32Array.from({ length: COUNT }, (_, i) => (i * 5) % CLASSES);

/** Index of the largest of row `j`'s scores, and how many scores exceed the true class's. */
function rank(p: ArrayLike<number>, j: number, label: number) {
  let [best, above] = [0, 0];
  for (let c = 0; c < CLASSES; c++) {
    if (p[j * CLASSES + c] > p[j * CLASSES + best]) best = c;
    if (p[j * CLASSES + c] > p[j * CLASSES + label]) above++;
  }
  return { best, above };
}

describe.each(['js', 'gpujs'] as const)('the training step outputs its predictions (%s)', (backend) => {
  it('lastOutput() is the pre-update predict of the batch, rows of the last batch only', async () => {
    const create = await classifier(backend);
    const t = create();
    expect(() => t.lastOutput()).toThrow(/has not run a step yet/);
    for (const [from, n] of [[0, 8], [8, 8], [16, 4]]) {
      const [xb, yb] = [X.subarray(from * IN, (from + n) * IN), Y.subarray(from, from + n)];
      const before = Array.from(t.predict(xb, n));
      t.step(xb, yb, n);
      const out = t.lastOutput();
      expect(out.length).toBe(n * CLASSES);
      expect(Array.from(out)).toBeAllclose(before, { rtol: 1e-5, atol: 1e-6 });
      // The weights did move: a predict now differs from the step's predictions.
      expect(Array.from(t.predict(xb, n))).not.toBeAllclose(before, { rtol: 1e-3, atol: 1e-4 });
    }
  });

  it("fit's training accuracy and top-2 accuracy equal counts from predict on the pre-step weights, and fit calls predict no more", async () => {
    const create = await classifier(backend);
    const start = create().save();
    const t = create(start);
    let predictCalls = 0;
    const predict = t.predict.bind(t);
    (t as Trainer).predict = (x, n) => (predictCalls++, predict(x, n));
    const history = t.fit({ x: X, y: Y, count: COUNT }, { epochs: 2, batchSize: BATCH, shuffle: false, metrics: ['accuracy', 'top2Accuracy'] });
    expect(predictCalls).toBe(0);
    // The same batches on a twin, the predictions read with predict before each step.
    const twin = create(start);
    for (const log of history.epochs) {
      let [correct, top2] = [0, 0];
      for (let from = 0; from < COUNT; from += BATCH) {
        const n = Math.min(BATCH, COUNT - from);
        const [xb, yb] = [X.subarray(from * IN, (from + n) * IN), Y.subarray(from, from + n)];
        const p = twin.predict(xb, n);
        for (let j = 0; j < n; j++) {
          const r = rank(p, j, yb[j]);
          if (r.best === yb[j]) correct++;
          if (r.above < 2) top2++;
        }
        twin.step(xb, yb, n);
      }
      expect(log.metrics).toEqual({ accuracy: correct / COUNT, top2Accuracy: top2 / COUNT });
      expect(log.accuracy).toBe(correct / COUNT);
    }
    // The twin took the same steps: the same weights.
    expect(t.getWeights().map((w) => Array.from(w.data))).toEqual(twin.getWeights().map((w) => Array.from(w.data)));
  });
});
