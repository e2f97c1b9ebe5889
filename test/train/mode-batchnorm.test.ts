// Batch normalisation in the two modes. A training step normalises with the batch's mean and
// biased variance and moves the running statistics (non-trainable parameters, updated even at
// lr 0) to momentum·old + (1 - momentum)·batch (the variance with n/(n - 1), as PyTorch); inference (predict, evaluate) uses the running
// statistics. Everything is checked against float64 formulas evaluated here; the last tests
// check the gradients of a dense → batchNorm → dropout(0) → dense model by finite differences
// and the compiled step against the reference interpreter on the training graph.
import { describe, expect, it } from 'vitest';
import { buildTrainingGraph, type TrainingSpec } from '../../compiler/train/step.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { batchNorm, dense, dropout, input, model } from '../../src/index.ts';
import { copyRecord, trainerFactory, uniformArray, weightRecord } from './trainer-support.ts';

const MOMENTUM = 0.8;
const EPSILON = 1e-3;

/** Per-channel statistics of x laid out [N, C, S] (S = product of the spatial sizes, 1 for [N, C]). */
function batchStats(x: ArrayLike<number>, n: number, c: number, s: number) {
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  const at = (i: number, ch: number, k: number) => x[(i * c + ch) * s + k];
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < s; k++) sum += at(i, ch, k);
    mean[ch] = sum / (n * s);
    let sq = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < s; k++) sq += (at(i, ch, k) - mean[ch]) ** 2;
    variance[ch] = sq / (n * s); // biased: divided by the count, not count - 1
  }
  return { mean, variance };
}

/** (x - mean[c]) / sqrt(var[c] + ε) · γ[c] + β[c], and the normalised x̂, on [N, C, S]. */
function normalise(x: ArrayLike<number>, n: number, c: number, s: number, mean: ArrayLike<number>, variance: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>) {
  const y = new Float64Array(n * c * s);
  const xhat = new Float64Array(n * c * s);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let k = 0; k < s; k++) {
        const j = (i * c + ch) * s + k;
        xhat[j] = (x[j] - mean[ch]) / Math.sqrt(variance[ch] + EPSILON);
        y[j] = xhat[j] * gamma[ch] + beta[ch];
      }
  return { y, xhat };
}

const blend = (old: ArrayLike<number>, batch: ArrayLike<number>) => Array.from(old, (o, i) => MOMENTUM * o + (1 - MOMENTUM) * batch[i]);
/** What PyTorch's running variance tracks: the batch variance with Bessel's correction, m values per channel. */
const bessel = (variance: ArrayLike<number>, m: number) => Array.from(variance, (v) => (v * m) / (m - 1));
const meanSquare = (y: ArrayLike<number>) => Array.from(y).reduce((a, v) => a + v * v, 0) / y.length;

/** x → batchNorm → output; MSE against zeros; SGD with momentum 0.9 at lr 0, so the momentum buffers after one step are the gradients. */
async function bnTrainer(name: string, sampleShape: number[]) {
  const x = input(sampleShape, { name: 'x' });
  const y = batchNorm(x, { name: 'bn', momentum: MOMENTUM, epsilon: EPSILON });
  const create = await trainerFactory('mode-batchnorm', model({ name, inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0, momentum: 0.9 } });
  return create({ seed: 1 });
}

/** Channel c's values spread and shifted differently, so every channel has its own statistics. */
function channelData(n: number, c: number, s: number, seed: number): Float32Array {
  const u = uniformArray(n * c * s, seed);
  return u.map((v, j) => {
    const ch = Math.floor(j / s) % c;
    return (ch + 1) * 1.5 * v + (ch - 1) * 2;
  });
}

