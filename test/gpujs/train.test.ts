// Training on the GPU.js backend (webasm: float32, as on a GPU) against the JavaScript backend:
// the same MLP, seed, data and batches reach the same MNIST test accuracy within half a point,
// and a trainer's save/load round trip resumes identically on the device.
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../runtime/mnist.ts';
import { compileTrainer, mnistLabels } from '../../cli/train.ts';
import type { EmittedTrainer } from '../../cli/train-run.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { freshOutDir, loadExampleGraph } from '../e2e/helpers.ts';

describe('GPU.js trainer (webasm) on MNIST', () => {
  it('reaches the JS backend test accuracy within 0.5 points (MLP, 6,000 images, one epoch)', async () => {
    const graph = await loadExampleGraph('mlp');
    const loss = resolveLoss(graph, 'auto');
    const training = { loss, optimizer: resolveOptimizer('adam', 1e-3) };
    const train = loadMnist('train', { limit: 6000 });
    const test = loadMnist('test', { limit: 2000 });
    const fitAndTest = async (trainer: EmittedTrainer) => {
      trainer.fit({ x: train.images, y: mnistLabels(loss, train.labels), count: train.count }, { epochs: 1, batchSize: 32, seed: 3 });
      return trainer.evaluate({ x: test.images, y: test.labels, count: test.count }).accuracy;
    };
    const js = await compileTrainer(graph, training, freshOutDir('gpujs-train-js'), 5);
    const gpu = await compileTrainer(graph, training, freshOutDir('gpujs-train-gpu'), 5, undefined, undefined, { backend: 'gpujs', gpu: 'webasm' });
    expect(gpu.trainer.backend).toBe('webasm');
    const [a, b] = [await fitAndTest(js.trainer), await fitAndTest(gpu.trainer)];
    console.log(`[MNIST MLP, 6,000 images, 1 epoch] JS ${a}, GPU.js webasm ${b}`);
    expect(a).toBeGreaterThan(0.8); // it learned (chance is 0.1)
    expect(Math.abs(a - b)).toBeLessThanOrEqual(0.005);
  });

  it('save and load resume training exactly on the device', async () => {
    const graph = await loadExampleGraph('cnn-small');
    const training = { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) };
    const { trainer } = await compileTrainer(graph, training, freshOutDir('gpujs-resume'), 2, undefined, undefined, { backend: 'gpujs', gpu: 'webasm' });
    const data = loadMnist('train', { limit: 64 });
    const [x, y] = [data.images.subarray(0, 16 * 784), data.labels.subarray(0, 16)];
    const t = trainer as EmittedTrainer & { step(x: Float32Array, y: Int32Array, n: number): number; load(b: Uint8Array): void };
    t.step(x, y, 16);
    const saved = t.save();
    const after = [t.step(x, y, 16), t.step(x, y, 16)];
    t.load(saved);
    expect([t.step(x, y, 16), t.step(x, y, 16)]).toEqual(after);
  });
});
