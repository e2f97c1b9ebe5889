// What the browser test page offers the test (bundled with the emitted GPU.js modules): run a
// model or a few training steps on a demanded GPU.js backend and return plain arrays.
import { fromBase64 } from 'kiln/runtime';

interface GpuModel {
  predict(x: Float32Array, batch: number): Float32Array;
  exportKernels(batch: number): unknown;
  backend: string;
  device: { gpu: unknown };
  destroy(): void;
}
interface GpuTrainer {
  step(x: Float32Array, y: Int32Array, batch: number): number;
  getWeights(): { name: string; data: Float32Array }[];
}
export interface GpuModule {
  createModel(weights?: Uint8Array, options?: { mode?: string; precompiled?: unknown }): GpuModel;
  createTrainer?(options: { weights?: Uint8Array; mode?: string }): GpuTrainer;
}

export interface PredictResult {
  backend: string;
  maxTextureSize: number;
  outputs: number[][];
}

function maxTextureSize(model: GpuModel): number {
  const gl = (model.device.gpu as { context?: WebGL2RenderingContext }).context;
  return gl ? gl.getParameter(gl.MAX_TEXTURE_SIZE) : 0;
}

export function install(modules: Record<string, GpuModule>): void {
  const api = {
    names: () => Object.keys(modules),
    webgl2: () => !!document.createElement('canvas').getContext('webgl2'),
    /** Predicts each batch in turn on one model instance (batch sizes may change between calls). */
    predict(name: string, weights: string, mode: string, calls: { x: number[]; batch: number }[]): PredictResult {
      const model = modules[name].createModel(fromBase64(weights), { mode });
      try {
        const outputs = calls.map((c) => Array.from(model.predict(Float32Array.from(c.x), c.batch)));
        return { backend: model.backend, maxTextureSize: maxTextureSize(model), outputs };
      } finally {
        model.destroy();
      }
    },
    /** Kernels exported after one call at `batch`, shaders included. */
    exportKernels(name: string, batch: number): unknown {
      const model = modules[name].createModel(undefined, { mode: 'webgl2' });
      try {
        return model.exportKernels(batch);
      } finally {
        model.destroy();
      }
    },
    /** A fresh model's first predictions and how long creating it and the first call took. */
    firstCall(name: string, weights: string, precompiled: unknown, x: number[], batch: number) {
      const started = performance.now();
      const model = modules[name].createModel(fromBase64(weights), { mode: 'webgl2', precompiled: precompiled ?? undefined });
      const output = Array.from(model.predict(Float32Array.from(x), batch));
      const ms = performance.now() - started;
      model.destroy();
      return { ms, output };
    },
    /** `steps` training steps on one batch; the losses and the final weights. */
    train(name: string, weights: string, mode: string, x: number[], labels: number[], batch: number, steps: number) {
      const trainer = modules[name].createTrainer!({ weights: fromBase64(weights), mode });
      const losses: number[] = [];
      for (let s = 0; s < steps; s++) losses.push(trainer.step(Float32Array.from(x), Int32Array.from(labels), batch));
      return { losses, weights: Object.fromEntries(trainer.getWeights().map((w) => [w.name, Array.from(w.data)])) };
    },
  };
  (globalThis as unknown as { kiln: typeof api }).kiln = api;
}
