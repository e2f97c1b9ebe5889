// The Node half of the asynchronous API that the WebGPU suite (webgpu.test.ts) runs in the
// browser: on the JavaScript backend and on GPU.js's synchronous cpu backend, predictAsync,
// runAsync, getWeightsAsync, stepAsync and fitAsync give exactly what their synchronous forms
// give; `{ mode: 'webgpu' }` where there is no WebGPU (Node here) fails with a GpuError instead of
// falling back, and the synchronous API on such a device points to predictAsync.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { emitGpuJsModule } from '../../compiler/emit/gpujs/module.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { freshOutDir, importModule, loadExampleGraph, randomFloats, randomizeZeroTensors, ROOT } from '../e2e/helpers.ts';

type Arrays = Float32Array | Float64Array | Int32Array;
interface AnyModel {
  predict(x: Float32Array, batch: number): Arrays;
  predictAsync(x: Float32Array, batch: number): Promise<Arrays>;
  run(feeds: Record<string, Arrays>, batch: number): Record<string, Arrays>;
  runAsync(feeds: Record<string, Arrays>, batch: number): Promise<Record<string, Arrays>>;
  getWeights(): { name: string; data: Float32Array }[];
  getWeightsAsync(): Promise<{ name: string; data: Float32Array }[]>;
  backend?: string;
  ready?(): Promise<string>;
}
interface AnyTrainer {
  step(x: Float32Array, y: Int32Array, batch: number): number;
  stepAsync(x: Float32Array, y: Int32Array, batch: number): Promise<number>;
  getWeights(): { name: string; data: Float32Array }[];
  getWeightsAsync(): Promise<{ name: string; data: Float32Array }[]>;
  getStateAsync(): Promise<{ name: string; data: Float32Array }[]>;
  getState(): { name: string; data: Float32Array }[];
  save(): Uint8Array;
  saveAsync(): Promise<Uint8Array>;
  fit(d: object, o: object): { epochs: { loss: number; accuracy?: number; valLoss?: number; valMetrics?: object }[] };
  fitAsync(d: object, o: object): Promise<{ epochs: { loss: number; accuracy?: number; valLoss?: number; valMetrics?: object }[] }>;
  evaluate(d: object, batchSize?: number, metrics?: string[]): { loss: number; accuracy: number; metrics: object };
  evaluateAsync(d: object, batchSize?: number, metrics?: string[]): Promise<{ loss: number; accuracy: number; metrics: object }>;
}
interface AnyModule {
  createModel(w?: Uint8Array, o?: object): AnyModel;
  createTrainer(o: object): AnyTrainer;
}

const BACKENDS = [
  ['js', {}],
  ['gpujs', { mode: 'cpu' }],
] as const;

