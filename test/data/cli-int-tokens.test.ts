// `kiln train` run as a process on int32 token ids in .npy files (an embedding model with a class
// per position): the validation and test accuracy per position against a naive count over the
// saved weights; float inputs and --scale refused for an int32 input; a regression's test line
// gives its errors, not a threshold accuracy.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWeights } from '../../runtime/weights.ts';
import { kiln, showRun } from '../e2e/helpers.ts';
import { f32Bytes, npyFile, put, tempDir } from './files.ts';

/** Tokens [N, 3] in 0..4 → embedding(5, 2) → dense(4): logits [N, 3, 4]. */
const TOKENS = "import { layers, sequential } from 'kiln';\nexport default sequential({ name: 'tok', input: [3], dtype: 'int32' }, [layers.embedding(5, 2), layers.dense(4)]);\n";

const i32 = (dir: string, name: string, values: ArrayLike<number>, shape: number[]) => {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i], true);
  return put(dir, name, npyFile('<i4', shape, new Uint8Array(view.buffer)));
};

/** `n` samples of 3 tokens; a token's class is (token + position) mod 4. */
function tokens(n: number, seed: number): { x: number[]; y: number[] } {
  const x = Array.from({ length: n * 3 }, (_, i) => (i * 7 + seed * 3 + ((i * i) % 5)) % 5);
  return { x, y: x.map((t, i) => (t + (i % 3)) % 4) };
}

/** A saved parameter by name (the optimizer's moments carry the same shapes under other names). */
const param = (tensors: { name: string; data: unknown }[], name: string) => tensors.find((t) => t.name === name)!.data as Float32Array;

/** The fraction of positions whose argmax of table[token]·W + b is the label, in float64. */
function naiveAccuracy(file: string, data: { x: number[]; y: number[] }): number {
  const { tensors } = decodeWeights(new Uint8Array(readFileSync(file)));
  const names = tensors.map((t) => t.name);
  const [table, kernel, bias] = ['embeddings', 'kernel', 'bias'].map((k) => param(tensors, names.find((n) => n.endsWith(`/${k}`))!));
  let correct = 0;
  data.x.forEach((t, i) => {
    const z = [0, 1, 2, 3].map((c) => bias[c] + table[t * 2] * kernel[c] + table[t * 2 + 1] * kernel[4 + c]);
    if (z.indexOf(Math.max(...z)) === data.y[i]) correct++;
  });
  return correct / data.x.length;
}

describe('kiln train on int32 token ids (CLI process)', () => {
  it('trains from int32 .npy files; validation and test accuracy count per position, equal to the naive count of the saved weights', async () => {
    const dir = tempDir('cli-tokens');
    const f = (n: string) => path.join(dir, n);
    put(dir, 'model.ts', TOKENS);
    const [train, val, test] = [tokens(80, 1), tokens(11, 2), tokens(17, 3)];
    i32(dir, 'x.npy', train.x, [80, 3]);
    i32(dir, 'y.npy', train.y, [80, 3]);
    i32(dir, 'vx.npy', val.x, [11, 3]);
    i32(dir, 'vy.npy', val.y, [11, 3]);
    i32(dir, 'tx.npy', test.x, [17, 3]);
    i32(dir, 'ty.npy', test.y, [17, 3]);
    const r = await kiln('train', f('model.ts'), '--data', f('x.npy'), '--labels', f('y.npy'), '--validation-data', f('vx.npy'), '--validation-labels', f('vy.npy'),
      '--test-data', f('tx.npy'), '--test-labels', f('ty.npy'), '--from-logits', '--lr', '0.05', '--epochs', '3', '--batch-size', '8', '--save', f('w.bin'), '--history', f('h.json'), '--json', '--out', f('out'));
    expect(r.status, showRun(r)).toBe(0);
    const json = JSON.parse(r.stdout) as { test: { accuracy: number } };
    expect(json.test.accuracy).toBeCloseTo(naiveAccuracy(f('w.bin'), test), 10);
    const history = JSON.parse(readFileSync(f('h.json'), 'utf8')) as { epochs: { valMetrics: { accuracy: number } }[] };
    // The last epoch validates the final weights: 11 × 3 positions, not 11 whole samples.
    expect(history.epochs[2].valMetrics.accuracy).toBeCloseTo(naiveAccuracy(f('w.bin'), val), 10);
  }, 120_000);

  it('float inputs and --scale are refused for an int32 input, each in one line', async () => {
    const dir = tempDir('cli-tokens-bad');
    const f = (n: string) => path.join(dir, n);
    put(dir, 'model.ts', TOKENS);
    put(dir, 'x.npy', npyFile('<f4', [2, 3], f32Bytes([0, 1, 2, 3, 4, 0])));
    i32(dir, 'xi.npy', [0, 1, 2, 3, 4, 0], [2, 3]);
    i32(dir, 'y.npy', [0, 1, 2, 3, 0, 1], [2, 3]);
    const r1 = await kiln('train', f('model.ts'), '--data', f('x.npy'), '--labels', f('y.npy'), '--from-logits', '--out', f('o'));
    expect(r1.status).not.toBe(0);
    expect(r1.stderr.trim()).toBe(`error: ${f('x.npy')} holds float32[2, 3] but model 'tok' input 'input' takes int32 [N, 3] (integer ids, e.g. tokens): save the inputs as integers`);
    const r2 = await kiln('train', f('model.ts'), '--data', f('xi.npy'), '--labels', f('y.npy'), '--scale', '1/255', '--from-logits', '--out', f('o'));
    expect(r2.status).not.toBe(0);
    expect(r2.stderr.trim()).toBe("error: model 'tok' takes int32 inputs (integer ids): --scale and --normalize apply to float inputs only");
  }, 120_000);
});

describe('kiln train of a regression (CLI process)', () => {
  it("the test line gives MSE and MAE, and no epoch line shows a threshold 'val acc'", async () => {
    const dir = tempDir('cli-regression');
    const f = (n: string) => path.join(dir, n);
    put(dir, 'model.ts', "import { layers, sequential } from 'kiln';\nexport default sequential({ name: 'lin', input: [2] }, [layers.dense(1)]);\n");
    const xs = Array.from({ length: 40 }, (_, i) => ((i * 5) % 16) / 4);
    const ys = Array.from({ length: 20 }, (_, i) => 0.5 * xs[2 * i] - xs[2 * i + 1] + 1);
    put(dir, 'x.npy', npyFile('<f4', [20, 2], f32Bytes(xs)));
    put(dir, 'y.npy', npyFile('<f4', [20, 1], f32Bytes(ys)));
    const r = await kiln('train', f('model.ts'), '--data', f('x.npy'), '--labels', f('y.npy'), '--test-data', f('x.npy'), '--test-labels', f('y.npy'), '--loss', 'mse', '--validation', '4', '--epochs', '2', '--out', f('o'));
    expect(r.status, showRun(r)).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/test MSE \d+\.\d{4}, MAE \d+\.\d{4} \(20 test samples of /);
    expect(out).toMatch(/epoch 2\/2: loss /);
    expect(out).not.toMatch(/accuracy|val acc/);
  }, 120_000);
});
