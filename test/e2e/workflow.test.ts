// Issue 16's acceptance as a new user walks it: models and data of one's own in a temp folder,
// `kiln train` (AdamW, cosine, early stopping, validation split, history, curves, save), resume with
// --load, `kiln evaluate` on CSV, `kiln predict` on NPY, all as processes; every figure checked
// against naive loops written here from the weights read back, and one AdamW step and batch norm's
// running statistics against PyTorch's documented formulas, by hand.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWeights } from '../../runtime/weights.ts';
import { kilnIn, showRun, type KilnRun } from './helpers.ts';
import { expectClose, npy, readNpy } from './npy.ts';

const CLASSIFIER = `import { layers, sequential } from 'kiln';
export default sequential({ name: 'clf', input: [4] }, [
  layers.dense(8, { name: 'h', activation: 'relu' }),
  layers.dense(3, { name: 'logits' }),
]);
`;
/** A regression with batch norm; the first bias starts at 1 so the batch means are not all near 0. */
const REGRESSION = `import { layers, sequential } from 'kiln';
export default sequential({ name: 'reg', input: [3] }, [
  layers.dense(4, { name: 'fc', biasInitializer: 'ones' }),
  layers.batchNorm({ name: 'bn' }),
  layers.dense(1, { name: 'out' }),
]);
`;
/** One dense layer, for one AdamW step by hand. */
const SINGLE = `import { layers, sequential } from 'kiln';
export default sequential({ name: 'single', input: [3] }, [layers.dense(2, { name: 'fc', biasInitializer: 'ones' })]);
`;

type Matrix = number[][];

/** A seeded generator in [-1, 1) (an LCG: the test's data, independent of Kiln's RNG). */
function uniform(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  };
}
const rows = (n: number, width: number, next: () => number): Matrix => Array.from({ length: n }, () => Array.from({ length: width }, () => Math.fround(next())));

/** A weight file's tensors by name, as plain arrays. */
function tensorsOf(file: string): { byName: Record<string, number[]>; meta: Record<string, unknown> } {
  const { tensors, meta } = decodeWeights(readFileSync(file));
  return { byName: Object.fromEntries(tensors.map((t) => [t.name, Array.from(t.data as Float32Array)])), meta: meta as Record<string, unknown> };
}

