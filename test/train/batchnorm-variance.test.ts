// The running variance batch norm tracks in training, by hand on a batch of four: PyTorch's
// unbiased batch variance (Σ(x − x̄)²/(n − 1)) by default, Keras's biased one (/n) on request.
import { describe, expect, it } from 'vitest';
import { batchNorm, input, model } from '../../src/index.ts';
import { trainerFactory, weightRecord } from './trainer-support.ts';

// Two channels, four samples: channel 0 holds 1, 2, 3, 6 (mean 3, Σ(x − x̄)² = 4 + 1 + 0 + 9 = 14);
// channel 1 holds 0, 0, 4, 4 (mean 2, Σ(x − x̄)² = 16).
const X = Float32Array.from([1, 0, 2, 0, 3, 4, 6, 4]);
const MOMENTUM = 0.5;

async function movingVariance(name: string, runningVariance?: 'unbiased' | 'biased'): Promise<Float32Array> {
  const x = input([2], { name: 'x' });
  const y = batchNorm(x, { name: 'bn', momentum: MOMENTUM, ...(runningVariance ? { runningVariance } : {}) });
  const create = await trainerFactory('batchnorm-variance', model({ name, inputs: x, outputs: y }).graph, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0 } });
  const trainer = create({ seed: 1 });
  trainer.step(X, new Float32Array(8), 4);
  return weightRecord(trainer)['bn/movingVariance'];
}

describe('batch norm running variance', () => {
  it('default (PyTorch): 0.5·1 + 0.5·Σ(x − x̄)²/(n − 1) from the initial 1', async () => {
    expect(await movingVariance('bn_var_default')).toBeAllclose([0.5 + 0.5 * (14 / 3), 0.5 + 0.5 * (16 / 3)], { rtol: 1e-6 });
  });

  it("runningVariance 'unbiased' is the default spelled out", async () => {
    expect(await movingVariance('bn_var_unbiased', 'unbiased')).toBeAllclose([0.5 + 0.5 * (14 / 3), 0.5 + 0.5 * (16 / 3)], { rtol: 1e-6 });
  });

  it("runningVariance 'biased' (Keras): Σ(x − x̄)²/n", async () => {
    expect(await movingVariance('bn_var_biased', 'biased')).toBeAllclose([0.5 + 0.5 * (14 / 4), 0.5 + 0.5 * (16 / 4)], { rtol: 1e-6 });
  });

  it('a bad runningVariance is refused by the attribute check', () => {
    const x = input([2]);
    expect(() => batchNorm(x, { runningVariance: 'bessel' as 'biased' })).toThrow(/runningVariance/);
  });
});
