// compile() as a script uses it: declare, compile, train and predict in one file, with no files
// written; outputs and one SGD step checked against naive loops written here.
import { describe, expect, it } from 'vitest';
import { compile, KilnError, layers, sequential } from '../../api/index.ts';
import type { Callback, EarlyStoppingOptions, EpochLog, FitControl, FitOptions, History, LossSpec, MonitorMode, OptimizerSpec, Schedule } from '../../api/index.ts';

/** y = x·W + b for a batch of rows (W is in×out, row-major). */
function affine(x: number[][], w: number[][], b: number[]): number[][] {
  return x.map((row) => b.map((bj, j) => row.reduce((s, xi, i) => s + xi * w[i][j], bj)));
}

const X = [
  [1, 2, 3],
  [-1, 0.5, 2],
  [0, -2, 1],
  [4, 1, -1],
];
const T = [
  [1, 0],
  [0, 1],
  [2, -1],
  [0.5, 0.5],
];
const W = [
  [0.1, -0.2],
  [0.3, 0.4],
  [-0.5, 0.6],
];
const B = [0.05, -0.1];

const flat = (m: number[][]) => Float32Array.from(m.flat());
const affineModel = () => sequential({ name: 'affine', input: [3] }, [layers.dense(2, { name: 'fc' })]);
/** The weights by the module's own parameter names (kernel 3×2 then bias). */
const weightsOf = (names: readonly string[], w: number[][], b: number[]) => Object.fromEntries(names.map((n) => [n, n.endsWith('kernel') ? flat(w) : Float32Array.from(b)]));

