// A run-time error inside a kernel names the kernel and the layers it came from, keeps its class,
// and shows in the stack Node prints; each failure here is a real one, not a thrown stand-in.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { ThreadPool } from '../../runtime/parallel.ts';
import { freshOutDir, loadExampleGraph } from '../e2e/helpers.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { layers, sequential } from '../../src/dsl/sequential.ts';

type Arrays = Float32Array | Int32Array;
interface GpuModule {
  manifest: { trainerKernels: { name: string; layers: string[] }[] };
  createModel(w: Uint8Array, o: object): { predict(x: Float32Array, batch: number): Float32Array; params: unknown[] };
  createTrainer(o: object): { step(x: Arrays, y: Arrays, batch: number): number };
}

async function load<T>(dir: string, name: string, js: string): Promise<T> {
  const file = path.join(dir, name);
  writeFileSync(file, js);
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as T;
}

const caught = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('a kernel that throws at run time', () => {
  it('js: a ThreadPool worker that cannot import the module (its file removed after createModel) names k0 and dense_1', async () => {
    const graph = await loadExampleGraph('mlp');
    const c = compileModel(graph);
    const dir = freshOutDir('kernel-errors-pool');
    mkdirSync(dir, { recursive: true });
    const mod = await load<{ createModel(w: Uint8Array, o: object): { predict(x: Float32Array, b: number): Float32Array } }>(dir, 'mlp.mjs', c.js);
    // threshold 0: every kernel that can split runs half of its loop on the worker, which imports
    // the module on its first job, after the file is gone.
    const pool = new ThreadPool({ threshold: 0 });
    try {
      const model = mod.createModel(c.weights, { pool });
      rmSync(path.join(dir, 'mlp.mjs'));
      const e = caught(() => model.predict(new Float32Array(784 * 64), 64));
      expect(e.name).toBe('PoolError');
      expect(e.message).toMatch(/^kernel k0 \(layers dense_1\) failed: worker thread: Cannot find module .*mlp\.mjs/);
      // The stack Node prints for an uncaught error says it once.
      expect(e.stack!.split('\n')[0]).toBe(`PoolError: ${e.message}`);
    } finally {
      await pool.close();
    }
  });

  it("js: a kernel inside a loop body (an LSTM step's product, the only kernel big enough to split) is named, not the kernel the loop follows", async () => {
    // LSTM(32) over 4 steps of 1 feature: per call at batch 64, the step's h·U is 64·128·32 multiply-adds,
    // every other kernel (the input projection 64·4·128·1 included) under 40,000: only it splits at 100,000.
    const graph = sequential({ name: 'lstm_small', input: [4, 1] }, [layers.lstm(32), layers.dense(1)]).graph;
    const c = compileModel(graph);
    const loop = compileGraph(graph).program.schedule.find((s) => s.kind === 'loop');
    if (loop?.kind !== 'loop') throw new Error('expected a loop');
    const bodyNames = loop.loop.body.flatMap((s) => (s.kind === 'kernel' ? [s.kernel.name] : []));
    const dir = freshOutDir('kernel-errors-loop');
    const mod = await load<{ manifest: { kernels: { name: string; ops: string }[] }; createModel(w: Uint8Array, o: object): { predict(x: Float32Array, b: number): Float32Array } }>(dir, 'lstm.mjs', c.js);
    const pool = new ThreadPool({ threshold: 100_000 });
    try {
      const model = mod.createModel(c.weights, { pool });
      rmSync(path.join(dir, 'lstm.mjs'));
      const e = caught(() => model.predict(new Float32Array(64 * 4), 64));
      const m = /^kernel (\w+) \(layers lstm_1\) failed: worker thread: Cannot find module /.exec(e.message);
      expect(m, e.message).not.toBeNull();
      expect(bodyNames).toContain(m![1]);
      expect(mod.manifest.kernels.find((k) => k.name === m![1])!.ops).toMatch(/^matmul/);
    } finally {
      await pool.close();
    }
  });

  it('gpujs: a parameter replaced by null on the device fails in the kernel of the layer reading it (k2, dense_3), not the first', async () => {
    const c = compileModel(await loadExampleGraph('mlp'), { backend: 'gpujs' });
    const mod = await load<GpuModule>(freshOutDir('kernel-errors-gpujs'), 'mlp.mjs', c.js);
    const model = mod.createModel(c.weights, { mode: 'cpu' });
    // mlp: dense_1, dense_2, dense_3 (784→64→64→10) are k0, k1, k2 (softmax follows); the last parameter is dense_3's bias.
    model.params[model.params.length - 1] = null;
    const e = caught(() => model.predict(new Float32Array(784 * 2), 2));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/^kernel k2 \(layers dense_3\) failed: /);
  });

  it("gpujs: a batch above maxBatch keeps GPU.js's GpuError class; in the training step it names the step's kernel t0", async () => {
    const graph = await loadExampleGraph('mlp');
    const c = compileModel(graph, { backend: 'gpujs', training: { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('sgd', 0.1) } });
    const mod = await load<GpuModule>(freshOutDir('kernel-errors-gpujs-train'), 'mlp.mjs', c.js);
    const model = mod.createModel(c.weights, { mode: 'cpu', maxBatch: 4 });
    const e = caught(() => model.predict(new Float32Array(784 * 8), 8));
    expect(e.name).toBe('GpuError');
    expect(e.message).toBe("kernel k0 (layers dense_1) failed: batch 8 is above this model's maxBatch (4); create it with a larger { maxBatch }");
    const trainer = mod.createTrainer({ weights: c.weights, mode: 'cpu', maxBatch: 2 });
    const t = caught(() => trainer.step(new Float32Array(784 * 4), new Int32Array(4), 4));
    const t0 = mod.manifest.trainerKernels[0];
    expect(t0.name).toBe('t0');
    expect(t.message).toBe(`kernel t0 (layers ${t0.layers.join(', ')}) failed: batch 4 is above this model's maxBatch (2); create it with a larger { maxBatch }`);
  });
});
