// Each optimizer's compiled update checked against its documented rule (PyTorch's algorithms),
// evaluated independently here in float64 on a model whose only parameter is w ∈ R^{3×1}:
// y = x·w, L = mean((y - t)²), so dL/dw = (2/B)·xᵀ(y - t).
import { describe, expect, it } from 'vitest';
import type { OptimizerSpec } from '../../compiler/train/optimizers.ts';
import { dense, input, model } from '../../src/index.ts';
import { compileTrainer, type TrainerLike, type TrainingModule } from './helpers.ts';

const B = 4;
const F = 3;
const f32 = (xs: number[]) => Float32Array.from(xs);
const X = f32([0.5, -1.2, 0.3, 1.1, 0.4, -0.7, -0.9, 0.8, 1.5, 0.2, -0.3, -1.0]);
const T = f32([0.7, -0.4, 1.3, 0.1]);
const W0 = f32([0.25, -0.6, 0.9]);
const STEPS = 5;

/** Exact float64 gradient of the MSE at w (inputs taken as the float32 values fed to the model). */
function mseGrad(w: number[]): number[] {
  const g = new Array<number>(F).fill(0);
  for (let b = 0; b < B; b++) {
    let y = 0;
    for (let i = 0; i < F; i++) y += X[b * F + i] * w[i];
    const r = y - T[b];
    for (let i = 0; i < F; i++) g[i] += (2 / B) * X[b * F + i] * r;
  }
  return g;
}

