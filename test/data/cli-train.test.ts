// `kiln train` run as a process on real files in a temp folder: --validation-data/--validation-labels
// (the reported validation loss against a naive loop over the saved weights), --normalize (equal to
// training on values normalised by the test), --stream (equal to loading), and a model file's
// data() and training exports (defaults taken, a flag given on the command line wins).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeWeights } from '../../runtime/weights.ts';
import { kiln, showRun } from '../e2e/helpers.ts';
import { f32Bytes, npyFile, put, tempDir } from './files.ts';

/** A linear model with 2 inputs and 1 output (MSE regression), written as a user's model file. */
const LINEAR = "import { layers, sequential } from 'kiln';\nexport default sequential({ name: 'lin', input: [2] }, [layers.dense(1)]);\n";

/** `n` samples: x on a grid of quarters in [0, 4), y = 0.5·x0 − x1 + 1 (all exact in float32). */
function samples(n: number, offset: number): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = ((i * 5 + offset) % 16) / 4;
    const b = ((i * 3 + 2 * offset) % 16) / 4;
    x.push(a, b);
    y.push(0.5 * a - b + 1);
  }
  return { x, y };
}

const npy = (dir: string, name: string, values: number[], shape: number[]) => put(dir, name, npyFile('<f4', shape, f32Bytes(values)));

/** The last epoch of a --history file. */
const lastEpoch = (file: string) => {
  const h = JSON.parse(readFileSync(file, 'utf8')) as { epochs: { valLoss?: number; loss: number }[] };
  return { count: h.epochs.length, last: h.epochs[h.epochs.length - 1] };
};

/** The kernel [2, 1] and bias [1] of the linear model in a saved trainer state. */
function linearWeights(file: string): { w: Float32Array; b: Float32Array } {
  const { tensors } = decodeWeights(new Uint8Array(readFileSync(file)));
  const params = tensors.filter((t) => !/\/(m|v|momentum|velocity|.*state.*)$/.test(t.name));
  const w = params.find((t) => t.shape.join() === '2,1');
  const b = params.find((t) => t.shape.join() === '1' && t !== w);
  if (!w || !b) throw new Error(`no [2,1] kernel and [1] bias among ${tensors.map((t) => `${t.name}[${t.shape}]`).join(', ')}`);
  return { w: w.data as Float32Array, b: b.data as Float32Array };
}

