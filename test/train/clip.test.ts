// Gradient clipping inside the compiled step, checked against torch.nn.utils' documented
// formulas evaluated here in float64: clip_grad_norm_ scales all gradients by
// min(1, max_norm / (total_norm + 1e-6)), total_norm the 2-norm over every gradient together;
// clip_grad_value_ clamps each element to [-v, v]. Model: y = x·W + b (W ∈ R^{2×1}, b ∈ R^1),
// L = mean((y - t)²), plain SGD at lr 1, so one step moves each parameter by minus its clipped gradient.
import { describe, expect, it } from 'vitest';
import type { OptimizerSpec } from '../../compiler/train/optimizers.ts';
import { dense, input, model } from '../../src/index.ts';
import { compileTrainer } from './helpers.ts';

const B = 3;
const X = Float32Array.from([1, 2, -1, 0.5, 3, -2]);
const T = Float32Array.from([10, -4, 7]);
const W0 = [0.3, -0.2];
const B0 = 0.1;

/** dL/dW and dL/db at the starting weights, by hand: (2/B)·Σ r·x and (2/B)·Σ r. */
function gradients(): { w: number[]; b: number } {
  const w = [0, 0];
  let b = 0;
  for (let i = 0; i < B; i++) {
    const r = X[2 * i] * W0[0] + X[2 * i + 1] * W0[1] + B0 - T[i];
    w[0] += (2 / B) * r * X[2 * i];
    w[1] += (2 / B) * r * X[2 * i + 1];
    b += (2 / B) * r;
  }
  return { w, b };
}

async function oneStep(label: string, optimizer: OptimizerSpec) {
  const x = input([2]);
  const m = model({ name: `clip_${label}`, inputs: x, outputs: dense(x, 1, { name: 'fc' }) });
  const mod = await compileTrainer('clip', m.graph, { loss: { kind: 'mse' }, optimizer });
  const trainer = mod.createTrainer({ seed: 1 });
  const names = trainer.getWeights().map((w) => w.name);
  const kernel = names.find((n) => n.endsWith('kernel') || n.endsWith('weight'))!;
  const bias = names.find((n) => n !== kernel)!;
  trainer.setWeights({ [kernel]: Float32Array.from(W0), [bias]: Float32Array.from([B0]) });
  trainer.step(X, T, B);
  const after = Object.fromEntries(trainer.getWeights().map((w) => [w.name, Array.from(w.data)]));
  return { w: after[kernel], b: after[bias][0] };
}

describe('gradient clipping (torch.nn.utils.clip_grad_norm_ / clip_grad_value_)', () => {
  const g = gradients();
  const total = Math.hypot(g.w[0], g.w[1], g.b);

  it('by norm: every gradient scaled by max_norm / (total norm + 1e-6) when the norm is larger', async () => {
    const maxNorm = 0.5;
    expect(total).toBeGreaterThan(maxNorm * 10); // self-check: clipping is active
    const k = maxNorm / (total + 1e-6);
    const got = await oneStep('norm', { kind: 'sgd', lr: 1, clipNorm: maxNorm });
    expect(got.w).toBeAllclose([W0[0] - k * g.w[0], W0[1] - k * g.w[1]], { rtol: 1e-5, atol: 1e-6 });
    expect([got.b]).toBeAllclose([B0 - k * g.b], { rtol: 1e-5, atol: 1e-6 });
  });

  it('by norm: gradients under the limit pass unchanged', async () => {
    const got = await oneStep('norm_big', { kind: 'sgd', lr: 1, clipNorm: total * 2 });
    expect(got.w).toBeAllclose([W0[0] - g.w[0], W0[1] - g.w[1]], { rtol: 1e-5, atol: 1e-5 });
    expect([got.b]).toBeAllclose([B0 - g.b], { rtol: 1e-5, atol: 1e-5 });
  });

  it('by value: each element clamped to [-v, v]', async () => {
    const v = 6;
    const clamp = (x: number) => Math.min(v, Math.max(-v, x));
    // self-check: some elements are clamped, some are not
    expect([...g.w, g.b].some((e) => Math.abs(e) > v) && [...g.w, g.b].some((e) => Math.abs(e) < v)).toBe(true);
    const got = await oneStep('value', { kind: 'sgd', lr: 1, clipValue: v });
    expect(got.w).toBeAllclose([W0[0] - clamp(g.w[0]), W0[1] - clamp(g.w[1])], { rtol: 1e-5, atol: 1e-6 });
    expect([got.b]).toBeAllclose([B0 - clamp(g.b)], { rtol: 1e-5, atol: 1e-6 });
  });

  it('both: the norm first, then the value', async () => {
    // With these numbers value-then-norm would give −2 for all three; norm-then-value does not.
    const maxNorm = 5;
    const v = 2;
    const k = Math.min(1, maxNorm / (total + 1e-6));
    const clamp = (x: number) => Math.min(v, Math.max(-v, k * x));
    const got = await oneStep('both', { kind: 'sgd', lr: 1, clipNorm: maxNorm, clipValue: v });
    expect(got.w).toBeAllclose([W0[0] - clamp(g.w[0]), W0[1] - clamp(g.w[1])], { rtol: 1e-5, atol: 1e-6 });
    expect([got.b]).toBeAllclose([B0 - clamp(g.b)], { rtol: 1e-5, atol: 1e-6 });
  });

  it('clipping applies before the optimizer: Adam sees the clipped gradient', async () => {
    // Adam's first step is lr·sign(ĝ) whatever the scale, so the clipped gradient shows in its first moment.
    const maxNorm = 0.5;
    const k = maxNorm / (total + 1e-6);
    const x = input([2]);
    const m = model({ name: 'clip_adam', inputs: x, outputs: dense(x, 1, { name: 'fc' }) });
    const mod = await compileTrainer('clip', m.graph, { loss: { kind: 'mse' }, optimizer: { kind: 'adam', lr: 0.01, clipNorm: maxNorm } });
    const trainer = mod.createTrainer({ seed: 1 });
    const names = trainer.getWeights().map((w) => w.name);
    const kernel = names.find((n) => n.endsWith('kernel') || n.endsWith('weight'))!;
    const bias = names.find((n) => n !== kernel)!;
    trainer.setWeights({ [kernel]: Float32Array.from(W0), [bias]: Float32Array.from([B0]) });
    trainer.step(X, T, B);
    const state = Object.fromEntries(trainer.getState().map((s) => [s.name, Array.from(s.data)]));
    // m₁ = (1 − β₁)·ĝ with β₁ = 0.9
    expect(state[`${kernel}/m`]).toBeAllclose([0.1 * k * g.w[0], 0.1 * k * g.w[1]], { rtol: 1e-5, atol: 1e-7 });
    expect(state[`${bias}/m`]).toBeAllclose([0.1 * k * g.b], { rtol: 1e-5, atol: 1e-7 });
  });
});
