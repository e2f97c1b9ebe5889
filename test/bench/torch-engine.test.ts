// The benchmark's PyTorch peer (bench/engines/torch.mjs → bench/torch/engine.py) run as bench/run.ts
// runs it: a spec and raw tensors in a temp folder, outputs checked against hand-written loops.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const engine = path.resolve(__dirname, '../../bench/engines/torch.mjs');
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-torch-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tensors: Record<string, { dtype: 'float32' | 'int32'; shape: number[] }> = {};
function put(key: string, shape: number[], values: number[], dtype: 'float32' | 'int32' = 'float32'): void {
  const data = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  writeFileSync(path.join(dir, `${key}.bin`), new Uint8Array(data.buffer));
  tensors[key] = { dtype, shape };
}

// A 2×2 product by hand, and a 4 → 3 → 2 MLP (kernels [in, out]) on a batch of 2.
put('mmA2', [2, 2], [1, 2, 3, 4]);
put('mmB2', [2, 2], [5, 6, 7, 8]);
const w1 = [0.5, -0.25, 0.1, -0.3, 0.2, 0.4, 0.05, 0.6, -0.5, 0.7, -0.1, 0.2];
const b1 = [0.1, -0.2, 0.05];
const w2 = [0.3, -0.6, -0.4, 0.25, 0.9, 0.1];
const b2 = [0.02, -0.03];
const x = [1, 0.5, -1, 2, 0.25, -0.75, 1.5, 0];
const y = [1, 0];
put('mlp.w1', [4, 3], w1); put('mlp.b1', [3], b1); put('mlp.w2', [3, 2], w2); put('mlp.b2', [2], b2);
put('x', [2, 4], x); put('y', [2], y, 'int32');

/** Softmax(relu(x·W1 + b1)·W2 + b2) row by row, and the mean cross-entropy against y. */
function naiveMlp(): { probs: number[]; loss: number } {
  const probs: number[] = [];
  let loss = 0;
  for (let r = 0; r < 2; r++) {
    const h = b1.map((b, j) => Math.max(0, b + [0, 1, 2, 3].reduce((s, i) => s + x[r * 4 + i] * w1[i * 3 + j], 0)));
    const z = b2.map((b, k) => b + h.reduce((s, hj, j) => s + hj * w2[j * 2 + k], 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e[0] + e[1];
    probs.push(...e.map((v) => v / sum));
    loss += -Math.log(e[y[r]] / sum) / 2;
  }
  return { probs, loss };
}

const workloads = [
  { id: 'mm2', title: 'matmul 2', kind: 'matmul', n: 2, batch: 1, unit: 'GFLOP/s' },
  { id: 'mlp-infer-b2', title: 'MLP inference', kind: 'infer', model: 'mlp', batch: 2, unit: 'samples/s' },
  { id: 'mlp-train-b2', title: 'MLP training step', kind: 'train', model: 'mlp', batch: 2, unit: 'steps/s' },
  { id: 'gru-infer-b2', title: 'a model it has no version of', kind: 'infer', model: 'gru', batch: 2, unit: 'samples/s' },
];

interface Result { engine: { name: string; version?: string }; results: Record<string, { check?: number[]; median?: number; unsupported?: string; error?: string }> }
function runEngine(mode: 'check' | 'time', env: Record<string, string> = {}, args: string[] = []): Result {
  const spec = path.join(dir, `spec-${mode}.json`);
  writeFileSync(spec, JSON.stringify({ dir, tensors, paramKeys: { mlp: ['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'] }, kiln: {}, quick: true, mode, workloads }));
  const r = spawnSync(process.execPath, [engine, spec, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) throw new Error(`no result line; stderr: ${r.stderr}`);
  return JSON.parse(line.slice(9)) as Result;
}

describe('bench PyTorch engine', () => {
  it('skips every workload with how to install PyTorch when no python has torch', () => {
    const r = runEngine('check', { KILN_BENCH_PYTHON: path.join(dir, 'no-such-python') });
    for (const w of workloads) expect(r.results[w.id].unsupported).toMatch(/PyTorch not found.*bench:setup -- --torch/);
  });

  it.skipIf(!hasTorch)('checks: the product, the MLP softmax outputs and its first loss as loops compute them', () => {
    const r = runEngine('check');
    expect(r.engine.name).toBe('torch');
    expect(r.engine.version).toMatch(/BLAS/);
    expect(r.results['mm2'].check).toEqual([19, 22, 43, 50]);
    const { probs, loss } = naiveMlp();
    const got = r.results['mlp-infer-b2'].check!;
    expect(got).toHaveLength(4);
    got.forEach((v, i) => expect(v).toBeCloseTo(probs[i], 6));
    const losses = r.results['mlp-train-b2'].check!;
    expect(losses).toHaveLength(3);
    expect(losses[0]).toBeCloseTo(loss, 6); // the loss before the first update
    expect(losses[2]).toBeLessThan(losses[0]); // Adam steps lower it
    expect(r.results['gru-infer-b2'].unsupported).toMatch(/no PyTorch version of model gru/);
  });

  it.skipIf(!hasTorch)('times: a median in seconds per call for every workload it runs, on 2 threads when asked', () => {
    const r = runEngine('time', {}, ['--threads', '2']);
    expect(r.engine.name).toBe('torch-2t');
    for (const id of ['mm2', 'mlp-infer-b2', 'mlp-train-b2']) expect(r.results[id].median).toBeGreaterThan(0);
  });
});
