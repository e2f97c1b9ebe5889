// onnxruntime-web 1.30 in the benchmark page on its WebGPU or WebAssembly execution provider
// (`?variant=webgpu|wasm`), inference only, on the ONNX files bench/browser/data.ts built with the
// shared weights (bench/onnx-models.ts, as the Node benchmark's onnxruntime-node peer).
// @ts-ignore -- a peer, in bench/node_modules after `npm run bench:setup`: without it this page cannot be built, and the file still type-checks
import * as ort from 'onnxruntime-web/webgpu';
import { loadF32, main, sample, variant, type Impl, type Workload } from './harness.ts';

let backend = '';
async function session(name: string): Promise<ort.InferenceSession> {
  const bytes = new Uint8Array(await (await fetch(`data/${name}.onnx`)).arrayBuffer());
  return ort.InferenceSession.create(bytes, { executionProviders: [variant], graphOptimizationLevel: 'all' });
}
/** Runs and reads the output back to the CPU (WebGPU's outputs default to CPU tensors). */
async function output(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>, name: string): Promise<Float32Array> {
  return (await (await s.run(feeds))[name].getData()) as Float32Array;
}

async function setup(w: Workload): Promise<Impl | string> {
  if (w.kind === 'train') return 'onnxruntime-web runs inference only (its training API is a separate build)';
  if (w.kind === 'matmul') {
    const s = await session(`mm${w.n}`);
    const feeds = { a: new ort.Tensor('float32', await loadF32(`mmA${w.n}`), [w.n!, w.n!]), b: new ort.Tensor('float32', await loadF32(`mmB${w.n}`), [w.n!, w.n!]) };
    const f = () => output(s, feeds, 'c');
    return { check: async () => sample(await f()), run: f, dispose: () => s.release() };
  }
  const s = await session(w.model!);
  const shape = w.model === 'mlp' ? [w.batch, 784] : [w.batch, 28, 28, 1];
  const feeds = { x: new ort.Tensor('float32', (await loadF32('x')).slice(0, w.batch * 784), shape) };
  const f = () => output(s, feeds, 'y');
  return { check: async () => sample(await f()), run: f, dispose: () => s.release() };
}

void main({
  async init() {
    // Served from this page's origin (no network in the page); one thread, as Kiln in the page.
    ort.env.wasm.wasmPaths = new URL('wasm/ort/', location.href).href;
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    if (variant === 'webgpu' && !(await (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter())) throw new Error('no WebGPU adapter');
    backend = variant;
  },
  setup,
  info: () => ({ name: `ort-${variant}`, version: ort.env.versions.web ?? '', backend }),
});
