// fit(): one log per epoch, learning, validation metrics, shuffling, data checks and learning-rate
// schedules; evaluate(): sample-weighted mean loss and accuracy. Expected values are float64
// formulas evaluated here from getWeights(), or plain step() calls made by hand.
import { describe, expect, it } from 'vitest';
import type { EpochLog } from '../../runtime/train-loop.ts';
import { dense, input, model } from '../../src/index.ts';
import { copyRecord, denseRef, lcg, mseRef, trainerFactory, uniformArray, weightRecord, type FullTrainer } from './trainer-support.ts';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Points in [-1, 1]² labelled 1 on one side of the line x₀ - 0.5·x₁ = 0.1. */
function halfPlane(n: number, seed: number) {
  const x = uniformArray(n * 2, seed);
  const y = Float32Array.from({ length: n }, (_, i) => (x[2 * i] - 0.5 * x[2 * i + 1] > 0.1 ? 1 : 0));
  return { x, y, count: n };
}

/** x[3] → dense(units) with MSE and plain SGD at `lr`. */
async function linear(name: string, units: number, lr: number) {
  const x = input([3], { name: 'x' });
  const y = dense(x, units, { name: 'fc' });
  return trainerFactory('trainer-fit', model({ name, inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr } });
}

/** Float64 gradient of mean((x·W + b - t)²) over a batch, for x [B, 3] and one output unit. */
function linearGrad(x: ArrayLike<number>, t: ArrayLike<number>, w: number[], b: number) {
  const rows = t.length;
  const gw = [0, 0, 0];
  let gb = 0;
  for (let r = 0; r < rows; r++) {
    const e = (2 / rows) * (x[r * 3] * w[0] + x[r * 3 + 1] * w[1] + x[r * 3 + 2] * w[2] + b - t[r]);
    for (let i = 0; i < 3; i++) gw[i] += e * x[r * 3 + i];
    gb += e;
  }
  return { gw, gb };
}

