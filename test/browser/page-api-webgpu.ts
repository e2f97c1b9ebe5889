// What the WebGPU browser tests call in the page (bundled with the emitted GPU.js modules): the
// asynchronous API on a demanded backend, with plain arrays in and out.
import { fromBase64 } from 'kiln/runtime';
import { GpuDevice, softwareAdapter, type WgslDevice, type WgslOverride } from 'kiln/runtime/gpujs';

/** The MLP's first kernel (dense 784→64 + ReLU) written by hand in WGSL, for the override seam. */
const DENSE1_WGSL = `
@group(0) @binding(0) var<storage, read> x : array<f32>;
@group(0) @binding(1) var<storage, read> w : array<f32>;
@group(0) @binding(2) var<storage, read> b : array<f32>;
@group(0) @binding(3) var<storage, read_write> y : array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid : vec3<u32>) {
  let i = gid.x;
  if (i >= arrayLength(&y)) { return; }
  let row = i / 64u;
  let col = i % 64u;
  var acc = 0.0;
  for (var k = 0u; k < 784u; k++) { acc += x[row * 784u + k] * w[k * 64u + col]; }
  y[i] = max(acc + b[col], 0.0);
}`;

/** An override of kernel k0 that counts its calls. */
function dense1Override(): { override: WgslOverride; calls: () => number } {
  let calls = 0;
  let pipeline: unknown;
  const override: WgslOverride = (device: WgslDevice, batch, inputs, output) => {
    calls++;
    pipeline ??= device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: DENSE1_WGSL }), entryPoint: 'main' } });
    const p = pipeline as { getBindGroupLayout(i: number): unknown };
    const group = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries: [...inputs, output].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(p);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(batch);
    pass.end();
    device.queue.submit([encoder.finish()]);
  };
  return { override, calls: () => calls };
}

type Arrays = Record<string, Float32Array | Float64Array | Int32Array>;
interface AsyncModel {
  ready(): Promise<string>;
  predictAsync(x: Float32Array, batch: number): Promise<Float32Array>;
  runAsync(feeds: Arrays, batch: number): Promise<Arrays>;
  predict(x: Float32Array, batch: number): Float32Array;
  backend: string;
  device: { wgslCalls: Map<string, number> };
  destroy(): void;
}
interface AsyncTrainer {
  stepAsync(x: Float32Array, y: Int32Array, batch: number): Promise<number>;
  getWeightsAsync(): Promise<{ name: string; data: Float32Array }[]>;
  saveAsync(): Promise<Uint8Array>;
  fitAsync(data: { x: Float32Array; y: Int32Array; count: number }, options: object): Promise<{ epochs: { loss: number; valLoss?: number }[] }>;
  evaluateAsync(data: { x: Float32Array; y: Int32Array; count: number }, batchSize?: number, metrics?: string[]): Promise<{ loss: number; accuracy: number; metrics: Record<string, number> }>;
  backend: string;
}
export interface AsyncModule {
  createModel(weights?: Uint8Array, options?: { mode?: string; wgsl?: Record<string, WgslOverride> | false }): AsyncModel;
  createTrainer?(options: { weights?: Uint8Array; mode?: string; device?: GpuDevice }): AsyncTrainer;
  /** The module's manifest: `wgslKernels` names the kernels that run Kiln's WGSL on WebGPU. */
  manifest: { wgslKernels?: string[] };
}

/** Feeds sent as plain arrays, by name, with their array type. */
export type PlainFeeds = Record<string, { type: 'Float32Array' | 'Float64Array' | 'Int32Array'; values: number[] }>;

const ARRAYS = { Float32Array, Float64Array, Int32Array };
const toArrays = (feeds: PlainFeeds): Arrays => Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, ARRAYS[v.type].from(v.values)]));
const plain = (out: Arrays) => Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v)]));