for (const { label, sampleShape, n } of [
  { label: 'dense-style [N, C]', sampleShape: [3], n: 6 },
  { label: 'conv-style [N, C, H, W]', sampleShape: [2, 3, 4], n: 3 },
]) {
  describe(`batch norm, ${label}`, () => {
    const c = sampleShape[0];
    const s = sampleShape.slice(1).reduce((a, b) => a * b, 1);
    const size = n * c * s;
    const gamma = Float32Array.from({ length: c }, (_, i) => [1.5, -0.5, 2][i]);
    const beta = Float32Array.from({ length: c }, (_, i) => [0.1, -0.2, 0.3][i]);
    const mm0 = Float32Array.from({ length: c }, (_, i) => [0.5, -1, 0.2][i]);
    const mv0 = Float32Array.from({ length: c }, (_, i) => [2, 0.5, 1.5][i]);
    const X1 = channelData(n, c, s, 101);
    const X2 = channelData(n, c, s, 202);
    const zeros = new Float32Array(size);
    const start = () => ({ 'bn/gamma': gamma.slice(), 'bn/beta': beta.slice(), 'bn/movingMean': mm0.slice(), 'bn/movingVariance': mv0.slice() });

    it('a training step normalises with the batch statistics: loss and gradients of γ and β', async () => {
      const t = await bnTrainer(`bn_loss_${sampleShape.length}`, sampleShape);
      t.setWeights(start());
      const { mean, variance } = batchStats(X1, n, c, s);
      const { y, xhat } = normalise(X1, n, c, s, mean, variance, gamma, beta);
      const loss = t.step(X1, zeros, n);
      expect([loss]).toBeAllclose([meanSquare(y)], { rtol: 1e-5 });
      // dL/dγ_c = (2/size) Σ y·x̂ and dL/dβ_c = (2/size) Σ y over the channel's elements.
      const gGamma = new Float64Array(c);
      const gBeta = new Float64Array(c);
      y.forEach((v, j) => {
        const ch = Math.floor(j / s) % c;
        gGamma[ch] += (2 / size) * v * xhat[j];
        gBeta[ch] += (2 / size) * v;
      });
      const state = Object.fromEntries(t.getState().map((w) => [w.name, w.data]));
      expect(Object.keys(state).sort()).toEqual(['bn/beta/momentum', 'bn/gamma/momentum']);
      expect(state['bn/gamma/momentum']).toBeAllclose(gGamma, { rtol: 1e-4, atol: 1e-6 });
      expect(state['bn/beta/momentum']).toBeAllclose(gBeta, { rtol: 1e-4, atol: 1e-6 });
    });

    it('lr 0 leaves γ and β alone but moves the running statistics: momentum·old + (1 - momentum)·batch (unbiased variance, as PyTorch)', async () => {
      const t = await bnTrainer(`bn_running_${sampleShape.length}`, sampleShape);
      t.setWeights(start());
      t.step(X1, zeros, n);
      const s1 = batchStats(X1, n, c, s);
      let w = weightRecord(t);
      expect(w['bn/gamma']).toEqual(gamma);
      expect(w['bn/beta']).toEqual(beta);
      const mm1 = blend(mm0, s1.mean);
      const mv1 = blend(mv0, bessel(s1.variance, n * s));
      expect(w['bn/movingMean']).toBeAllclose(mm1, { rtol: 1e-5, atol: 1e-6 });
      expect(w['bn/movingVariance']).toBeAllclose(mv1, { rtol: 1e-5, atol: 1e-6 });
      // The running statistics are weights, not optimizer state.
      expect(t.getState().map((x) => x.name)).not.toContain('bn/movingMean');
      // A second batch blends again, from the values after the first.
      t.step(X2, zeros, n);
      const s2 = batchStats(X2, n, c, s);
      w = weightRecord(t);
      expect(w['bn/movingMean']).toBeAllclose(blend(mm1, s2.mean), { rtol: 1e-5, atol: 1e-6 });
      expect(w['bn/movingVariance']).toBeAllclose(blend(mv1, bessel(s2.variance, n * s)), { rtol: 1e-5, atol: 1e-6 });
    });

    it('predict and evaluate use the running statistics, not the batch ones', async () => {
      const t = await bnTrainer(`bn_infer_${sampleShape.length}`, sampleShape);
      t.setWeights(start());
      // Before any step: the initial running statistics.
      const before = normalise(X2, n, c, s, mm0, mv0, gamma, beta).y;
      expect(t.predict(X2, n)).toBeAllclose(before, { rtol: 1e-5, atol: 1e-5 });
      t.step(X1, zeros, n);
      const s1 = batchStats(X1, n, c, s);
      const after = normalise(X2, n, c, s, blend(mm0, s1.mean), blend(mv0, bessel(s1.variance, n * s)), gamma, beta).y;
      expect(t.predict(X2, n)).toBeAllclose(after, { rtol: 1e-5, atol: 1e-5 });
      // Not the batch statistics of X2 (which would normalise X2 to mean 0, variance 1 per channel).
      const batchForm = normalise(X2, n, c, s, ...Object.values(batchStats(X2, n, c, s)) as [Float64Array, Float64Array], gamma, beta).y;
      expect(Math.max(...Array.from(after, (v, j) => Math.abs(v - batchForm[j])))).toBeGreaterThan(0.1);
      const ev = t.evaluate({ x: X2, y: zeros, count: n });
      expect([ev.loss]).toBeAllclose([meanSquare(after)], { rtol: 1e-5 });
      // A single sample still works at inference (no batch statistics needed).
      expect(t.predict(X2.subarray(0, c * s), 1)).toBeAllclose(after.subarray(0, c * s), { rtol: 1e-5, atol: 1e-5 });
    });
  });
}