describe('kiln train with array files (CLI process)', () => {
  it('--validation-data/--validation-labels: validates on those files, says so once, and its loss is the naive MSE of the saved weights', async () => {
    const dir = tempDir('cli-val');
    put(dir, 'model.ts', LINEAR);
    const train = samples(64, 0);
    const val = samples(24, 7);
    npy(dir, 'x.npy', train.x, [64, 2]);
    npy(dir, 'y.npy', train.y, [64, 1]);
    npy(dir, 'vx.npy', val.x, [24, 2]);
    npy(dir, 'vy.npy', val.y, [24, 1]);
    const f = (n: string) => path.join(dir, n);
    const r = await kiln('train', f('model.ts'), '--data', f('x.npy'), '--labels', f('y.npy'), '--validation-data', f('vx.npy'), '--validation-labels', f('vy.npy'),
      '--loss', 'mse', '--optimizer', 'sgd', '--lr', '0.02', '--epochs', '2', '--batch-size', '16', '--save', f('w.bin'), '--history', f('h.json'), '--out', f('out'));
    expect(r.status, showRun(r)).toBe(0);
    expect(r.stdout).toContain(`training on 64 samples of ${f('x.npy')}, validating on the 24 samples of ${f('vx.npy')}:`);
    const { count, last } = lastEpoch(f('h.json'));
    expect(count).toBe(2);
    // Independent: y' = x·W + b over the 24 validation rows, mean of squared errors.
    const { w, b } = linearWeights(f('w.bin'));
    let sum = 0;
    for (let i = 0; i < 24; i++) {
      const pred = val.x[2 * i] * w[0] + val.x[2 * i + 1] * w[1] + b[0];
      sum += (pred - val.y[i]) ** 2;
    }
    expect(last.valLoss).toBeCloseTo(sum / 24, 4);
  }, 120_000);

  it('--validation-split: the run line names the held-out samples once', async () => {
    const dir = tempDir('cli-split');
    put(dir, 'model.ts', LINEAR);
    const train = samples(40, 1);
    npy(dir, 'x.npy', train.x, [40, 2]);
    npy(dir, 'y.npy', train.y, [40, 1]);
    const f = (n: string) => path.join(dir, n);
    const r = await kiln('train', f('model.ts'), '--data', f('x.npy'), '--labels', f('y.npy'), '--validation-split', '0.25', '--loss', 'mse', '--epochs', '1', '--batch-size', '10', '--out', f('out'));
    expect(r.status, showRun(r)).toBe(0);
    expect(r.stdout).toContain('training on 30 samples of');
    expect(r.stdout).toContain('validating on the last 10 (--validation-split 0.25):');
  }, 120_000);

  it('--normalize mean,std trains to the same bytes as data the test normalised itself', async () => {
    const dir = tempDir('cli-norm');
    put(dir, 'model.ts', LINEAR);
    const { x, y } = samples(48, 3);
    npy(dir, 'x.npy', x, [48, 2]);
    // (x − 2) / 4 by the formula: quarters in [0, 4) give exact float32 values.
    npy(dir, 'xn.npy', x.map((v) => (v - 2) / 4), [48, 2]);
    npy(dir, 'y.npy', y, [48, 1]);
    const f = (n: string) => path.join(dir, n);
    const common = ['--labels', f('y.npy'), '--loss', 'mse', '--epochs', '2', '--batch-size', '8', '--seed', '3'];
    const a = await kiln('train', f('model.ts'), '--data', f('x.npy'), '--normalize', '2,4', ...common, '--save', f('a.bin'), '--out', f('oa'));
    expect(a.status, showRun(a)).toBe(0);
    const b = await kiln('train', f('model.ts'), '--data', f('xn.npy'), ...common, '--save', f('b.bin'), '--out', f('ob'));
    expect(b.status, showRun(b)).toBe(0);
    expect(Buffer.compare(readFileSync(f('a.bin')), readFileSync(f('b.bin')))).toBe(0);
  }, 120_000);

  it('--stream reads the .npy in chunks and saves the same weight bytes as loading it', async () => {
    const dir = tempDir('cli-stream');
    put(dir, 'model.ts', LINEAR);
    const { x, y } = samples(200, 5);
    npy(dir, 'x.npy', x, [200, 2]);
    npy(dir, 'y.npy', y, [200, 1]);
    const f = (n: string) => path.join(dir, n);
    const common = ['--data', f('x.npy'), '--labels', f('y.npy'), '--loss', 'mse', '--epochs', '3', '--batch-size', '16', '--seed', '7', '--validation', '20'];
    const streamed = await kiln('train', f('model.ts'), ...common, '--stream', '--save', f('s.bin'), '--out', f('os'));
    expect(streamed.status, showRun(streamed)).toBe(0);
    expect(streamed.stdout).toContain('(read in chunks)');
    const loaded = await kiln('train', f('model.ts'), ...common, '--save', f('l.bin'), '--out', f('ol'));
    expect(loaded.status, showRun(loaded)).toBe(0);
    expect(loaded.stdout).not.toContain('(read in chunks)');
    expect(Buffer.compare(readFileSync(f('s.bin')), readFileSync(f('l.bin')))).toBe(0);
  }, 120_000);
});

/** A model file with data() and training exports, as a user writes one. */
const WITH_EXPORTS = (training: string) => `import { layers, sequential } from 'kiln';
export default sequential({ name: 'lin', input: [2] }, [layers.dense(1)]);
export function data({ seed }: { seed: number }) {
  const n = 40;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = ((i * 5 + seed) % 16) / 4;
    x[2 * i + 1] = ((i * 3) % 16) / 4;
    y[i] = 0.5 * x[2 * i] - x[2 * i + 1] + 1;
  }
  return { train: { x, y, count: n } };
}
export const training = ${training};
`;

describe("kiln train with a model file's data() and training exports (CLI process)", () => {
  it('takes the defaults without flags; a flag given wins even when it equals the CLI default', async () => {
    const dir = tempDir('cli-exports');
    const model = put(dir, 'model.ts', WITH_EXPORTS("{ epochs: 3, batchSize: 8, optimizer: 'sgd', lr: 0.05, loss: 'mse', metrics: ['mae'] }"));
    const f = (n: string) => path.join(dir, n);
    const plain = await kiln('train', model, '--history', f('h1.json'), '--out', f('o1'));
    expect(plain.status, showRun(plain)).toBe(0);
    expect(plain.stdout).toContain('--epochs 3, --batch-size 8, --optimizer sgd, --lr 0.05, --loss mse, --metrics mae');
    expect(plain.stdout).toContain('(sgd, lr 0.05, mse)');
    expect(plain.stdout).toContain('3 epochs of batch 8');
    const h1 = JSON.parse(readFileSync(f('h1.json'), 'utf8')) as { epochs: { metrics: Record<string, number>; lr: number }[] };
    expect(h1.epochs.length).toBe(3);
    expect(Object.keys(h1.epochs[0].metrics)).toEqual(['mae']);
    // --epochs 1 is also commander's default: given on the command line, it still wins.
    const flagged = await kiln('train', model, '--epochs', '1', '--lr', '0.01', '--history', f('h2.json'), '--out', f('o2'));
    expect(flagged.status, showRun(flagged)).toBe(0);
    expect(flagged.stdout).toContain('(sgd, lr 0.01, mse)');
    expect(flagged.stdout).toContain('1 epoch of batch 8');
    expect(flagged.stdout).not.toContain('--epochs 3');
    expect(JSON.parse(readFileSync(f('h2.json'), 'utf8')).epochs.length).toBe(1);
  }, 120_000);

  it('an unknown key or a wrong type in the training export is one line naming the file and the key', async () => {
    const dir = tempDir('cli-bad-export');
    const unknown = put(dir, 'unknown.ts', WITH_EXPORTS('{ epochs: 2, batch: 8 }'));
    const r1 = await kiln('train', unknown, '--out', path.join(dir, 'o'));
    expect(r1.status).not.toBe(0);
    expect(r1.stderr).toMatch(/unknown\.ts: its 'training' export has an unknown key 'batch' \(known: epochs, batchSize,/);
    const wrong = put(dir, 'wrong.ts', WITH_EXPORTS("{ epochs: '20' }"));
    const r2 = await kiln('train', wrong, '--out', path.join(dir, 'o'));
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/wrong\.ts: training\.epochs must be a positive integer, got '20'/);
    expect(r2.stderr.trim().split('\n').length).toBe(1);
  }, 120_000);
});