describe('fit', () => {
  it('returns one log per epoch, learns (loss falls), and reports validation loss and accuracy of the final weights', async () => {
    const x = input([2], { name: 'x' });
    const y = dense(x, 1, { name: 'fc', activation: 'sigmoid' });
    const create = await trainerFactory('trainer-fit', model({ name: 'fit_halfplane', inputs: x, outputs: y }).graph, { loss: { kind: 'binaryCrossEntropy' }, optimizer: { kind: 'adam', lr: 0.05 } });
    const t = create({ seed: 2 });
    const train = halfPlane(64, 71);
    const val = halfPlane(40, 72);
    const seen: EpochLog[] = [];
    // One sigmoid output gets no default metric (it could be a regression): accuracy is asked for.
    const logs = t.fit(train, { epochs: 8, batchSize: 16, seed: 3, validationData: val, metrics: ['accuracy'], onEpoch: (log) => void seen.push(log) }).epochs;
    expect(logs.map((l) => l.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(seen).toEqual(logs);
    expect(t.steps).toBe(8 * 4);
    expect(logs[7].loss).toBeLessThan(0.6 * logs[0].loss);
    for (const l of logs) {
      expect(l.valLoss).toBeTypeOf('number');
      expect(l.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(l.valAccuracy).toBeLessThanOrEqual(1);
      expect(l.samplesPerSecond).toBeGreaterThan(0);
    }
    // The last log's validation metrics are those of the final weights, computed here.
    const w = weightRecord(t);
    const p = Array.from({ length: val.count }, (_, i) => sigmoid(val.x[2 * i] * w['fc/kernel'][0] + val.x[2 * i + 1] * w['fc/kernel'][1] + w['fc/bias'][0]));
    const bce = -p.reduce((s, pi, i) => s + val.y[i] * Math.log(pi) + (1 - val.y[i]) * Math.log(1 - pi), 0) / val.count;
    const correct = p.filter((pi, i) => (pi >= 0.5 ? 1 : 0) === val.y[i]).length;
    expect([logs[7].valLoss!]).toBeAllclose([bce], { rtol: 1e-5 });
    expect(logs[7].valAccuracy).toBe(correct / val.count);
    expect(logs[7].valAccuracy).toBeGreaterThan(0.85);
    // Without validation data there are no validation metrics.
    const plain = create({ seed: 2 }).fit(train, { epochs: 1, batchSize: 16 }).epochs;
    expect(plain).toHaveLength(1);
    expect(plain[0].valLoss).toBeUndefined();
    expect(plain[0].valAccuracy).toBeUndefined();
  });

  it('an epoch log is the sample-weighted mean of its batch losses; batches run in order when shuffle is false, like step() by hand', async () => {
    const create = await linear('fit_order', 1, 0.05);
    const X = uniformArray(10 * 3, 81);
    const Y = uniformArray(10, 82);
    const w0 = weightRecord(create({ seed: 1 }));
    const t = create({ weights: copyRecord(w0) });
    const batches: { epoch: number; batch: number; batches: number; loss: number }[] = [];
    const logs = t.fit({ x: X, y: Y, count: 10 }, { epochs: 2, batchSize: 4, shuffle: false, onBatch: (b) => batches.push(b) }).epochs;
    expect(batches.map((b) => [b.epoch, b.batch, b.batches])).toEqual([[0, 0, 3], [0, 1, 3], [0, 2, 3], [1, 0, 3], [1, 1, 3], [1, 2, 3]]);
    const sizes = [4, 4, 2];
    for (const e of [0, 1]) {
      const want = batches.slice(3 * e, 3 * e + 3).reduce((s, b, k) => s + b.loss * sizes[k], 0) / 10;
      expect([logs[e].loss]).toBeAllclose([want], { rtol: 1e-6 });
    }
    // The same batches by hand: bit-identical losses and weights.
    const u = create({ weights: copyRecord(w0) });
    const byHand: number[] = [];
    for (let e = 0; e < 2; e++)
      for (const [a, b] of [[0, 4], [4, 8], [8, 10]]) byHand.push(u.step(X.subarray(3 * a, 3 * b), Y.subarray(a, b), b - a));
    expect(byHand).toEqual(batches.map((b) => b.loss));
    expect(u.getWeights()).toEqual(t.getWeights());
  });

  it('shuffling: the same seed reproduces a run, another seed differs, and each epoch visits every sample once', async () => {
    const create = await linear('fit_shuffle', 1, 0.05);
    const n = 12;
    const X = uniformArray(n * 3, 91);
    const Y = uniformArray(n, 92);
    const data = { x: X, y: Y, count: n };
    const w0 = weightRecord(create({ seed: 1 }));
    const run = (seed: number, shuffle = true) => {
      const t = create({ weights: copyRecord(w0) });
      const losses: number[] = [];
      const logs = t.fit(data, { epochs: 3, batchSize: 4, shuffle, seed, onBatch: (b) => losses.push(b.loss) }).epochs;
      return { losses, logs: logs.map((l) => l.loss), weights: t.getWeights().map((w) => Array.from(w.data)) };
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    const b = run(8);
    expect(b.weights).not.toEqual(a.weights);
    expect(b.losses).not.toEqual(a.losses);
    expect(run(7, false).weights).not.toEqual(a.weights);
    // At lr 0 every epoch's loss is the full-data MSE, whatever the order, if and only if each
    // sample appears exactly once per epoch; the batches themselves change from epoch to epoch.
    const frozen = create({ weights: copyRecord(w0), lr: 0 });
    const losses: number[] = [];
    const logs = frozen.fit(data, { epochs: 3, batchSize: 4, seed: 5, onBatch: (l) => losses.push(l.loss) }).epochs;
    const full = mseRef(denseRef(X, n, 3, w0['fc/kernel'], 1, w0['fc/bias']), Y);
    for (const l of logs) expect([l.loss]).toBeAllclose([full], { rtol: 1e-5 });
    expect(losses.slice(0, 3)).not.toEqual(losses.slice(3, 6));
  });

  it('data of the wrong length throws a RangeError naming the counts, before any step', async () => {
    const create = await linear('fit_lengths', 1, 0.05);
    const t = create({ seed: 1 });
    const X = uniformArray(10 * 3, 1);
    const Y = uniformArray(10, 2);
    expect(() => t.fit({ x: X.subarray(0, 28), y: Y, count: 10 }, { epochs: 1, batchSize: 4 })).toThrow(RangeError);
    expect(() => t.fit({ x: X.subarray(0, 28), y: Y, count: 10 }, { epochs: 1, batchSize: 4 })).toThrow(/10 samples need 30 input and 10 label values, got 28 and 10/);
    expect(() => t.fit({ x: X, y: Y.subarray(0, 9), count: 10 }, { epochs: 1, batchSize: 4 })).toThrow(/got 30 and 9/);
    expect(() => t.fit({ x: X, y: Y, count: 9 }, { epochs: 1, batchSize: 4 })).toThrow(/9 samples need 27 input and 9 label values, got 30 and 10/);
    const badVal = { x: X.subarray(0, 6), y: Y.subarray(0, 3), count: 3 };
    expect(() => t.fit({ x: X, y: Y, count: 10 }, { epochs: 1, batchSize: 4, validationData: badVal })).toThrow(RangeError);
    expect(() => t.fit({ x: X, y: Y, count: 10 }, { epochs: 1, batchSize: 4, validationData: badVal })).toThrow(/validation data: 3 samples need 9 input and 3 label values, got 6 and 3/);
    for (const batchSize of [0, -1, 2.5]) expect(() => t.fit({ x: X, y: Y, count: 10 }, { epochs: 1, batchSize })).toThrow(RangeError);
    expect(t.steps).toBe(0);
  });
});

describe('learning-rate schedules', () => {
  const X = uniformArray(4 * 3, 111);
  const Y = uniformArray(4, 112);

  /** Fits one epoch per step (a single batch of 4); returns the lr and weights seen after each step. */
  async function scheduled(name: string, schedule: Parameters<FullTrainer['fit']>[1]['schedule'], epochs: number, batchSize = 4) {
    const create = await linear(name, 1, 0.1);
    const t = create({ seed: 3 });
    const w0 = weightRecord(t);
    const seen: { lr: number; kernel: number[]; bias: number }[] = [];
    t.fit({ x: X, y: Y, count: 4 }, { epochs, batchSize, shuffle: false, schedule, onBatch: () => {
      const w = weightRecord(t);
      seen.push({ lr: t.lr, kernel: Array.from(w['fc/kernel']), bias: w['fc/bias'][0] });
    } });
    return { t, w0, seen };
  }

  /** Plain SGD in float64 with the given learning rates, one full batch per step. */
  function sgdReference(w0: Record<string, Float32Array>, lrs: number[], batch = 4) {
    let w = Array.from(w0['fc/kernel']);
    let b = w0['fc/bias'][0];
    const out: { kernel: number[]; bias: number; delta: number[] }[] = [];
    let k = 0;
    for (const lr of lrs) {
      const a = (k * batch) % 4;
      const { gw, gb } = linearGrad(X.subarray(a * 3, (a + batch) * 3), Y.subarray(a, a + batch), w, b);
      k++;
      const delta = [...gw.map((g) => -lr * g), -lr * gb];
      w = w.map((v, i) => v + delta[i]);
      b += delta[3];
      out.push({ kernel: w, bias: b, delta });
    }
    return out;
  }

  it('exponential (rate 0.5, every step): lr halves each step and each update is -lr_k·∇L(w_k)', async () => {
    const { t, w0, seen } = await scheduled('sched_exp', { kind: 'exponential', rate: 0.5, steps: 1 }, 6);
    const lrs = [0, 1, 2, 3, 4, 5].map((k) => 0.1 * 0.5 ** k);
    expect(seen.map((s) => s.lr)).toEqual(lrs);
    const ref = sgdReference(w0, lrs);
    seen.forEach((s, k) => {
      expect([...s.kernel, s.bias], `step ${k}`).toBeAllclose([...ref[k].kernel, ref[k].bias], { rtol: 1e-5, atol: 1e-6 });
    });
    // The update's size relative to the gradient it follows is exactly the scheduled lr.
    let prev = [...Array.from(w0['fc/kernel']), w0['fc/bias'][0]];
    seen.forEach((s, k) => {
      const now = [...s.kernel, s.bias];
      const grad = ref[k].delta.map((d) => -d / lrs[k]);
      const moved = Math.hypot(...now.map((v, i) => v - prev[i]));
      expect(moved / Math.hypot(...grad), `step ${k}`).toBeCloseTo(lrs[k], 6);
      prev = now;
    });
    // fit puts the base lr back.
    expect(t.lr).toBe(0.1);
  });

  it('exponential with staircase decays in whole periods', async () => {
    const { seen, w0 } = await scheduled('sched_stair', { kind: 'exponential', rate: 0.5, steps: 2, staircase: true }, 5);
    const lrs = [0.1, 0.1, 0.05, 0.05, 0.025];
    expect(seen.map((s) => s.lr)).toEqual(lrs);
    const ref = sgdReference(w0, lrs);
    expect([...seen[4].kernel, seen[4].bias]).toBeAllclose([...ref[4].kernel, ref[4].bias], { rtol: 1e-5, atol: 1e-6 });
  });

  it('step schedule (γ 0.1 every 2 epochs) changes lr per epoch, not per batch', async () => {
    const { seen, w0 } = await scheduled('sched_step', { kind: 'step', gamma: 0.1, epochs: 2 }, 5, 2);
    // Two batches per epoch.
    const perEpoch = [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1, 0.1 * 0.01];
    const lrs = perEpoch.flatMap((lr) => [lr, lr]);
    expect(seen.map((s) => s.lr)).toBeAllclose(lrs, { rtol: 1e-12, atol: 0 });
    const ref = sgdReference(w0, lrs, 2);
    seen.forEach((s, k) => expect([...s.kernel, s.bias], `step ${k}`).toBeAllclose([...ref[k].kernel, ref[k].bias], { rtol: 1e-5, atol: 1e-6 }));
  });

  it('a function schedule gets the epoch, the step count before the step and the base lr', async () => {
    const calls: { epoch: number; step: number; baseLr: number }[] = [];
    const { seen } = await scheduled('sched_fn', (p) => {
      calls.push({ ...p });
      return p.baseLr / (1 + p.step);
    }, 2, 2);
    expect(calls).toEqual([
      { epoch: 0, step: 0, baseLr: 0.1 },
      { epoch: 0, step: 1, baseLr: 0.1 },
      { epoch: 1, step: 2, baseLr: 0.1 },
      { epoch: 1, step: 3, baseLr: 0.1 },
    ]);
    expect(seen.map((s) => s.lr)).toBeAllclose([0.1, 0.05, 0.1 / 3, 0.025], { rtol: 1e-12, atol: 0 });
  });
});

describe('evaluate', () => {
  it('MSE: the sample-weighted mean of per-batch losses (uneven last batch); accuracy is argmax(prediction) = argmax(target)', async () => {
    const create = await linear('eval_mse', 2, 0.05);
    const t = create({ seed: 4 });
    const n = 10;
    const X = uniformArray(n * 3, 121, -2, 2);
    const u = lcg(122);
    const Y = Float32Array.from({ length: n * 2 }, () => u());
    const w = weightRecord(t);
    const pred = denseRef(X, n, 3, w['fc/kernel'], 2, w['fc/bias']);
    const batchLoss = (a: number, b: number) => mseRef(pred.subarray(2 * a, 2 * b), Y.subarray(2 * a, 2 * b));
    const want = (4 * batchLoss(0, 4) + 4 * batchLoss(4, 8) + 2 * batchLoss(8, 10)) / n;
    const ev = t.evaluate({ x: X, y: Y, count: n }, 4);
    expect([ev.loss]).toBeAllclose([want], { rtol: 1e-5 });
    // (Equal to the full-data MSE; the unweighted mean of the three batch losses would differ.)
    expect([want]).toBeAllclose([mseRef(pred, Y)], { rtol: 1e-12 });
    expect(Math.abs(want - (batchLoss(0, 4) + batchLoss(4, 8) + batchLoss(8, 10)) / 3)).toBeGreaterThan(1e-6);
    const argmax2 = (v: ArrayLike<number>, r: number) => (v[2 * r + 1] > v[2 * r] ? 1 : 0);
    const correct = Array.from({ length: n }, (_, r) => argmax2(pred, r) === argmax2(Y, r)).filter(Boolean).length;
    expect(ev.accuracy).toBe(correct / n);
    expect(correct).toBeGreaterThan(0);
    expect(correct).toBeLessThan(n);
    // The default batch size (everything in one batch here) gives the same numbers.
    const whole = t.evaluate({ x: X, y: Y, count: n });
    expect([whole.loss]).toBeAllclose([want], { rtol: 1e-5 });
    expect(whole.accuracy).toBe(ev.accuracy);
    // evaluate takes no step.
    expect(t.steps).toBe(0);
    expect(weightRecord(t)).toEqual(w);
  });

  it('sparse categorical cross-entropy: mean −log softmax at the label, accuracy counted on int32 labels', async () => {
    const x = input([3], { name: 'x' });
    const y = dense(x, 4, { name: 'fc' });
    const create = await trainerFactory('trainer-fit', model({ name: 'eval_scce', inputs: x, outputs: y }).graph, { loss: { kind: 'sparseCategoricalCrossEntropy', fromLogits: true }, optimizer: { kind: 'sgd', lr: 0.1 } });
    const t = create({ seed: 5 });
    const n = 9;
    const X = uniformArray(n * 3, 131, -2, 2);
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % 4);
    const w = weightRecord(t);
    const logits = denseRef(X, n, 3, w['fc/kernel'], 4, w['fc/bias']);
    let ce = 0;
    let correct = 0;
    for (let r = 0; r < n; r++) {
      const row = Array.from(logits.subarray(4 * r, 4 * r + 4));
      const max = Math.max(...row);
      ce -= row[labels[r]] - max - Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      if (row.indexOf(max) === labels[r]) correct++;
    }
    const ev = t.evaluate({ x: X, y: labels, count: n }, 4);
    expect([ev.loss]).toBeAllclose([ce / n], { rtol: 1e-5 });
    expect(ev.accuracy).toBe(correct / n);
    // fit accepts int32 labels and validation data of them.
    const logs = t.fit({ x: X, y: labels, count: n }, { epochs: 2, batchSize: 4, seed: 1, validationData: { x: X, y: labels, count: n } }).epochs;
    expect(logs).toHaveLength(2);
    const after = t.evaluate({ x: X, y: labels, count: n }, 4);
    expect(logs[1].valLoss).toBe(after.loss);
    expect(logs[1].valAccuracy).toBe(after.accuracy);
  });
});