export function install(models: Record<string, AsyncModule>, gradModules: Record<string, AsyncModule>): void {
  const api = {
    /** The adapter WebGPU offers here, or null. */
    async adapter(): Promise<string | null> {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor: string; architecture: string; description: string } } | null> } }).gpu;
      const adapter = gpu ? await gpu.requestAdapter() : null;
      if (!adapter) return null;
      const info = adapter.info;
      return info ? `${info.vendor} ${info.architecture} ${info.description}`.trim() || 'unnamed adapter' : 'unnamed adapter';
    },
    /** What the runtime's shader choice (`byAdapter`) makes of this browser's device: CPU adapter or GPU. */
    async softwareAdapter(): Promise<boolean> {
      const gpu = (navigator as unknown as { gpu: { requestAdapter(): Promise<{ requestDevice(): Promise<WgslDevice & { destroy(): void }> }> } }).gpu;
      const device = await (await gpu.requestAdapter()).requestDevice();
      try {
        return softwareAdapter(device);
      } finally {
        device.destroy();
      }
    },
    /** Each model's predictions for each call in turn (one model instance per name). */
    async predict(jobs: { name: string; weights: string; calls: { x: number[]; batch: number }[] }[], mode: string) {
      const results: { name: string; backend: string; outputs: number[][]; ms: number; wgsl: string[]; wgslCalls: Record<string, number> }[] = [];
      for (const job of jobs) {
        const started = performance.now();
        const model = models[job.name].createModel(fromBase64(job.weights), { mode });
        await model.ready();
        const outputs: number[][] = [];
        for (const c of job.calls) outputs.push(Array.from(await model.predictAsync(Float32Array.from(c.x), c.batch)));
        const wgsl = models[job.name].manifest.wgslKernels ?? [];
        results.push({ name: job.name, backend: model.backend, outputs, ms: performance.now() - started, wgsl, wgslCalls: Object.fromEntries(model.device.wgslCalls) });
        model.destroy();
      }
      return results;
    },
    /** `steps` asynchronous training steps on one batch: the losses and the final weights. */
    async train(name: string, weights: string, mode: string, x: number[], labels: number[], batch: number, steps: number) {
      // A device of our own, to see which kernels ran as WGSL.
      const device = new GpuDevice({ mode: mode as 'webgpu' });
      const trainer = models[name].createTrainer!({ weights: fromBase64(weights), mode, device });
      const losses: number[] = [];
      for (let s = 0; s < steps; s++) losses.push(await trainer.stepAsync(Float32Array.from(x), Int32Array.from(labels), batch));
      const weightsOut = Object.fromEntries((await trainer.getWeightsAsync()).map((w) => [w.name, Array.from(w.data)]));
      return { backend: trainer.backend, losses, weights: weightsOut, saved: Array.from(await trainer.saveAsync()), wgsl: models[name].manifest.wgslKernels ?? [], wgslCalls: Object.fromEntries(device.wgslCalls) };
    },
    /** One epoch of fitAsync (no shuffle) validated on the same data, then evaluateAsync: the losses, the evaluation and the final weights. */
    async fit(name: string, weights: string, mode: string, x: number[], labels: number[], count: number, batchSize: number) {
      const device = new GpuDevice({ mode: mode as 'webgpu' });
      const trainer = models[name].createTrainer!({ weights: fromBase64(weights), mode, device });
      const data = { x: Float32Array.from(x), y: Int32Array.from(labels), count };
      const history = await trainer.fitAsync(data, { epochs: 1, batchSize, shuffle: false, metrics: ['accuracy'], validationData: data });
      const evaluation = await trainer.evaluateAsync(data, batchSize, ['accuracy']);
      const weightsOut = Object.fromEntries((await trainer.getWeightsAsync()).map((w) => [w.name, Array.from(w.data)]));
      const evalWgsl = (models[name].manifest.wgslKernels ?? []).filter((n) => /^e\d+$/.test(n));
      return { backend: trainer.backend, loss: history.epochs[0].loss, valLoss: history.epochs[0].valLoss, evaluation, weights: weightsOut, evalWgsl, wgslCalls: Object.fromEntries(device.wgslCalls) };
    },
    /** A gradient-check module's every output on `feeds`. */
    async grad(name: string, feeds: PlainFeeds, batch: number, mode: string) {
      const model = gradModules[name].createModel(undefined, { mode });
      await model.ready();
      const out = plain(await model.runAsync(toArrays(feeds), batch));
      const backend = model.backend;
      const wgslCalls = Object.fromEntries(model.device.wgslCalls);
      model.destroy();
      return { backend, out, wgsl: gradModules[name].manifest.wgslKernels ?? [], wgslCalls };
    },
    /** The MLP with its first kernel replaced by hand-written WGSL: predictions and the override's call count. */
    async predictOverridden(weights: string, calls: { x: number[]; batch: number }[]) {
      const { override, calls: count } = dense1Override();
      const model = models.mlp.createModel(fromBase64(weights), { mode: 'webgpu', wgsl: { k0: override } });
      const outputs: number[][] = [];
      for (const c of calls) outputs.push(Array.from(await model.predictAsync(Float32Array.from(c.x), c.batch)));
      model.destroy();
      return { backend: model.backend, outputs, overrideCalls: count() };
    },
    /** The message of a synchronous predict on a WebGPU model. */
    async syncRefusal(name: string, inputSize: number): Promise<string> {
      const model = models[name].createModel(undefined, { mode: 'webgpu' });
      await model.ready();
      try {
        model.predict(new Float32Array(inputSize), 1);
        return 'no error';
      } catch (e) {
        return String((e as Error).message);
      } finally {
        model.destroy();
      }
    },
  };
  (globalThis as unknown as { kiln: typeof api }).kiln = api;
}
