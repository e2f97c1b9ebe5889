// The compiled MNIST CNN as the demo page sees it (`kiln-demo-model` is mapped to the module
// `kiln compile --backend gpujs --train examples/cnn.ts` writes, when the demo is bundled).
declare module 'kiln-demo-model' {
  import type { Trainer } from '../../runtime/trainer-shell.ts';
  import type { GpuMode, GpuOptions } from '../../runtime/gpujs.ts';
  export const backend: 'gpujs';
  export function createTrainer(options?: GpuOptions & { seed?: number; lr?: number }): Trainer & { backend: GpuMode; ready(): Promise<GpuMode> };
}