/** An independent float64 implementation of each optimizer (PyTorch's documented algorithms). */
function reference(spec: OptimizerSpec, steps: number): number[][] {
  const w = Array.from(W0);
  const zeros = () => new Array<number>(F).fill(0);
  const s = { buf: zeros(), m: zeros(), v: zeros(), vmax: zeros(), sq: zeros(), gavg: zeros(), sum: new Array<number>(F).fill(spec.kind === 'adagrad' ? (spec.initialAccumulatorValue ?? 0) : 0) };
  const out: number[][] = [];
  const lr = spec.lr;
  // torch.optim.AdamW's default weight decay is 0.01; every other optimizer's is 0.
  const wd = spec.weightDecay ?? (spec.kind === 'adamw' ? 0.01 : 0);
  for (let t = 1; t <= steps; t++) {
    const grad = mseGrad(w);
    for (let i = 0; i < F; i++) {
      let g = grad[i];
      switch (spec.kind) {
        case 'sgd': {
          // g ← g + λθ; b ← μb + (1-τ)g (b₁ = g); nesterov: g ← g + μb, else g ← b; θ ← θ - γg
          if (wd) g += wd * w[i];
          const mu = spec.momentum ?? 0;
          const tau = spec.dampening ?? 0;
          if (mu) {
            s.buf[i] = t === 1 ? g : mu * s.buf[i] + (1 - tau) * g;
            g = spec.nesterov ? g + mu * s.buf[i] : s.buf[i];
          }
          w[i] -= lr * g;
          break;
        }
        case 'adam':
        case 'adamw': {
          const b1 = spec.beta1 ?? 0.9;
          const b2 = spec.beta2 ?? 0.999;
          const eps = spec.epsilon ?? 1e-8;
          if (spec.kind === 'adam' && wd) g += wd * w[i];
          if (spec.kind === 'adamw') w[i] -= lr * wd * w[i];
          s.m[i] = b1 * s.m[i] + (1 - b1) * g;
          s.v[i] = b2 * s.v[i] + (1 - b2) * g * g;
          // Bias corrections in float64, as PyTorch computes them (the compiled graph does too).
          // AMSGrad: the denominator uses the running maximum of v.
          s.vmax[i] = Math.max(s.vmax[i], s.v[i]);
          const mHat = s.m[i] / (1 - b1 ** t);
          const vHat = (spec.amsgrad ? s.vmax[i] : s.v[i]) / (1 - b2 ** t);
          w[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
          break;
        }
        case 'rmsprop': {
          const alpha = spec.alpha ?? 0.99;
          const eps = spec.epsilon ?? 1e-8;
          const mu = spec.momentum ?? 0;
          if (wd) g += wd * w[i];
          s.sq[i] = alpha * s.sq[i] + (1 - alpha) * g * g;
          let v = s.sq[i];
          if (spec.centered) {
            s.gavg[i] = alpha * s.gavg[i] + (1 - alpha) * g;
            v -= s.gavg[i] * s.gavg[i];
          }
          if (mu > 0) {
            s.buf[i] = mu * s.buf[i] + g / (Math.sqrt(v) + eps);
            w[i] -= lr * s.buf[i];
          } else {
            w[i] -= (lr * g) / (Math.sqrt(v) + eps);
          }
          break;
        }
        case 'adagrad': {
          // γ̃ = γ / (1 + (t - 1)η); sum starts at the initial accumulator value
          const eps = spec.epsilon ?? 1e-10;
          const clr = lr / (1 + (t - 1) * (spec.lrDecay ?? 0));
          if (wd) g += wd * w[i];
          s.sum[i] += g * g;
          w[i] -= (clr * g) / (Math.sqrt(s.sum[i]) + eps);
          break;
        }
      }
    }
    out.push([...w]);
  }
  return out;
}

const CONFIGS: [string, OptimizerSpec][] = [
  ['sgd', { kind: 'sgd', lr: 0.1 }],
  ['sgd-momentum', { kind: 'sgd', lr: 0.1, momentum: 0.9 }],
  ['sgd-nesterov', { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }],
  ['sgd-weight-decay', { kind: 'sgd', lr: 0.1, weightDecay: 0.05 }],
  ['adam', { kind: 'adam', lr: 0.05 }],
  ['adamw', { kind: 'adamw', lr: 0.05, weightDecay: 0.1 }],
  ['rmsprop', { kind: 'rmsprop', lr: 0.01 }],
  ['rmsprop-centered-momentum', { kind: 'rmsprop', lr: 0.01, centered: true, momentum: 0.9 }],
  ['adagrad', { kind: 'adagrad', lr: 0.1 }],
  // One configuration per further setting (issue 16): each changes the trajectory.
  ['sgd-dampening', { kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0.5 }],
  ['sgd-momentum-weight-decay', { kind: 'sgd', lr: 0.1, momentum: 0.8, weightDecay: 0.2 }],
  ['adam-betas-epsilon', { kind: 'adam', lr: 0.05, beta1: 0.5, beta2: 0.9, epsilon: 0.1 }],
  ['adam-weight-decay', { kind: 'adam', lr: 0.05, weightDecay: 0.3 }],
  ['adam-amsgrad', { kind: 'adam', lr: 0.05, beta2: 0.5, amsgrad: true }],
  ['adamw-default-decay', { kind: 'adamw', lr: 0.05 }],
  ['adamw-amsgrad', { kind: 'adamw', lr: 0.05, beta1: 0.8, beta2: 0.6, weightDecay: 0.2, amsgrad: true }],
  ['rmsprop-alpha-epsilon', { kind: 'rmsprop', lr: 0.01, alpha: 0.5, epsilon: 0.05 }],
  ['rmsprop-weight-decay', { kind: 'rmsprop', lr: 0.01, weightDecay: 0.5, momentum: 0.5 }],
  ['rmsprop-centered', { kind: 'rmsprop', lr: 0.01, centered: true }],
  ['adagrad-epsilon-weight-decay', { kind: 'adagrad', lr: 0.1, epsilon: 0.2, weightDecay: 0.4 }],
  ['adagrad-lr-decay', { kind: 'adagrad', lr: 0.1, lrDecay: 0.5 }],
  ['adagrad-initial-accumulator', { kind: 'adagrad', lr: 0.1, initialAccumulatorValue: 0.7 }],
];

async function moduleFor(label: string, optimizer: OptimizerSpec): Promise<{ mod: TrainingModule; trainer: TrainerLike }> {
  const x = input([F]);
  const y = dense(x, 1, { useBias: false });
  const m = model({ name: `opt_${label.replace(/-/g, '_')}`, inputs: x, outputs: y });
  const mod = await compileTrainer('optimizers', m.graph, { loss: { kind: 'mse' }, optimizer });
  const trainer = mod.createTrainer({ seed: 3 });
  const weights = trainer.getWeights();
  expect(weights).toHaveLength(1);
  expect(weights[0].shape).toEqual([F, 1]);
  trainer.setWeights({ [weights[0].name]: W0 });
  return { mod, trainer };
}

const trainerFor = async (label: string, optimizer: OptimizerSpec) => (await moduleFor(label, optimizer)).trainer;

describe('optimizer updates match their documented rules', () => {
  it('the MSE reference gradient agrees with a finite difference (self-check)', () => {
    const w = Array.from(W0);
    const loss = (v: number[]) => {
      let l = 0;
      for (let b = 0; b < B; b++) {
        let y = 0;
        for (let i = 0; i < F; i++) y += X[b * F + i] * v[i];
        l += (y - T[b]) ** 2;
      }
      return l / B;
    };
    const g = mseGrad(w);
    for (let i = 0; i < F; i++) {
      const h = 1e-6;
      const up = [...w];
      const down = [...w];
      up[i] += h;
      down[i] -= h;
      expect(g[i]).toBeCloseTo((loss(up) - loss(down)) / (2 * h), 6);
    }
  });

  for (const [label, spec] of CONFIGS) {
    it(`${label}: parameter after each of ${STEPS} steps`, async () => {
      const trainer = await trainerFor(label, spec);
      const want = reference(spec, STEPS);
      for (let t = 0; t < STEPS; t++) {
        const loss = trainer.step(X, T, B);
        expect(Number.isFinite(loss)).toBe(true);
        expect(trainer.getWeights()[0].data, `${label} step ${t + 1}`).toBeAllclose(want[t], { rtol: 1e-5, atol: 1e-6 });
      }
      expect(trainer.steps).toBe(STEPS);
    });
  }

  it('amsgrad and dampening change the trajectory on this data (self-check: their tests can fail)', () => {
    const last = (spec: OptimizerSpec) => reference(spec, STEPS)[STEPS - 1];
    expect(last({ kind: 'adam', lr: 0.05, beta2: 0.5, amsgrad: true })).not.toEqual(last({ kind: 'adam', lr: 0.05, beta2: 0.5 }));
    expect(last({ kind: 'sgd', lr: 0.1, momentum: 0.9, dampening: 0.5 })).not.toEqual(last({ kind: 'sgd', lr: 0.1, momentum: 0.9 }));
  });

  it('adam with amsgrad keeps a third state tensor, the running maximum of v', async () => {
    const trainer = await trainerFor('amsgrad-state', { kind: 'adam', lr: 0.05, amsgrad: true });
    trainer.step(X, T, B);
    expect(trainer.getState().map((t) => t.name.split('/').pop()).sort()).toEqual(['m', 'v', 'v_max']);
  });

  it('the returned loss is the MSE before the update', async () => {
    const trainer = await trainerFor('loss-check', { kind: 'sgd', lr: 0.1 });
    const w = Array.from(W0);
    let want = 0;
    for (let b = 0; b < B; b++) {
      let y = 0;
      for (let i = 0; i < F; i++) y += X[b * F + i] * w[i];
      want += (y - T[b]) ** 2 / B;
    }
    expect([trainer.step(X, T, B)]).toBeAllclose([want], { rtol: 1e-5 });
  });

  it('a learning rate set between steps is used by the next step', async () => {
    const trainer = await trainerFor('lr-change', { kind: 'sgd', lr: 0.1 });
    trainer.lr = 0.03;
    trainer.step(X, T, B);
    const g = mseGrad(Array.from(W0));
    expect(trainer.getWeights()[0].data).toBeAllclose(Array.from(W0, (w, i) => w - 0.03 * g[i]), { rtol: 1e-5, atol: 1e-6 });
  });

  it('adam resumes from saved weights, state and step count as if never interrupted', async () => {
    const spec: OptimizerSpec = { kind: 'adam', lr: 0.05 };
    const { mod, trainer: first } = await moduleFor('resume', spec);
    first.step(X, T, B);
    first.step(X, T, B);
    const weights = Object.fromEntries(first.getWeights().map((w) => [w.name, Float32Array.from(w.data)]));
    const state = Object.fromEntries(first.getState().map((s) => [s.name, Float32Array.from(s.data)]));
    expect(Object.keys(state)).toHaveLength(2); // Adam's m and v
    const second = mod.createTrainer({ weights, state });
    second.steps = first.steps;
    const want = reference(spec, STEPS);
    for (let t = 2; t < STEPS; t++) {
      second.step(X, T, B);
      expect(second.getWeights()[0].data, `resumed step ${t + 1}`).toBeAllclose(want[t], { rtol: 1e-5, atol: 1e-6 });
    }
  });
});

describe('optimizer settings are checked', () => {
  const x = input([F]);
  const m = model({ name: 'opt_check', inputs: x, outputs: dense(x, 1, { useBias: false }) });
  const compile = (optimizer: unknown) => () => compileTrainer('optimizers', m.graph, { loss: { kind: 'mse' }, optimizer: optimizer as OptimizerSpec });
  for (const [label, optimizer, message] of [
    ['a setting of another optimizer', { kind: 'sgd', lr: 0.1, beta1: 0.9 }, "beta1 does not apply to sgd (it takes lr, momentum, dampening, nesterov, weightDecay, clipNorm, clipValue)"],
    ['amsgrad on rmsprop', { kind: 'rmsprop', lr: 0.1, amsgrad: true }, "amsgrad does not apply to rmsprop"],
    ['beta2 of 1', { kind: 'adam', lr: 0.1, beta2: 1 }, 'adam: beta2 must be a number in [0, 1), got 1'],
    ['a negative weight decay', { kind: 'adamw', lr: 0.1, weightDecay: -0.1 }, 'adamw: weightDecay must be a finite number ≥ 0, got -0.1'],
    ['nesterov without momentum', { kind: 'sgd', lr: 0.1, nesterov: true }, 'sgd: nesterov needs a momentum > 0'],
    ['nesterov with dampening', { kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true, dampening: 0.1 }, 'zero dampening'],
    ['a zero clip norm', { kind: 'sgd', lr: 0.1, clipNorm: 0 }, 'sgd: clipNorm must be a finite number > 0, got 0'],
    ['centered as a string', { kind: 'rmsprop', lr: 0.1, centered: 'yes' }, 'rmsprop: centered must be true or false'],
    ['an unknown kind', { kind: 'lion', lr: 0.1 }, 'unknown optimizer "lion" (expected one of sgd, adam, adamw, rmsprop, adagrad)'],
  ] as const) {
    it(`${label} is refused`, async () => {
      await expect(compile(optimizer)).rejects.toThrow(message);
    });
  }
});
