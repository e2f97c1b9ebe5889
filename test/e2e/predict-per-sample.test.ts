// kiln predict on a model whose batch is not its first axis: PyTorch's sequence-first nn.LSTM
// (x [T, N, F] → y [T, N, H]) imported from ONNX per sample (Graph.batchAxes). The input file is in
// the model's layout, the output file too; printed values go by sample. Checked against the outputs
// PyTorch stored with the fixture (test/onnx/fixtures/make-pytorch-seq-batch.py), the .npy files
// written and read by hand. kiln evaluate refuses such a model in one line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kilnIn, ROOT, showRun, type KilnRun } from './helpers.ts';
import { expectClose, npy, readNpy } from './npy.ts';

const FIXTURE = fileURLToPath(new URL('../onnx/fixtures/torch-lstm-seq-first.onnx', import.meta.url));
const stored = JSON.parse(readFileSync(FIXTURE.replace(/\.onnx$/, '.json'), 'utf8')) as { x: number[]; xShape: number[]; y: number[]; yShape: number[] };
const [T, N, F] = stored.xShape;
const H = stored.yShape[2];

/** Element (t, n, k) of a [T, batch, K] array stored flat. */
const at = (a: readonly number[], batch: number, k: number, t: number, n: number, j: number) => a[(t * batch + n) * k + j];

/** A [T, order.length, K] array whose sample i is sample order[i] of `a` ([T, N, K]): samples picked along axis 1. */
function pick(a: readonly number[], k: number, order: readonly number[]): number[] {
  const out: number[] = [];
  for (let t = 0; t < T; t++) for (const n of order) for (let j = 0; j < k; j++) out.push(at(a, N, k, t, n, j));
  return out;
}

describe('kiln predict on a per-sample model (batch on axis 1, PyTorch sequence-first LSTM)', () => {
  let dir = '';
  let weights = '';
  const run = (...args: string[]) => kilnIn(dir, ...args);
  const ok = (r: KilnRun) => {
    expect(r.status, showRun(r)).toBe(0);
    return r;
  };
  // Four samples along axis 1: PyTorch's two, then the second and the first again.
  const ORDER = [0, 1, 1, 0];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-predict-per-sample-'));
    // The weight file kiln compile writes for the ONNX file (its initializers, as PyTorch saved them).
    const compiled = ok(await run('compile', FIXTURE, '--out', dir, '--json'));
    weights = (JSON.parse(compiled.stdout) as { files: Record<string, string> }).files.weights;
    writeFileSync(path.join(dir, 'x.npy'), npy(stored.x, stored.xShape));
    writeFileSync(path.join(dir, 'x4.npy'), npy(pick(stored.x, F, ORDER), [T, ORDER.length, F]));
    writeFileSync(path.join(dir, 'x4-doubled.npy'), npy(pick(stored.x, F, ORDER).map((v) => 2 * v), [T, ORDER.length, F]));
    writeFileSync(path.join(dir, 'batch-first.npy'), npy(stored.x, [N, T, F]));
    writeFileSync(path.join(dir, 'y.npy'), npy(stored.y, stored.yShape));
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("writes y [T, N, H] in the model's layout: PyTorch's outputs, whole and 3 samples a call (slices along axis 1)", async () => {
    const runs = await Promise.all([
      run('predict', FIXTURE, '--weights', weights, '--input', 'x.npy', '--output', 'y2.npy'),
      run('predict', FIXTURE, '--weights', weights, '--input', 'x4.npy', '--output', 'y4.npy', '--batch-size', '3'),
      // --scale as in training, applied to each sample wherever its values lie.
      run('predict', FIXTURE, '--weights', weights, '--input', 'x4-doubled.npy', '--output', 'y4s.npy', '--batch-size', '1', '--scale', '0.5'),
    ]);
    runs.forEach(ok);
    expect(runs[0].stdout.trim()).toBe(`wrote y2.npy: y float32[${T}, ${N}, ${H}] for ${N} samples of x.npy`);
    const y2 = readNpy(readFileSync(path.join(dir, 'y2.npy')));
    expect(y2.shape).toEqual(stored.yShape);
    expectClose(y2.values, stored.y);
    for (const file of ['y4.npy', 'y4s.npy']) {
      const y4 = readNpy(readFileSync(path.join(dir, file)));
      expect(y4.shape).toEqual([T, ORDER.length, H]);
      expectClose(y4.values, pick(stored.y, H, ORDER));
    }
  });

  it("without --weights, an ONNX file's own initializers: PyTorch's outputs; a model file without weights is a one-line error", async () => {
    const [own, dsl] = await Promise.all([run('predict', FIXTURE, '--input', 'x.npy', '--output', 'y-own.npy'), run('predict', path.join(ROOT, 'examples', 'mlp.ts'), '--input', 'x.npy')]);
    ok(own);
    expectClose(readNpy(readFileSync(path.join(dir, 'y-own.npy'))).values, stored.y);
    expect(dsl.status, showRun(dsl)).toBe(1);
    expect(dsl.stderr.trim()).toBe("error: kiln predict needs --weights <file>: model 'mlp' carries no weights of its own (an ONNX file does; a model file's come from kiln compile or kiln train --save)");
  });

  it('prints each sample\'s values (y[:, n, :], in order t, h) in --json', async () => {
    const r = ok(await run('predict', FIXTURE, '--weights', weights, '--input', 'x.npy', '--json', '--batch-size', '1'));
    const report = JSON.parse(r.stdout) as { count: number; output: { shape: number[] }; values: number[][] };
    expect(report.count).toBe(N);
    expect(report.output.shape).toEqual(stored.yShape);
    for (let n = 0; n < N; n++) {
      const want: number[] = [];
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) want.push(at(stored.y, N, H, t, n, j));
      expectClose(report.values[n], want);
    }
  });

  it('refuses a batch-first file, and kiln evaluate refuses the model, each in one line (exit 1)', async () => {
    const runs = await Promise.all([
      run('predict', FIXTURE, '--weights', weights, '--input', 'batch-first.npy'),
      run('evaluate', FIXTURE, '--weights', weights, '--data', 'x.npy', '--labels', 'y.npy'),
    ]);
    const line = (r: KilnRun) => {
      expect(r.status, showRun(r)).toBe(1);
      expect(r.stderr.trim().split('\n'), showRun(r)).toHaveLength(1);
      return r.stderr.trim();
    };
    expect(line(runs[0])).toBe(`error: batch-first.npy: shape [${N}, ${T}, ${F}] does not fit the model's input 'x' float32[${T}, N, ${F}] (expected [${T}, count, ${F}]: the batch on axis 1, as the model takes it)`);
    expect(line(runs[1])).toMatch(/^error: kiln evaluate needs the batch first; model '.*' has its batch on axis 1 \(compiled per sample, for inference only\)/);
  });
});