/** x·W + b with W stored [in, out] row-major (Keras layout). */
const affine = (x: Matrix, w: number[], b: number[]): Matrix => x.map((r) => b.map((bj, j) => r.reduce((s, xi, i) => s + xi * w[i * b.length + j], bj)));
const relu = (m: Matrix): Matrix => m.map((r) => r.map((v) => Math.max(0, v)));
const softmax = (z: number[]) => {
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
/** Class ids by decreasing score. */
const ranked = (z: number[]) => z.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const column = (m: Matrix, j: number) => m.map((r) => r[j]);

/** Keras's EarlyStopping over a history's figures (mode min, min_delta 0): the epoch it stops after, if any. */
function earlyStopEpoch(values: number[], patience: number): number | undefined {
  let best = Infinity;
  let wait = 0;
  for (let e = 0; e < values.length; e++) {
    if (values[e] < best) {
      best = values[e];
      wait = 0;
    } else if (++wait >= patience) return e;
  }
  return undefined;
}

/** PyTorch's CosineAnnealingLR at epoch T: η_min + (η − η_min)(1 + cos(πT/T_max))/2. */
const cosine = (lr: number, t: number, tMax: number, etaMin = 0) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;

describe('issue 16: the training workflow as a user walks it', () => {
  let dir = '';
  const run = (...args: string[]) => kilnIn(dir, ...args);
  const ok = (r: KilnRun) => {
    expect(r.status, showRun(r)).toBe(0);
    return r;
  };
  const file = (f: string) => path.join(dir, f);

  // The classifier's data: 60 samples of 4 features, three classes from a simple rule.
  const X = rows(60, 4, uniform(1));
  const Y = X.map((x) => (x[0] + x[1] > 0.3 ? 2 : x[2] > 0 ? 1 : 0));
  // The regression's: 40 samples of 3 features, a linear target.
  const RX = rows(40, 3, uniform(7));
  const RY = RX.map((x) => Math.fround(0.5 * x[0] - x[1] + 0.25 * x[2] + 0.1));
  // The single dense layer's: 8 samples, 2 targets each.
  const AX = rows(8, 3, uniform(11));
  const AY = rows(8, 2, uniform(13));

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-workflow-'));
    writeFileSync(file('clf.ts'), CLASSIFIER);
    writeFileSync(file('reg.ts'), REGRESSION);
    writeFileSync(file('single.ts'), SINGLE);
    writeFileSync(file('x.npy'), npy(X.flat(), [60, 4], '<f4'));
    writeFileSync(file('y.npy'), npy(Y, [60], '<i4'));
    writeFileSync(file('x.csv'), X.map((r) => r.join(',')).join('\n') + '\n');
    writeFileSync(file('y.csv'), Y.join('\n') + '\n');
    writeFileSync(file('rx.csv'), 'a,b,c\n' + RX.map((r) => r.join(',')).join('\n') + '\n');
    writeFileSync(file('ry.csv'), 'target\n' + RY.join('\n') + '\n');
    writeFileSync(file('ax.npy'), npy(AX.flat(), [8, 3], '<f4'));
    writeFileSync(file('ay.npy'), npy(AY.flat(), [8, 2], '<f4'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains a classifier on .npy (AdamW, cosine, early stopping, validation split), resumes it, evaluates on .csv and predicts to .npy', async () => {
    const common = ['--data', 'x.npy', '--labels', 'y.npy', '--optimizer', 'adamw', '--weight-decay', '0.05', '--lr', '0.01', '--schedule', 'cosine', '--early-stop', '2', '--validation-split', '0.1', '--batch-size', '16', '--seed', '3'];
    const first = ok(await run('train', 'clf.ts', ...common, '--epochs', '4', '--history', 'h.json', '--curves', 'c.png', '--save', 's.bin', '--out', 'build1'));
    expect(first.stdout).toMatch(/training on 54 samples of x\.npy, validating on the last 6 \(--validation-split 0\.1\)/);
    const h = JSON.parse(readFileSync(file('h.json'), 'utf8'));
    const epochs = h.epochs.length;
    // Early stopping as Keras decides it from the run's own validation losses (patience 2).
    const stopAt = earlyStopEpoch(h.epochs.map((e: { valLoss: number }) => e.valLoss), 2);
    expect(epochs).toBe(stopAt === undefined ? 4 : stopAt + 1);
    if (stopAt !== undefined) expect(h.stopped.reason).toMatch(/^early stopping/);
    for (const [e, log] of h.epochs.entries()) {
      expect(log.epoch).toBe(e);
      expect(log.lr).toBeCloseTo(cosine(0.01, e, 4), 12);
      expect(Number.isFinite(log.valLoss) && Number.isFinite(log.metrics.accuracy) && Number.isFinite(log.valMetrics.accuracy)).toBe(true);
    }
    // 54 training samples in batches of 16: 4 steps an epoch.
    expect(tensorsOf(file('s.bin')).meta).toMatchObject({ steps: 4 * epochs, epochs });

    // The learning curves: a real PNG, with the training (blue) and validation (orange) lines drawn.
    const png = PNG.sync.read(readFileSync(file('c.png')));
    expect(png.width).toBeGreaterThan(100);
    const colours = new Set<number>();
    let blue = 0;
    let orange = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      if (b > r + 80 && b > g + 30) blue++;
      if (r > b + 120 && g > 60 && g < r - 40) orange++;
    }
    expect(colours.size).toBeGreaterThan(4);
    expect(blue).toBeGreaterThan(50);
    expect(orange).toBeGreaterThan(50);

    // Resume for 2 more epochs: it continues from the saved step and epoch, and its cosine ends with the run.
    const resumed = ok(await run('train', 'clf.ts', ...common, '--epochs', '2', '--load', 's.bin', '--history', 'h2.json', '--save', 's2.bin', '--out', 'build2'));
    expect(resumed.stdout).toMatch(new RegExp(`resuming from s\\.bin: step ${4 * epochs}, epoch ${epochs}`));
    const h2 = JSON.parse(readFileSync(file('h2.json'), 'utf8'));
    expect(h2.epochs.length).toBeGreaterThan(0);
    for (const [i, log] of h2.epochs.entries()) {
      expect(log.epoch).toBe(epochs + i);
      expect(log.lr).toBeCloseTo(cosine(0.01, epochs + i, epochs + 2), 12);
    }
    const state = tensorsOf(file('s2.bin'));
    expect(state.meta).toMatchObject({ steps: 4 * (epochs + h2.epochs.length), epochs: epochs + h2.epochs.length });

    // The naive forward pass of the resumed weights over every sample.
    const w = state.byName;
    const logits = affine(relu(affine(X, w['h/kernel'], w['h/bias'])), w['logits/kernel'], w['logits/bias']);
    const probs = logits.map(softmax);

    // --metrics before the model path: a comma-separated list, not a variadic one that swallows it.
    const evaluated = ok(await run('evaluate', '--metrics', 'accuracy,top2Accuracy', 'clf.ts', '--weights', 's2.bin', '--data', 'x.csv', '--labels', 'y.csv', '--json'));
    const report = JSON.parse(evaluated.stdout);
    expect(report.count).toBe(60);
    expect(report.loss).toBeCloseTo(mean(probs.map((p, n) => -Math.log(p[Y[n]]))), 4);
    expect(report.accuracy).toBeCloseTo(mean(logits.map((z, n) => (ranked(z)[0] === Y[n] ? 1 : 0))), 10);
    expect(report.metrics.top2Accuracy).toBeCloseTo(mean(logits.map((z, n) => (ranked(z).slice(0, 2).includes(Y[n]) ? 1 : 0))), 10);

    const predicted = ok(await run('predict', 'clf.ts', '--weights', 's2.bin', '--input', 'x.npy', '--output', 'p.npy', '--top-k', '2'));
    const p = readNpy(readFileSync(file('p.npy')));
    expect(p.shape).toEqual([60, 3]);
    expectClose(p.values, logits.flat(), 1e-4, 'p.npy');
    for (const [n, z] of logits.entries()) {
      const [a, b] = ranked(z);
      expect(predicted.stdout).toContain(`${n}: ${a} (${probs[n][a].toFixed(4)}), ${b} (${probs[n][b].toFixed(4)})`);
    }
    expect(predicted.stdout).toMatch(/wrote p\.npy: output float32\[60, 3\] for 60 samples of x\.npy/);
  }, 120_000);

  it('trains a batch-norm regression on .csv (mse, mae), then evaluates and predicts it against a naive inference pass', async () => {
    const trainArgs = ['train', 'reg.ts', '--data', 'rx.csv', '--labels', 'ry.csv', '--loss', 'mse', '--metrics', 'mae', '--optimizer', 'adam', '--lr', '0.05', '--epochs', '3', '--batch-size', '8', '--validation-split', '0.2', '--save', 'r.bin', '--out', 'build-reg'];
    ok(await run(...trainArgs));
    const w = tensorsOf(file('r.bin')).byName;
    // Inference mode: batch norm with its running statistics, epsilon 1e-5.
    const h = affine(RX, w['fc/kernel'], w['fc/bias']).map((r) => r.map((v, j) => w['bn/gamma'][j] * ((v - w['bn/movingMean'][j]) / Math.sqrt(w['bn/movingVariance'][j] + 1e-5)) + w['bn/beta'][j]));
    const out = affine(h, w['out/kernel'], w['out/bias']).map((r) => r[0]);
    const [evaluated, predicted] = await Promise.all([
      run('evaluate', 'reg.ts', '--weights', 'r.bin', '--data', 'rx.csv', '--labels', 'ry.csv', '--loss', 'mse', '--metrics', 'mae', '--json'),
      run('predict', 'reg.ts', '--weights', 'r.bin', '--input', 'rx.csv', '--output', 'rp.json'),
    ]);
    const report = JSON.parse(ok(evaluated).stdout);
    expect(report.loss).toBeCloseTo(mean(out.map((v, n) => (v - RY[n]) ** 2)), 4);
    expect(report.metrics.mae).toBeCloseTo(mean(out.map((v, n) => Math.abs(v - RY[n]))), 4);
    ok(predicted);
    const rp = JSON.parse(readFileSync(file('rp.json'), 'utf8')) as Matrix;
    expect(rp.map((r) => r.length)).toEqual(RX.map(() => 1));
    expectClose(rp.flat(), out, 1e-4, 'rp.json');
  }, 120_000);

  it('one AdamW step and one batch-norm step through the CLI equal PyTorch’s formulas by hand', async () => {
    const [c1, c2, adamw, bn] = await Promise.all([
      run('compile', 'single.ts', '--out', 'single0', '--seed', '5'),
      run('compile', 'reg.ts', '--out', 'reg0', '--seed', '5'),
      run('train', 'single.ts', '--data', 'ax.npy', '--labels', 'ay.npy', '--loss', 'mse', '--optimizer', 'adamw', '--lr', '0.1', '--weight-decay', '0.2', '--epochs', '1', '--batch-size', '8', '--seed', '5', '--save', 'a.bin', '--out', 'single1'),
      run('train', 'reg.ts', '--data', 'rx.csv', '--labels', 'ry.csv', '--loss', 'mse', '--optimizer', 'sgd', '--lr', '0.1', '--epochs', '1', '--batch-size', '40', '--seed', '5', '--save', 'b.bin', '--out', 'reg1'),
    ]);
    [c1, c2, adamw, bn].forEach(ok);

    // AdamW, t = 1 (torch.optim.AdamW): θ ← θ(1 − γλ); m = (1 − β1)g; v = (1 − β2)g²;
    // θ ← θ − γ·(m / (1 − β1)) / (√(v / (1 − β2)) + ε). g of the mean squared error over all 8×2 values.
    const init = tensorsOf(file('single0/single.weights.bin')).byName;
    const after = tensorsOf(file('a.bin')).byName;
    const pred = affine(AX, init['fc/kernel'], init['fc/bias']);
    const scale = 2 / (8 * 2);
    const gW = [0, 1, 2].flatMap((i) => [0, 1].map((j) => scale * AX.reduce((s, x, n) => s + x[i] * (pred[n][j] - AY[n][j]), 0)));
    const gB = [0, 1].map((j) => scale * AX.reduce((s, _, n) => s + (pred[n][j] - AY[n][j]), 0));
    const [lr, wd, b1, b2, eps] = [0.1, 0.2, 0.9, 0.999, 1e-8];
    const stepped = (theta: number[], g: number[]) => theta.map((t, k) => t * (1 - lr * wd) - (lr * (((1 - b1) * g[k]) / (1 - b1))) / (Math.sqrt(((1 - b2) * g[k] ** 2) / (1 - b2)) + eps));
    expectClose(after['fc/kernel/m'], gW.map((g) => (1 - b1) * g), 1e-6, 'kernel m');
    expectClose(after['fc/kernel/v'], gW.map((g) => (1 - b2) * g * g), 1e-8, 'kernel v');
    expectClose(after['fc/kernel'], stepped(init['fc/kernel'], gW), 1e-6, 'kernel');
    expectClose(after['fc/bias'], stepped(init['fc/bias'], gB), 1e-6, 'bias');

    // Batch norm, one training step over the whole batch (PyTorch's rule, Kiln's momentum 0.9 =
    // PyTorch's 0.1): running ← 0.9·running + 0.1·batch, with the batch's unbiased variance (n − 1).
    const r0 = tensorsOf(file('reg0/reg.weights.bin')).byName;
    const r1 = tensorsOf(file('b.bin')).byName;
    const pre = affine(RX, r0['fc/kernel'], r0['fc/bias']);
    const batchMean = [0, 1, 2, 3].map((j) => mean(column(pre, j)));
    const unbiased = [0, 1, 2, 3].map((j) => column(pre, j).reduce((s, v) => s + (v - batchMean[j]) ** 2, 0) / (40 - 1));
    expectClose(r1['bn/movingMean'], batchMean.map((m, j) => 0.9 * r0['bn/movingMean'][j] + 0.1 * m), 1e-5, 'running mean');
    expectClose(r1['bn/movingVariance'], unbiased.map((v, j) => 0.9 * r0['bn/movingVariance'][j] + 0.1 * v), 1e-5, 'running variance');
  }, 120_000);

  it('flags that do not fit are one line naming them, before any training', async () => {
    const data = ['--data', 'x.npy', '--labels', 'y.npy', '--epochs', '1', '--out', 'build-bad'];
    (await Promise.all([
      run('compile', 'single.ts', '--out', 'single-w'),
      run('train', 'single.ts', '--data', 'ax.npy', '--labels', 'ay.npy', '--loss', 'mse', '--epochs', '1', '--save', 'single-state.bin', '--out', 'single-t'),
    ])).forEach(ok);
    const runs = await Promise.all([
      run('train', 'clf.ts', ...data, '--load', 'single-state.bin'),
      run('train', 'clf.ts', ...data, '--load', 'single-w/single.weights.bin'),
      run('train', 'clf.ts', ...data, '--restore-best'),
      run('train', 'clf.ts', ...data, '--lr-factor', '0.5'),
      run('train', 'clf.ts', ...data, '--early-stop', '1', '--monitor', 'valLoss'),
    ]);
    const expected = [
      /^error: --load single-state\.bin: the trainer state of model 'single', not of 'clf'$/,
      /^error: --load single-w\/single\.weights\.bin: a weight file without a trainer state .*kiln train --save or a checkpoint$/,
      /^error: --restore-best applies with --early-stop <patience>$/,
      /^error: --lr-factor applies with --reduce-lr-on-plateau <patience>$/,
      /^error: --monitor valLoss needs validation data \(--validation <v>, --validation-split <fraction> or --validation-data <file>\)$/,
    ];
    for (const [i, r] of runs.entries()) {
      expect(r.status, showRun(r)).toBe(1);
      expect(r.stderr.trim(), showRun(r)).toMatch(expected[i]);
      expect(r.stdout).not.toMatch(/^epoch /m);
    }
  }, 120_000);
});