describe('compile() (in memory)', () => {
  it('returns a module whose createModel predicts x·W + b with the given weights', async () => {
    const m = await compile(affineModel());
    expect(m.modelName).toBe('affine');
    expect(m.backend).toBe('js');
    expect(m.inputs.map((i) => i.shape)).toEqual([['N', 3]]);
    expect(m.parameters.map((p) => p.shape)).toEqual([[3, 2], [2]]);
    const model = m.createModel(weightsOf(m.parameters.map((p) => p.name), W, B));
    const y = model.predict(flat(X), X.length);
    const expected = affine(X, W, B).flat();
    expect(Array.from(y).map((v, i) => v - expected[i]).every((d) => Math.abs(d) < 1e-6)).toBe(true);
    // No trainer without `train`.
    expect('createTrainer' in m).toBe(false);
    // Its initial weights are a weight file that createModel reads back.
    expect(m.createModel(m.weights).getWeights().map((t) => t.data.length)).toEqual([6, 2]);
  });

  it('trains: one SGD step on MSE moves W and b by lr × the hand-computed gradient', async () => {
    const lr = 0.1;
    const m = await compile(affineModel(), { train: { optimizer: { kind: 'sgd', lr }, loss: 'mse' }, seed: 3 });
    const names = m.parameters.map((p) => p.name);
    const trainer = m.createTrainer({ weights: weightsOf(names, W, B) });
    const loss = trainer.step(flat(X), flat(T), X.length);
    const y = affine(X, W, B);
    const n = X.length * 2;
    const diff = y.map((row, r) => row.map((v, j) => v - T[r][j]));
    expect(loss).toBeCloseTo(diff.flat().reduce((s, d) => s + d * d, 0) / n, 5);
    // dL/dW[i][j] = 2/n Σ_r diff[r][j]·x[r][i]; dL/db[j] = 2/n Σ_r diff[r][j]
    const w1 = W.map((row, i) => row.map((w, j) => w - lr * (2 / n) * X.reduce((s, x, r) => s + diff[r][j] * x[i], 0)));
    const b1 = B.map((b, j) => b - lr * (2 / n) * diff.reduce((s, d) => s + d[j], 0));
    const after = Object.fromEntries(trainer.getWeights().map((t) => [t.name, Array.from(t.data as Float32Array)]));
    const kernel = after[names.find((x) => x.endsWith('kernel'))!];
    const bias = after[names.find((x) => x.endsWith('bias'))!];
    w1.flat().forEach((v, i) => expect(kernel[i]).toBeCloseTo(v, 6));
    b1.forEach((v, i) => expect(bias[i]).toBeCloseTo(v, 6));
  });

  it('declares, compiles, fits and predicts a classifier in one go (auto loss), and the trained weights load into createModel', async () => {
    // Two separable classes: the first feature's sign.
    const n = 64;
    const x = new Float32Array(n * 2);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = i % 2 === 0 ? 1 : -1;
      x[2 * i] = s * (0.5 + (i % 7) / 7);
      x[2 * i + 1] = ((i * 37) % 11) / 11 - 0.5;
      labels[i] = s > 0 ? 1 : 0;
    }
    const net = sequential({ name: 'sign', input: [2] }, [layers.dense(8, { activation: 'relu' }), layers.dense(2, { activation: 'softmax' })]);
    const m = await compile(net, { train: { optimizer: { kind: 'adam', lr: 0.05 } }, seed: 1 });
    const trainer = m.createTrainer();
    const before = trainer.evaluate({ x, y: labels, count: n }).loss;
    trainer.fit({ x, y: labels, count: n }, { epochs: 20, batchSize: 16 });
    const after = trainer.evaluate({ x, y: labels, count: n });
    expect(after.loss).toBeLessThan(before / 2);
    const model = m.createModel(Object.fromEntries(trainer.getWeights().map((t) => [t.name, t.data as Float32Array])));
    const p = model.predict(x, n) as Float32Array;
    let correct = 0;
    for (let i = 0; i < n; i++) correct += (p[2 * i + 1] > p[2 * i] ? 1 : 0) === labels[i] ? 1 : 0;
    expect(correct).toBe(n);
    // The probabilities are a softmax: each row sums to 1.
    for (let i = 0; i < n; i++) expect(p[2 * i] + p[2 * i + 1]).toBeCloseTo(1, 5);
  });

  it('compiles for GPU.js too: the in-memory module (GPU.js in its CPU mode) predicts x·W + b', async () => {
    const m = await compile(affineModel(), { backend: 'gpujs' });
    expect(m.backend).toBe('gpujs');
    const model = m.createModel(weightsOf(m.parameters.map((p) => p.name), W, B), { mode: 'cpu' });
    const y = Array.from(await model.predict(flat(X), X.length));
    const expected = affine(X, W, B).flat();
    y.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it("a strict TypeScript user types the optimizer, loss, schedule, callbacks and history with kiln's own types (tsc checks this file)", async () => {
    const optimizer: OptimizerSpec = { kind: 'adamw', lr: 0.01, weightDecay: 0.01, clipNorm: 1 };
    // @ts-expect-error beta1 is an Adam setting: SGD's spec has no such key.
    const wrong: OptimizerSpec = { kind: 'sgd', lr: 0.1, beta1: 0.9 };
    expect(wrong.kind).toBe('sgd');
    const loss: LossSpec = { kind: 'mse' };
    const schedule: Schedule = { kind: 'step', gamma: 0.5, epochs: 1 };
    const mode: MonitorMode = 'min';
    const patience: EarlyStoppingOptions = { monitor: 'loss', patience: 3, mode };
    const seen: EpochLog[] = [];
    const stopAfterTwo: Callback = {
      onEpochEnd(log: EpochLog, control: FitControl) {
        seen.push(log);
        if (log.epoch === 1) control.stop('two epochs are enough');
      },
    };
    const options: FitOptions = { epochs: 5, batchSize: 2, shuffle: false, schedule, metrics: ['mse'], callbacks: [stopAfterTwo] };
    const m = await compile(affineModel(), { train: { optimizer, loss }, seed: 1 });
    const history: History = m.createTrainer().fit({ x: flat(X), y: flat(T), count: X.length }, options);
    expect(patience.patience).toBe(3);
    expect(history.stopped?.reason).toBe('two epochs are enough');
    expect(seen).toEqual(history.epochs);
    // StepLR with gamma 0.5 every epoch: 0.01, then 0.005.
    expect(history.epochs.map((e) => e.lr)).toEqual([0.01, 0.005]);
  });

  it('refuses what is not a model, an unknown backend or loss, and a train option without an optimizer, in one line', async () => {
    await expect(compile({} as never)).rejects.toThrow(KilnError);
    await expect(compile({} as never)).rejects.toThrow(/first argument must be a model made with model\(\) or sequential\(\)/);
    await expect(compile(affineModel(), { backend: 'wasm' as never })).rejects.toThrow("unknown backend 'wasm' (available: js, gpujs)");
    await expect(compile(affineModel(), { train: { optimizer: { kind: 'sgd', lr: 0.1 }, loss: 'hinge' as never } })).rejects.toThrow(/unknown loss 'hinge'/);
    await expect(compile(affineModel(), { train: {} as never })).rejects.toThrow(/train needs an optimizer/);
  });
});
