// Kiln in the benchmark page: the modules bench/browser/site.ts compiled, on the JavaScript
// backend's WebAssembly SIMD kernels (`?variant=wasm`), on GPU.js over WebGL2 (`webgl2`) or over
// WebGPU (`webgpu`, once the GPU.js module has its asynchronous API: checked, not assumed).
import { simdSupported } from 'kiln/runtime';
import { load, loadF32, main, paramKeys, sample, variant, type Impl, type Workload } from './harness.ts';

type Arrays = Record<string, Float32Array | Int32Array>;
interface KilnModel {
  backend?: string;
  predict(x: Float32Array, batch: number): Float32Array;
  run(feeds: Arrays, batch: number): Arrays;
  predictAsync?(x: Float32Array, batch: number): Promise<Float32Array>;
  runAsync?(feeds: Arrays, batch: number): Promise<Arrays>;
  destroy?(): void;
}
interface KilnTrainer {
  step(x: Float32Array, y: Int32Array, batch: number): number;
  stepAsync?(x: Float32Array, y: Int32Array, batch: number): Promise<number>;
  destroy?(): void;
}
/** The part of an emitted module's API the benchmark uses (either backend). */
export interface KilnModule {
  backend: string;
  parameters: readonly { name: string; shape: readonly number[] }[];
  createModel(weights?: Arrays, options?: object): KilnModel;
  createTrainer?(options: object): KilnTrainer;
}
export interface KilnModules { js: Record<string, KilnModule>; gpujs: Record<string, KilnModule> }

const gpuMode = variant === 'webgl2' || variant === 'webgpu';
const asyncApi = variant === 'webgpu';
let backendSeen = variant === 'wasm' ? 'js' : '';

/** The shared weights as arrays by the module's parameter names (weight-file order). */
async function weights(m: KilnModule, model: string): Promise<Arrays> {
  const keys = paramKeys(model);
  const out: Arrays = {};
  for (const [i, p] of m.parameters.entries()) {
    const data = await loadF32(keys[i]);
    if (data.length !== p.shape.reduce((a, b) => a * b, 1)) throw new Error(`${p.name}: the shared tensor ${keys[i]} has ${data.length} values`);
    out[p.name] = data;
  }
  return out;
}

/** The model on the variant's device; the backend GPU.js really chose must be the one asked for. */
function create(m: KilnModule, ws: Arrays | undefined): KilnModel | string {
  const model = m.createModel(ws, gpuMode ? { mode: variant } : {});
  if (asyncApi && typeof model.predictAsync !== 'function') {
    model.destroy?.();
    return "this Kiln's GPU.js modules have no WebGPU path yet (no predictAsync)";
  }
  if (gpuMode && model.backend !== variant) throw new Error(`asked GPU.js for ${variant}, got ${model.backend}`);
  if (gpuMode) backendSeen = model.backend!;
  return model;
}

function setup(mods: KilnModules) {
  const table = gpuMode ? mods.gpujs : mods.js;
  return async (w: Workload): Promise<Impl | string> => {
    if (w.kind === 'matmul') {
      const model = create(table[`mm${w.n}`], undefined);
      if (typeof model === 'string') return model;
      const feeds = { a: await loadF32(`mmA${w.n}`), b: await loadF32(`mmB${w.n}`) };
      const call = async () => (asyncApi ? (await model.runAsync!(feeds, 1)).c : model.run(feeds, 1).c);
      return { check: async () => sample(await call()), run: call, dispose: () => model.destroy?.() };
    }
    const m = table[w.model!];
    const ws = await weights(m, w.model!);
    const x = (await loadF32('x')).subarray(0, w.batch * 784);
    if (w.kind === 'infer') {
      const model = create(m, ws);
      if (typeof model === 'string') return model;
      const call = async () => (asyncApi ? await model.predictAsync!(x, w.batch) : model.predict(x, w.batch));
      return { check: async () => sample(await call()), run: call, dispose: () => model.destroy?.() };
    }
    const probe = create(m, ws); // the capability and backend checks, on a model
    if (typeof probe === 'string') return probe;
    probe.destroy?.();
    const trainer = m.createTrainer!({ weights: ws, seed: 1, ...(gpuMode ? { mode: variant } : {}) });
    const y = ((await load('y')).data as Int32Array).subarray(0, w.batch);
    const step = async () => (asyncApi ? await trainer.stepAsync!(x, y, w.batch) : trainer.step(x, y, w.batch));
    return { check: async () => [await step(), await step(), await step()], run: step, dispose: () => trainer.destroy?.() };
  };
}

/** Starts the benchmark for the variant in the URL. */
export function run(mods: KilnModules): void {
  void main({
    setup: setup(mods),
    info: () => ({ name: `kiln-${variant}`, backend: variant === 'wasm' ? (simdSupported() ? 'WebAssembly SIMD' : 'JavaScript loops (no SIMD or shared memory)') : backendSeen }),
  });
}
