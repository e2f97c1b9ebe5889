// An imported ONNX model can be fine-tuned: its initializers become trainable parameters that
// start from the file's values, and training steps on them lower the loss.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { exportCommand } from '../../cli/export.ts';
import { loadModel } from '../../cli/load.ts';
import { compileTrainer } from '../../cli/train.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { loadMnist } from '../../runtime/mnist.ts';

const out = path.resolve('test/.out/onnx-finetune');

describe('fine-tuning an imported ONNX model', () => {
  it('mlp: parameters start at the exported values and Adam steps lower the loss', async () => {
    const onnxFile = path.join(out, 'mlp.onnx');
    await compileCommand('examples/mlp.ts', { backend: 'js', out, seed: 9 });
    const exported = decodeWeights(readFileSync(path.join(out, 'mlp.weights.bin'))).tensors;
    await exportCommand('examples/mlp.ts', { onnx: onnxFile, seed: 9, opset: 17 });

    const model = await loadModel(onnxFile);
    const imported = Object.values(model.weights ?? {});
    expect(imported.length).toBe(exported.length);
    // Every exported parameter comes back, value for value, as a trainable parameter.
    for (const t of exported) expect(imported.some((w) => w.length === t.data.length && w.every((v, i) => v === t.data[i]))).toBe(true);

    const { trainer } = await compileTrainer(model.graph, { loss: { kind: 'sparseCategoricalCrossEntropy' }, optimizer: { kind: 'adam', lr: 1e-3 } }, path.join(out, 'train'), 1, undefined, model.weights);
    const data = loadMnist('train', { limit: 256 });
    const first = trainer.evaluate({ x: data.images, y: data.labels, count: data.count }).loss;
    trainer.fit({ x: data.images, y: data.labels, count: data.count }, { epochs: 3, batchSize: 32, seed: 1 });
    const after = trainer.evaluate({ x: data.images, y: data.labels, count: data.count }).loss;
    expect(after).toBeLessThan(first * 0.8);
  });
});
