// The browser benchmark's engines and workloads: which page and variant each engine runs, the
// package its version comes from, and the workloads of ../shared/PEERS.md.
import type { PageName } from './site.ts';

export interface Engine { id: string; label: string; page: PageName; variant: string; pkg?: string }
export const ENGINES: readonly Engine[] = [
  { id: 'kiln-wasm', label: 'Kiln, js backend (WebAssembly SIMD kernels)', page: 'kiln', variant: 'wasm' },
  { id: 'kiln-webgpu', label: 'Kiln, GPU.js backend on WebGPU', page: 'kiln', variant: 'webgpu' },
  { id: 'kiln-webgl2', label: 'Kiln, GPU.js backend on WebGL2', page: 'kiln', variant: 'webgl2' },
  { id: 'tfjs-webgpu', label: '@tensorflow/tfjs-backend-webgpu', page: 'tfjs', variant: 'webgpu', pkg: '@tensorflow/tfjs-backend-webgpu' },
  { id: 'tfjs-webgl', label: '@tensorflow/tfjs-backend-webgl', page: 'tfjs', variant: 'webgl', pkg: '@tensorflow/tfjs-backend-webgl' },
  { id: 'tfjs-wasm', label: '@tensorflow/tfjs-backend-wasm (1 thread)', page: 'tfjs', variant: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm' },
  { id: 'ort-webgpu', label: 'onnxruntime-web, WebGPU EP', page: 'ort', variant: 'webgpu', pkg: 'onnxruntime-web' },
  { id: 'ort-wasm', label: 'onnxruntime-web, wasm EP (1 thread)', page: 'ort', variant: 'wasm', pkg: 'onnxruntime-web' },
  { id: 'jax-webgpu', label: '@jax-js/jax, webgpu device, jit', page: 'jax', variant: 'webgpu', pkg: '@jax-js/jax' },
  { id: 'jax-wasm', label: '@jax-js/jax, wasm device, jit (worker pool: navigator.hardwareConcurrency workers)', page: 'jax', variant: 'wasm', pkg: '@jax-js/jax' },
];
/** The reference every other engine's outputs are compared with (the Node benchmark's Kiln). */
export const REFERENCE = 'kiln-wasm';
/** Kiln's engines: their ratios to every engine are the report's columns. */
export const KILN = ['kiln-wasm', 'kiln-webgl2', 'kiln-webgpu'];

export interface Workload { id: string; title: string; kind: 'matmul' | 'infer' | 'train'; model?: 'mlp' | 'cnn'; n?: number; batch: number; unit: string }
export function workloads(sizes: readonly number[]): Workload[] {
  return [
    ...sizes.map((n): Workload => ({ id: `mm${n}`, title: `matmul ${n}×${n}`, kind: 'matmul', n, batch: 1, unit: 'GFLOP/s' })),
    ...[1, 64, 1024].map((b): Workload => ({ id: `mlp-infer-b${b}`, title: `MLP 784-256-10 inference, batch ${b}`, kind: 'infer', model: 'mlp', batch: b, unit: 'samples/s' })),
    { id: 'mlp-train-b64', title: 'MLP 784-256-10 training step (Adam), batch 64', kind: 'train', model: 'mlp', batch: 64, unit: 'steps/s' },
    { id: 'cnn-infer-b64', title: 'CNN inference, batch 64', kind: 'infer', model: 'cnn', batch: 64, unit: 'samples/s' },
    { id: 'cnn-train-b64', title: 'CNN training step (Adam), batch 64', kind: 'train', model: 'cnn', batch: 64, unit: 'steps/s' },
  ];
}
/** Seconds per call → the workload's unit. */
export const throughput = (w: Workload, seconds: number): number => (w.kind === 'matmul' ? (2 * w.n! ** 3) / seconds / 1e9 : w.kind === 'infer' ? w.batch / seconds : 1 / seconds);