/** A dense layer over the last axis: [N, 3, 2] → [N, 3, 4] logits, one class per position. */
const PER_POSITION = "import { layers, sequential } from 'kiln';\nexport default sequential({ name: 'pos', input: [3, 2] }, [layers.dense(4)]);\n";

const i32 = (dir: string, name: string, values: number[], shape: number[]) => {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((v, i) => view.setInt32(i * 4, v, true));
  return put(dir, name, npyFile('<i4', shape, new Uint8Array(view.buffer)));
};

describe('kiln train with a class id per position (CLI process)', () => {
  it('trains [N, 3] int labels against [N, 3, 4] logits; the test accuracy per position is the naive argmax count of the saved weights', async () => {
    const dir = tempDir('cli-pos');
    put(dir, 'model.ts', PER_POSITION);
    // Class of a position: which quadrant (sign of each of its two values) it lies in.
    const make = (n: number, seed: number) => {
      const x: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < n * 3; i++) {
        const a = (((i * 7 + seed) % 9) - 4) / 4 || 0.25;
        const b = (((i * 5 + 3 * seed) % 11) - 5) / 4 || -0.25;
        x.push(a, b);
        y.push((a > 0 ? 1 : 0) + (b > 0 ? 2 : 0));
      }
      return { x, y };
    };
    const train = make(60, 1);
    const test = make(20, 2);
    npy(dir, 'x.npy', train.x, [60, 3, 2]);
    i32(dir, 'y.npy', train.y, [60, 3]);
    npy(dir, 'tx.npy', test.x, [20, 3, 2]);
    i32(dir, 'ty.npy', test.y, [20, 3]);
    const f = (n: string) => path.join(dir, n);
    const r = await kiln('train', f('model.ts'), '--data', f('x.npy'), '--labels', f('y.npy'), '--test-data', f('tx.npy'), '--test-labels', f('ty.npy'),
      '--from-logits', '--lr', '0.05', '--epochs', '3', '--batch-size', '10', '--save', f('w.bin'), '--json', '--out', f('out'));
    expect(r.status, showRun(r)).toBe(0);
    expect(r.stderr).toContain('test accuracy per position:');
    const reported = (JSON.parse(r.stdout) as { test: { accuracy: number } }).test.accuracy;
    const { tensors } = decodeWeights(new Uint8Array(readFileSync(f('w.bin'))));
    const w = tensors.find((t) => t.shape.join() === '2,4')!.data as Float32Array;
    const b = tensors.find((t) => t.shape.join() === '4')!.data as Float32Array;
    let correct = 0;
    for (let p = 0; p < 60; p++) {
      const logits = [0, 1, 2, 3].map((c) => test.x[2 * p] * w[c] + test.x[2 * p + 1] * w[4 + c] + b[c]);
      if (logits.indexOf(Math.max(...logits)) === test.y[p]) correct++;
    }
    expect(reported).toBeCloseTo(correct / 60, 10);
  }, 120_000);

  it('a class id out of range at a position is one line naming the sample and the position', async () => {
    const dir = tempDir('cli-pos-bad');
    put(dir, 'model.ts', PER_POSITION);
    npy(dir, 'x.npy', Array.from({ length: 12 }, (_, i) => i / 12), [2, 3, 2]);
    i32(dir, 'y.npy', [0, 1, 2, 3, 0, 4], [2, 3]);
    const r = await kiln('train', path.join(dir, 'model.ts'), '--data', path.join(dir, 'x.npy'), '--labels', path.join(dir, 'y.npy'), '--from-logits', '--out', path.join(dir, 'out'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('y.npy: label 1, position 2, is class 4, but the model has 4 classes (0..3)');
  }, 120_000);
});