describe('the asynchronous API gives what the synchronous one does', () => {
  const modules = new Map<string, AnyModule>();
  let weights: Uint8Array;
  beforeAll(async () => {
    const out = freshOutDir('async-api');
    for (const [backend] of BACKENDS) {
      await compileCommand(path.join(ROOT, 'examples/mlp.ts'), { backend, out: path.join(out, backend), seed: 1, train: true });
      modules.set(backend, (await importModule(path.join(out, backend, 'mlp.mjs'))) as unknown as AnyModule);
    }
    weights = randomizeZeroTensors(readFileSync(path.join(out, 'js', 'mlp.weights.bin')), 3).bytes;
  }, 120_000);

  const batch = 4;
  const x = randomFloats(batch * 784, 8, 0, 1);
  const labels = Int32Array.from({ length: batch }, (_, i) => (i * 3) % 10);

  it.for(BACKENDS)('%s: predictAsync, runAsync and getWeightsAsync', async ([backend, options]) => {
    const model = modules.get(backend)!.createModel(weights, options);
    const want = model.predict(x, batch);
    expect(await model.predictAsync(x, batch)).toEqual(want);
    expect((await model.runAsync({ input: x }, batch)).output).toEqual(want);
    expect(await model.getWeightsAsync()).toEqual(model.getWeights());
  });

  it.for(BACKENDS)('%s: stepAsync follows step (losses, weights, optimizer state and saveAsync, exactly)', async ([backend, options]) => {
    const sync = modules.get(backend)!.createTrainer({ weights, ...options });
    const async = modules.get(backend)!.createTrainer({ weights, ...options });
    for (let s = 0; s < 3; s++) expect(await async.stepAsync(x, labels, batch)).toBe(sync.step(x, labels, batch));
    expect(await async.getWeightsAsync()).toEqual(sync.getWeights());
    expect(await async.getStateAsync()).toEqual(sync.getState());
    expect(await async.saveAsync()).toEqual(sync.save());
  });

  it.for(BACKENDS)('%s: fitAsync (through stepAsync) gives fit’s history and weights', async ([backend, options]) => {
    const count = 20;
    const data = { x: randomFloats(count * 784, 12, 0, 1), y: Int32Array.from({ length: count }, (_, i) => (i * 7) % 10), count };
    const fitOptions = { epochs: 2, batchSize: 6, metrics: ['accuracy'] };
    const sync = modules.get(backend)!.createTrainer({ weights, ...options });
    const async = modules.get(backend)!.createTrainer({ weights, ...options });
    const want = sync.fit(data, fitOptions);
    const got = await async.fitAsync(data, { ...fitOptions, yieldEvery: 1 });
    expect(got.epochs.map((e) => [e.loss, e.accuracy])).toEqual(want.epochs.map((e) => [e.loss, e.accuracy]));
    expect(await async.getWeightsAsync()).toEqual(sync.getWeights());
  });

  it.for(BACKENDS)('%s: evaluateAsync gives evaluate’s loss, accuracy and metrics exactly (a short last batch too); fitAsync validates through it', async ([backend, options]) => {
    const count = 11;
    const data = { x: randomFloats(count * 784, 21, 0, 1), y: Int32Array.from({ length: count }, (_, i) => (i * 5) % 10), count };
    const trainer = modules.get(backend)!.createTrainer({ weights, ...options });
    const want = trainer.evaluate(data, 4, ['accuracy', 'top3Accuracy']);
    const got = await trainer.evaluateAsync(data, 4, ['accuracy', 'top3Accuracy']);
    expect(got).toEqual(want);
    expect(want.loss).toBeGreaterThan(0);
    await expect(trainer.evaluateAsync({ ...data, count: 0, x: new Float32Array(0), y: new Int32Array(0) })).rejects.toThrow(/at least one sample/);
    // validationData in fitAsync: evaluated asynchronously at each epoch's end, as fit evaluates it.
    const fitOptions = { epochs: 2, batchSize: 5, metrics: ['accuracy'], validationData: data };
    const sync = modules.get(backend)!.createTrainer({ weights, ...options });
    const async = modules.get(backend)!.createTrainer({ weights, ...options });
    const history = sync.fit(data, fitOptions);
    const asyncHistory = await async.fitAsync(data, fitOptions);
    expect(asyncHistory.epochs.map((e) => [e.valLoss, e.valMetrics])).toEqual(history.epochs.map((e) => [e.valLoss, e.valMetrics]));
    expect(history.epochs[1].valLoss).toBeGreaterThan(0);
  });

  it("GPU.js { mode: 'webgpu' } without WebGPU is a GpuError, never a fall-back; its synchronous API points to predictAsync", async () => {
    const model = modules.get('gpujs')!.createModel(weights, { mode: 'webgpu' });
    expect(() => model.predict(x, batch)).toThrow(/'webgpu'.*asynchronous; use predictAsync/);
    await expect(model.predictAsync(x, batch)).rejects.toThrow(/GPU.js backend 'webgpu' was demanded but this platform has no WebGPU/);
    await expect(model.ready!()).rejects.toMatchObject({ name: 'GpuError' });
  });

  it("GPU.js { mode: 'async' } without WebGPU runs on a synchronous backend, reported after ready()", async () => {
    const model = modules.get('gpujs')!.createModel(weights, { mode: 'async' });
    const backend = await model.ready!();
    expect(['webasm', 'cpu']).toContain(backend);
    expect(model.backend).toBe(backend);
    const js = modules.get('js')!.createModel(weights);
    expect(await model.predictAsync(x, batch)).toBeAllclose(js.predict(x, batch), { rtol: 0, atol: 1e-5 });
    // Open and synchronous: predict works too.
    expect(model.predict(x, batch)).toBeAllclose(js.predict(x, batch), { rtol: 0, atol: 1e-5 });
  });

  it("emitGpuJsModule's wgsl hook fills the module's wgslKernels table; off WebGPU the table is ignored", async () => {
    const { program } = compileGraph(await loadExampleGraph('mlp'));
    const file = path.join(freshOutDir('async-api-wgsl'), 'mlp.mjs');
    // An override that leaves k0's output zero: if it ran on cpu, the predictions would change.
    writeFileSync(file, emitGpuJsModule(program, { graphHash: 'wgsl-hook' }, (k) => (k.name === 'k0' ? '() => undefined' : undefined)).js);
    const mod = (await importModule(file)) as unknown as AnyModule & { wgslKernels: Record<string, unknown> };
    expect(Object.keys(mod.wgslKernels)).toEqual(['k0']);
    expect(typeof mod.wgslKernels.k0).toBe('function');
    const model = mod.createModel(weights, { mode: 'cpu', allowForeignWeights: true });
    expect(model.predict(x, batch)).toEqual(modules.get('gpujs')!.createModel(weights, { mode: 'cpu' }).predict(x, batch));
  });
});
