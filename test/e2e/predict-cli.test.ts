// kiln predict and kiln evaluate as processes on real files in a temp folder: a one-layer model
// whose weights the test sets, inputs as .npy, .csv and .json, outputs and losses checked against
// naive loops written here (and .npy read and written by hand, not by Kiln's reader).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, layers, sequential } from '../../api/index.ts';
import { encodeWeights } from '../../runtime/weights.ts';
import { kilnIn, showRun, type KilnRun } from './helpers.ts';
import { expectClose, npy, readNpy } from './npy.ts';

const MODEL = `import { layers, sequential } from 'kiln';
export default sequential({ name: 'affine', input: [3] }, [layers.dense(4, { name: 'fc' })]);
`;
/** Five samples of three features; W is 3×4, b has 4: logits z = x·W + b (no two within 0.05 of each other in a row). */
const X = [
  [1, 2, 3],
  [-1, 0.5, 2],
  [0, -2, 1],
  [4, 1, -1],
  [0.25, 0.75, -0.5],
];
const W = [
  [0.1, -0.2, 0.3, 0.0],
  [0.3, 0.4, -0.1, 0.2],
  [-0.5, 0.6, 0.05, -0.3],
];
const B = [0.05, -0.1, 0.15, 0];
const LABELS = [2, 1, 0, 0, 3];

const f32 = Math.fround;
const logits = X.map((x) => B.map((b, j) => x.reduce((s, xi, i) => s + xi * W[i][j], b)));
const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const argmax = (v: number[]) => v.indexOf(Math.max(...v));