describe('gradients through batch norm in training mode', () => {
  const B = 5;
  const X = uniformArray(B * 2, 301, -2, 2);
  const T = uniformArray(B, 302);
  const lr = 0.05;
  const spec: TrainingSpec = { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr } };
  const graph = () => {
    const x = input([2], { name: 'x' });
    const h = batchNorm(dense(x, 3, { name: 'fc1' }), { name: 'bn', epsilon: EPSILON, momentum: MOMENTUM });
    const y = dense(dropout(h, 0, { name: 'drop' }), 1, { name: 'fc2' });
    return model({ name: 'bn_gradcheck', inputs: x, outputs: y }).graph;
  };

  it('the first SGD step moves every trainable weight by -lr · (central finite difference of the training loss)', async () => {
    const create = await trainerFactory('mode-batchnorm', graph(), spec);
    const w0 = weightRecord(create({ seed: 5 }));
    // γ and β away from their 1/0 defaults so every path carries a gradient.
    w0['bn/gamma'] = Float32Array.from([1.2, -0.7, 0.9]);
    w0['bn/beta'] = Float32Array.from([0.3, -0.1, 0.2]);
    const trained = create({ weights: copyRecord(w0) });
    trained.step(X, T, B);
    const after = weightRecord(trained);
    // The training-mode loss at given weights: a step at lr 0 returns it (running statistics
    // move, but a training step normalises with the batch's own statistics, so they don't matter).
    const probe = create({ weights: copyRecord(w0), lr: 0 });
    const lossAt = (w: Record<string, Float32Array>) => {
      probe.setWeights(w);
      return probe.step(X, T, B);
    };
    const h = 1e-2;
    const trainable = ['fc1/kernel', 'fc1/bias', 'bn/gamma', 'bn/beta', 'fc2/kernel', 'fc2/bias'];
    for (const name of trainable) {
      const fd = Array.from(w0[name], (_, k) => {
        const plus = copyRecord(w0);
        const minus = copyRecord(w0);
        plus[name][k] += h;
        minus[name][k] -= h;
        // Use the float32 step actually taken, not 2h.
        return (lossAt(plus) - lossAt(minus)) / (plus[name][k] - minus[name][k]);
      });
      const compiled = Array.from(after[name], (v, k) => (w0[name][k] - v) / lr);
      expect(compiled, name).toBeAllclose(fd, { rtol: 2e-2, atol: 2e-4 });
    }
    // A bias in front of batch norm cancels out: its gradient is zero.
    expect(Array.from(after['fc1/bias'], (v, k) => Math.abs(v - w0['fc1/bias'][k]) / lr).every((g) => g < 1e-4)).toBe(true);
    // And the gradients are not all trivially zero.
    expect(Math.max(...Array.from(after['fc1/kernel'], (v, k) => Math.abs(v - w0['fc1/kernel'][k]) / lr))).toBeGreaterThan(1e-2);
  });

  it('the compiled training step agrees with the reference interpreter on the training graph', async () => {
    const g = graph();
    const create = await trainerFactory('mode-batchnorm', g, spec);
    const t = create({ seed: 6 });
    const w0 = weightRecord(t);
    const training = buildTrainingGraph(g, spec);
    const ref = interpret(training.graph, { x: X, labels: T, lr: Float32Array.of(lr), step: Float32Array.of(1), seed: Float32Array.of(12345) }, w0, B);
    const loss = t.step(X, T, B);
    expect([loss]).toBeAllclose([ref.loss[0]], { rtol: 1e-5 });
    const after = weightRecord(t);
    const updated = [...training.assignments.values()];
    expect(updated).toEqual(expect.arrayContaining(['bn/movingMean', 'bn/movingVariance', 'fc1/kernel', 'fc2/bias']));
    for (const [output, target] of training.assignments) expect(after[target], target).toBeAllclose(ref[output], { rtol: 1e-5, atol: 1e-6 });
  });
});
