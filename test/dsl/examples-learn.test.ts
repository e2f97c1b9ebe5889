// The sequence examples learn: each is compiled with an Adam step and trained in-process on its
// own data() for a few hundred steps; the mean loss of the last steps must fall by a stated factor
// below the first steps'. (Full training, `kiln train examples/<name>.ts`, reaches the accuracy
// the files state.)
import { describe, expect, it } from 'vitest';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { compileTrainer } from '../train/helpers.ts';
import type { Model } from '../../src/index.ts';

interface Example {
  default: Model;
  data(o: { seed: number }): { train: { x: Float32Array | Int32Array; y: Float32Array | Int32Array; count: number } };
}

/** Trains `steps` batches; returns the mean loss of the first and of the last 20 steps. */
async function learn(name: string, ex: Example, steps: number, batch: number, lr: number): Promise<[number, number]> {
  const trainer = (await compileTrainer(`dsl-${name}`, ex.default.graph, { loss: { kind: 'sparseCategoricalCrossEntropy', fromLogits: true }, optimizer: { kind: 'adam', lr } })).createTrainer({ seed: 1 });
  const { train } = ex.data({ seed: 1 });
  const xPer = train.x.length / train.count;
  const yPer = train.y.length / train.count;
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const start = ((s * batch) % (train.count - batch));
    const x = train.x.slice(start * xPer, (start + batch) * xPer);
    const y = train.y.slice(start * yPer, (start + batch) * yPer);
    losses.push(trainer.step(x as Float32Array, y, batch));
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  return [mean(losses.slice(0, 20)), mean(losses.slice(-20))];
}

describe('sequence examples learn', () => {
  it('transformer-sort: 300 Adam steps cut the per-token cross-entropy at least 3×', async () => {
    resetLayerNames();
    const ex = (await import('../../examples/transformer-sort.ts')) as unknown as Example;
    const [first, last] = await learn('transformer-sort', ex, 300, 32, 2e-3);
    console.log(`transformer-sort: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    expect(first).toBeGreaterThan(1.5); // the loss sums the 8 positions: 8·ln 10 ≈ 18 untrained
    expect(last).toBeLessThan(first / 3);
  }, 300_000);

  it('conv1d-signal: 300 Adam steps cut the cross-entropy at least 5×', async () => {
    resetLayerNames();
    const ex = (await import('../../examples/conv1d-signal.ts')) as unknown as Example;
    const [first, last] = await learn('conv1d-signal', ex, 300, 32, 3e-3);
    console.log(`conv1d-signal: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
    expect(first).toBeGreaterThan(1); // about ln 4 at the start
    expect(last).toBeLessThan(first / 5);
  }, 300_000);
});