describe('kiln predict and kiln evaluate', () => {
  let dir = '';
  const run = (...args: string[]) => kilnIn(dir, ...args);
  const ok = (r: KilnRun) => {
    expect(r.status, showRun(r)).toBe(0);
    return r;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-predict-'));
    writeFileSync(path.join(dir, 'affine.ts'), MODEL);
    // The weights by the layer's parameter names (fc/kernel 3×4, fc/bias 4), without a model identity.
    const tensors = [
      { name: 'fc/kernel', dtype: 'float32' as const, shape: [3, 4], data: Float32Array.from(W.flat()) },
      { name: 'fc/bias', dtype: 'float32' as const, shape: [4], data: Float32Array.from(B) },
    ];
    writeFileSync(path.join(dir, 'w.bin'), encodeWeights(tensors));
    writeFileSync(path.join(dir, 'x.npy'), npy(X.flat(), [5, 3]));
    writeFileSync(path.join(dir, 'x.csv'), 'a,b,c\n' + X.map((r) => r.join(',')).join('\n') + '\n');
    writeFileSync(path.join(dir, 'x.json'), JSON.stringify(X));
    writeFileSync(path.join(dir, 'labels.csv'), LABELS.join('\n') + '\n');
    writeFileSync(path.join(dir, 'targets.json'), JSON.stringify(logits.map((z) => z.map((v) => v + 0.5))));
    // A trainer's save() with these weights and Adam's state after no step: predict takes its weights only.
    const m = await compile(sequential({ name: 'affine', input: [3] }, [layers.dense(4, { name: 'fc' })]), { train: { optimizer: { kind: 'adam', lr: 1e-3 } } });
    const trainer = m.createTrainer({ weights: { 'fc/kernel': tensors[0].data, 'fc/bias': tensors[1].data } });
    writeFileSync(path.join(dir, 'trainer-state.bin'), trainer.save());
    writeFileSync(path.join(dir, 'other.bin'), encodeWeights(tensors, { model: 'someOtherModel', graphHash: 'f'.repeat(64) }));
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('predicts .npy into .npy, .csv into .csv and .json into .json: x·W + b, batch by batch', async () => {
    const runs = await Promise.all([
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.npy', '--output', 'y.npy', '--batch-size', '2'),
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.csv', '--output', 'y.csv'),
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.json', '--output', 'y.json'),
    ]);
    runs.forEach(ok);
    expect(runs[0].stdout).toContain('wrote y.npy: output float32[5, 4] for 5 samples of x.npy');
    const want = logits.flat().map(f32);
    const fromNpy = readNpy(readFileSync(path.join(dir, 'y.npy')));
    expect(fromNpy.shape).toEqual([5, 4]);
    expectClose(fromNpy.values, want);
    const csvRows = readFileSync(path.join(dir, 'y.csv'), 'utf8').trim().split('\n');
    expect(csvRows).toHaveLength(5);
    expectClose(csvRows.flatMap((r) => r.split(',').map(Number)), want);
    const json = JSON.parse(readFileSync(path.join(dir, 'y.json'), 'utf8')) as number[][];
    expect(json.map((r) => r.length)).toEqual([4, 4, 4, 4, 4]);
    expectClose(json.flat(), want);
  });

  it('prints the values, and the top-k classes with softmax probabilities of the logits (--json and text)', async () => {
    const [values, top, text] = await Promise.all([
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.csv', '--json'),
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.npy', '--top-k', '2', '--json'),
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.npy', '--top-k', '1'),
    ]);
    [values, top, text].forEach(ok);
    const v = JSON.parse(values.stdout) as { ok: boolean; command: string; count: number; output: { shape: number[] }; values: number[][] };
    expect([v.ok, v.command, v.count, v.output.shape]).toEqual([true, 'predict', 5, [5, 4]]);
    expectClose(v.values.flat(), logits.flat());
    const t = JSON.parse(top.stdout) as { topK: { classes: number[]; probabilities: number[] }[]; probabilities: string };
    expect(t.probabilities).toBe('softmax of logits');
    logits.forEach((z, i) => {
      const p = softmax(z);
      const order = [0, 1, 2, 3].sort((a, b) => p[b] - p[a]).slice(0, 2);
      expect(t.topK[i].classes).toEqual(order);
      expectClose(t.topK[i].probabilities, order.map((c) => p[c]));
    });
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    lines.forEach((l, i) => expect(l).toBe(`${i}: ${argmax(logits[i])} (${softmax(logits[i])[argmax(logits[i])].toFixed(4)})`));
  });

  it("takes a trainer's saved state as weights (the weights only); --scale and --normalize as in training", async () => {
    const [r, normalized] = await Promise.all([
      run('predict', 'affine.ts', '--weights', 'trainer-state.bin', '--input', 'x.json', '--json'),
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.json', '--scale', '2', '--normalize', '1,4', '--json'),
    ]);
    [r, normalized].forEach(ok);
    expectClose((JSON.parse(r.stdout) as { values: number[][] }).values.flat(), logits.flat());
    // Each value x becomes (2x - 1) / 4 before the model.
    const want = X.map((x) => B.map((b, j) => x.reduce((acc, xi, i) => acc + ((2 * xi - 1) / 4) * W[i][j], b)));
    expectClose((JSON.parse(normalized.stdout) as { values: number[][] }).values.flat(), want.flat());
  });

  it('evaluates cross-entropy from logits, accuracy and top-2 accuracy; and MSE/MAE against float targets', async () => {
    const [ce, mse, scaled] = await Promise.all([
      run('evaluate', 'affine.ts', '--weights', 'w.bin', '--data', 'x.npy', '--labels', 'labels.csv', '--metrics', 'top2Accuracy', '--json', '--batch-size', '2'),
      run('evaluate', 'affine.ts', '--weights', 'w.bin', '--data', 'x.json', '--labels', 'targets.json', '--loss', 'mse', '--metrics', 'mae,mse'),
      run('evaluate', 'affine.ts', '--weights', 'w.bin', '--data', 'x.csv', '--labels', 'labels.csv', '--scale', '2', '--json'),
    ]);
    [ce, mse, scaled].forEach(ok);
    const r = JSON.parse(ce.stdout) as { count: number; loss: number; accuracy: number; metrics: Record<string, number>; lossKind: string };
    const probs = logits.map(softmax);
    const wantLoss = probs.reduce((s, p, i) => s - Math.log(p[LABELS[i]]), 0) / 5;
    const wantAccuracy = probs.filter((p, i) => argmax(p) === LABELS[i]).length / 5;
    const wantTop2 = probs.filter((p, i) => [0, 1, 2, 3].sort((a, b) => p[b] - p[a]).slice(0, 2).includes(LABELS[i])).length / 5;
    expect(r.count).toBe(5);
    expect(r.lossKind).toBe('sparseCategoricalCrossEntropy (from logits)');
    expect(r.loss).toBeCloseTo(wantLoss, 5);
    expect(r.accuracy).toBeCloseTo(wantAccuracy, 6);
    expect(r.metrics.top2Accuracy).toBeCloseTo(wantTop2, 6);
    // --scale 2: the samples doubled before the model, as kiln train would feed them.
    const doubled = X.map((x) => softmax(B.map((b, j) => x.reduce((acc, xi, i) => acc + 2 * xi * W[i][j], b))));
    expect((JSON.parse(scaled.stdout) as { loss: number }).loss).toBeCloseTo(doubled.reduce((acc, p, i) => acc - Math.log(p[LABELS[i]]), 0) / 5, 4);
    // Targets are the logits + 0.5: every error is 0.5, so MSE 0.25 and MAE 0.5.
    expect(mse.stdout.trim()).toMatch(/^affine on 5 samples of x\.json: loss 0\.2500, accuracy [\d.]+, mae 0\.5000, mse 0\.2500 \(mse\)$/);
  });

  it('refuses a wrong input shape, another model’s weights, a wrong --top-k and missing labels in one line, exit 1', async () => {
    const runs = await Promise.all([
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'labels.csv'),
      run('predict', 'affine.ts', '--weights', 'other.bin', '--input', 'x.csv'),
      run('predict', 'affine.ts', '--weights', 'w.bin', '--input', 'x.csv', '--top-k', '5'),
      run('evaluate', 'affine.ts', '--weights', 'w.bin', '--data', 'x.csv', '--json'),
    ]);
    for (const r of runs) expect(r.status, showRun(r)).toBe(1);
    const line = (r: KilnRun) => {
      expect(r.stderr.trim().split('\n'), showRun(r)).toHaveLength(1);
      return r.stderr.trim();
    };
    expect(line(runs[0])).toBe("error: labels.csv: shape [5] does not fit the model's input 'input' float32[N, 3] (expected [count, 3])");
    expect(line(runs[1])).toMatch(/^error: other\.bin: this weight file belongs to another model, "someOtherModel" .*not to "affine"/);
    expect(line(runs[2])).toBe("error: --top-k 5 is more than the model's 4 classes");
    const failure = JSON.parse(runs[3].stdout) as { ok: boolean; command: string; error: { message: string; kind: string } };
    expect(failure).toMatchObject({ ok: false, command: 'evaluate', error: { kind: 'user', message: 'kiln evaluate needs the labels of x.csv: --labels <file> (.npy, .csv or .json)' } });
  });
});
