// Dropout in the two modes: inference (predict, evaluate) is the identity; a training step
// multiplies by a fresh mask of 0 and 1/(1-rate), drawn per step and per element. The masks are
// inferred here from what a step does to an identity kernel, never read from the compiled code.
import { describe, expect, it } from 'vitest';
import { hashUniform } from '../../runtime/math.ts';
import { Rng } from '../../runtime/rng.ts';
import { add, constant, dense, dropout, input, model, mul } from '../../src/index.ts';
import { copyRecord, denseRef, mseRef, trainerFactory, uniformArray, weightRecord } from './trainer-support.ts';

/** The identity matrix [n, n] as float32. */
const eye = (n: number) => Float32Array.from({ length: n * n }, (_, k) => (Math.floor(k / n) === k % n ? 1 : 0));

/** x → dropout(rate) → dense(units, no bias): with an identity kernel a step's loss and update expose the mask. */
async function identityDropout(name: string, features: number, rate: number, lr: number) {
  const x = input([features], { name: 'x' });
  const y = dense(dropout(x, rate, { name: 'drop' }), features, { name: 'fc', useBias: false });
  const create = await trainerFactory('mode-dropout', model({ name, inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr } });
  return (seed: number) => {
    const t = create({ seed });
    t.setWeights({ 'fc/kernel': eye(features) });
    return t;
  };
}

describe('dropout at inference', () => {
  it('predict is deterministic and equals x·W + b with no mask and no 1/(1-rate) scaling', async () => {
    const x = input([6], { name: 'x' });
    const y = dense(dropout(x, 0.5, { name: 'drop' }), 3, { name: 'fc' });
    const create = await trainerFactory('mode-dropout', model({ name: 'drop_predict', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0 } });
    const t = create({ seed: 3 });
    const B = 5;
    const X = uniformArray(B * 6, 17);
    const w = weightRecord(t);
    const want = denseRef(X, B, 6, w['fc/kernel'], 3, w['fc/bias']);
    const first = t.predict(X, B);
    expect(first).toBeAllclose(want, { rtol: 1e-5, atol: 1e-6 });
    // Training steps (lr 0: weights stay) draw masks; inference stays the same, bit for bit.
    const T = uniformArray(B * 3, 18);
    const losses = [0, 1, 2, 3].map(() => t.step(X, T, B));
    expect(t.predict(X, B)).toEqual(first);
    expect(t.predict(X, B)).toEqual(first);
    // Successive training losses on identical data differ (new masks), and differ from the no-dropout loss.
    expect(new Set(losses).size).toBeGreaterThanOrEqual(3);
    const clean = mseRef(want, T);
    expect(losses.every((l) => Math.abs(l - clean) > 1e-6)).toBe(true);
    // evaluate runs the inference form too: its loss is the no-dropout MSE.
    const ev = t.evaluate({ x: X, y: T, count: B });
    expect([ev.loss]).toBeAllclose([clean], { rtol: 1e-5 });
  });
});

describe('dropout in training', () => {
  it('the mask inferred from one step is 0 or 1/(1-rate) per element, explains the loss and the whole update, and matches hashUniform(seed, flat index)', async () => {
    const F = 16;
    const rate = 0.5;
    const lr = 0.1;
    const fresh = await identityDropout('drop_mask', F, rate, lr);
    const seed = 21;
    const t = fresh(seed);
    const X = Float32Array.from({ length: F }, (_, i) => 0.5 + 0.1 * i); // B = 1, all nonzero
    const zeros = new Float32Array(F);
    // With W = I and target 0: y_j = x_j m_j, L = (1/F) Σ_j y_j², dL/dW_ij = (2/F) (x_i m_i)(x_j m_j).
    const stepSeeds = new Rng(seed + 1); // the trainer documents its dropout RNG as seeded with seed + 1
    const masks: number[][] = [];
    for (let s = 0; s < 3; s++) {
      t.setWeights({ 'fc/kernel': eye(F) });
      const loss = t.step(X, zeros, 1);
      const dW = t.getWeights()[0].data.map((v, k) => v - eye(F)[k]);
      // The diagonal gives m_i² = -ΔW_ii · F / (2 lr x_i²).
      const mask = Array.from({ length: F }, (_, i) => Math.sqrt(Math.max(0, (-dW[i * F + i] * F) / (2 * lr * X[i] ** 2))));
      for (const m of mask) expect(Math.min(Math.abs(m), Math.abs(m - 1 / (1 - rate)))).toBeLessThan(1e-3);
      const m = mask.map((v) => (v > 1 ? 1 / (1 - rate) : 0));
      const kept = m.map((mi, i) => X[i] * mi);
      expect([loss]).toBeAllclose([kept.reduce((a, v) => a + v * v, 0) / F], { rtol: 1e-5 });
      const wantDW = Array.from({ length: F * F }, (_, k) => (-lr * 2 * kept[Math.floor(k / F)] * kept[k % F]) / F);
      expect(dW).toBeAllclose(wantDW, { rtol: 1e-3, atol: 1e-6 });
      // The documented mask: element kept where hashUniform(step seed, flat index) >= rate.
      const stepSeed = stepSeeds.int(2 ** 24);
      expect(m).toEqual(Array.from({ length: F }, (_, i) => (hashUniform(stepSeed, i) >= rate ? 1 / (1 - rate) : 0)));
      masks.push(m);
    }
    expect(masks[1]).not.toEqual(masks[0]);
    expect(masks[2]).not.toEqual(masks[1]);
  });

  it('two dropouts of one tensor draw independent masks: element i of the k-th of K masks is hashUniform(seed, i·K + k)', async () => {
    // y = x ⊙ m1 + 2 · x ⊙ m2 through an identity kernel: with m ∈ {0, 2}, y_i / x_i ∈ {0, 2, 4, 6} names both masks.
    const F = 64;
    const rate = 0.5;
    const lr = 0.1;
    const x = input([F], { name: 'x' });
    const h = add(dropout(x, rate, { name: 'd1' }), mul(dropout(x, rate, { name: 'd2' }), constant([2], [])));
    const y = dense(h, F, { name: 'fc', useBias: false });
    const create = await trainerFactory('mode-dropout', model({ name: 'drop_two', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr } });
    const seed = 5;
    const t = create({ seed });
    t.setWeights({ 'fc/kernel': eye(F) });
    const X = new Float32Array(F).fill(1);
    t.step(X, new Float32Array(F), 1);
    // ΔW_ii = -lr · (2/F) · y_i², so y_i = sqrt(-ΔW_ii · F / (2 lr)).
    const w = t.getWeights()[0].data;
    const yi = Array.from({ length: F }, (_, i) => Math.sqrt(Math.max(0, ((eye(F)[i * F + i] - w[i * F + i]) * F) / (2 * lr))));
    for (const v of yi) expect(Math.min(...[0, 2, 4, 6].map((k) => Math.abs(v - k)))).toBeLessThan(1e-2);
    const code = yi.map((v) => Math.round(v));
    const m1 = code.map((c) => (c % 4 === 2 ? 1 : 0));
    const m2 = code.map((c) => (c >= 4 ? 1 : 0));
    expect(m1).not.toEqual(m2);
    const stepSeed = new Rng(seed + 1).int(2 ** 24);
    // The two masks in graph order: one is stream 0, the other stream 1, of K = 2.
    const stream = (k: number) => Array.from({ length: F }, (_, i) => (hashUniform(stepSeed, i * 2 + k) >= rate ? 1 : 0));
    expect([m1, m2].sort()).toEqual([stream(0), stream(1)].sort());
    // Independent, not equal: they agree on about half the positions (5σ bound), not all.
    const agree = m1.filter((v, i) => v === m2[i]).length / F;
    expect(Math.abs(agree - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / F));
  });

  it('rows of a batch get different masks (the flat index runs over the batch)', async () => {
    const F = 16;
    const rate = 0.5;
    const lr = 0.1;
    const t = (await identityDropout('drop_rows', F, rate, lr))(4);
    const B = 2;
    const X = new Float32Array(B * F).fill(1); // identical rows
    t.step(X, new Float32Array(B * F), B);
    // ΔW_ii = -lr (2/(B F)) Σ_b m_bi² ∈ {0, 1, 2}·(-lr·2·4/(B F)): 1 only where the rows' masks differ.
    const w = t.getWeights()[0].data;
    const count = Array.from({ length: F }, (_, i) => ((1 - w[i * F + i]) * B * F) / (lr * 2 * 4));
    for (const c of count) expect(Math.min(...[0, 1, 2].map((k) => Math.abs(c - k)))).toBeLessThan(1e-3);
    expect(count.some((c) => Math.abs(c - 1) < 1e-3)).toBe(true);
  });

  for (const rate of [0.5, 0.2]) {
    it(`rate ${rate}: the fraction of kept activations is ≈ 1 - rate, different at every step`, async () => {
      const F = 64;
      const N = 64;
      const t = (await identityDropout(`drop_frac_${rate * 10}`, F, rate, 0))(9);
      const ones = new Float32Array(N * F).fill(1);
      const zeros = new Float32Array(N * F);
      // With W = I, x = 1 and target 0: L = mean(m²) = kept · (1/(1-rate))², kept the fraction of survivors.
      const kept = Array.from({ length: 8 }, () => t.step(ones, zeros, N) * (1 - rate) ** 2);
      for (const k of kept) {
        // A whole number of survivors out of N·F ...
        expect(Math.abs(k * N * F - Math.round(k * N * F))).toBeLessThan(1e-2);
        // ... within 5 standard deviations (σ = sqrt(rate(1-rate)/(N F)) ≈ 0.008) of 1 - rate.
        expect(Math.abs(k - (1 - rate))).toBeLessThan(5 * Math.sqrt((rate * (1 - rate)) / (N * F)));
      }
      expect(Math.abs(kept.reduce((a, b) => a + b) / kept.length - (1 - rate))).toBeLessThan(0.01);
      expect(new Set(kept).size).toBeGreaterThan(4);
    });
  }

  it('the same seed twice trains bit-identically; another seed (same initial weights) draws other masks', async () => {
    // Dropout on the input: dropout after a trainable layer does not compile yet (see the next test).
    const x = input([8], { name: 'x' });
    const h = dense(dropout(x, 0.5, { name: 'drop' }), 16, { name: 'h', activation: 'relu' });
    const y = dense(h, 2, { name: 'out' });
    const create = await trainerFactory('mode-dropout', model({ name: 'drop_determinism', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 0.01 } });
    const B = 6;
    const X = uniformArray(B * 8, 5);
    const T = uniformArray(B * 2, 6);
    const initial = weightRecord(create({ seed: 11 }));
    const run = (seed: number) => {
      const t = create({ seed, weights: copyRecord(initial) });
      const losses = Array.from({ length: 15 }, () => t.step(X, T, B));
      return { losses, weights: t.getWeights().map((w) => Array.from(w.data)), state: t.getState().map((s) => Array.from(s.data)) };
    };
    const a = run(11);
    const b = run(11);
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
    expect(b.state).toEqual(a.state);
    const c = run(12);
    expect(c.losses[0]).not.toBe(a.losses[0]);
    expect(c.weights).not.toEqual(a.weights);
  });

  // Regression: trainingDropout builds
  // mul(x, dropoutMask(x, seed)); when x depends on a trainable parameter the backward pass
  // used to walk into dropoutMask's input 0 and throw "op 'dropoutMask' is not differentiable".
  // The mask does not depend on x's values, so its gradient with respect to x is zero (fixed).
  it('dropout after a trainable layer compiles for training and masks the hidden units', async () => {
    const x = input([3], { name: 'x' });
    const h = dense(x, 4, { name: 'h' });
    const y = dense(dropout(h, 0.5, { name: 'drop' }), 1, { name: 'out' });
    const create = await trainerFactory('mode-dropout', model({ name: 'drop_hidden', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0 } });
    const t = create({ seed: 1 });
    const X = uniformArray(3 * 2, 41);
    const T = uniformArray(2, 42);
    const w = weightRecord(t);
    const clean = mseRef(denseRef(denseRef(X, 2, 3, w['h/kernel'], 4, w['h/bias']), 2, 4, w['out/kernel'], 1, w['out/bias']), T);
    const losses = [t.step(X, T, 2), t.step(X, T, 2), t.step(X, T, 2)];
    expect(new Set(losses).size).toBeGreaterThan(1);
    expect(t.evaluate({ x: X, y: T, count: 2 }).loss).toBeCloseTo(clean, 5);
  });

  it('rate 0 is the identity in training: the loss and the SGD update are those of the plain dense layer, whatever the seed', async () => {
    const x = input([5], { name: 'x' });
    const y = dense(dropout(x, 0, { name: 'drop' }), 2, { name: 'fc' });
    const lr = 0.1;
    const create = await trainerFactory('mode-dropout', model({ name: 'drop_zero', inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr } });
    const B = 4;
    const X = uniformArray(B * 5, 31);
    const T = uniformArray(B * 2, 32);
    const w0 = weightRecord(create({ seed: 1 }));
    const a = create({ seed: 1, weights: copyRecord(w0) });
    const b = create({ seed: 2, weights: copyRecord(w0) });
    const pred = denseRef(X, B, 5, w0['fc/kernel'], 2, w0['fc/bias']);
    const loss = a.step(X, T, B);
    expect([loss]).toBeAllclose([mseRef(pred, T)], { rtol: 1e-5 });
    // dL/dy = (2/(B·2)) (y - t); dW = xᵀ dL/dy; db = Σ_rows dL/dy.
    const gy = Array.from(pred, (p, k) => (2 / (B * 2)) * (p - T[k]));
    const gW = Array.from({ length: 10 }, (_, k) => {
      const [i, o] = [Math.floor(k / 2), k % 2];
      let s = 0;
      for (let r = 0; r < B; r++) s += X[r * 5 + i] * gy[r * 2 + o];
      return s;
    });
    const gb = [0, 1].map((o) => Array.from({ length: B }, (_, r) => gy[r * 2 + o]).reduce((p, q) => p + q));
    const after = weightRecord(a);
    expect(after['fc/kernel']).toBeAllclose(Array.from(w0['fc/kernel'], (v, k) => v - lr * gW[k]), { rtol: 1e-5, atol: 1e-6 });
    expect(after['fc/bias']).toBeAllclose(Array.from(w0['fc/bias'], (v, k) => v - lr * gb[k]), { rtol: 1e-5, atol: 1e-6 });
    // No randomness: a differently seeded trainer from the same weights follows the same path.
    const la = [loss, a.step(X, T, B), a.step(X, T, B)];
    const lb = [b.step(X, T, B), b.step(X, T, B), b.step(X, T, B)];
    expect(lb).toEqual(la);
  });
});
