// Planned memory of a compiled program: weights, and the activation buffers the plan reuses.
import { sampleSize } from '../../src/ir/shape.ts';
import type { Program } from '../lower/plan.ts';

const BYTES = { float32: 4, float64: 8, int32: 4 } as const;

export interface MemoryPlan {
  /** Bytes of parameters (weights and non-trainable state). */
  readonly parameterBytes: number;
  /** Bytes of the planned buffers that grow with the batch, per sample. */
  readonly bufferBytesPerSample: number;
  /** Bytes of planned buffers whose size does not depend on the batch. */
  readonly fixedBufferBytes: number;
  readonly buffers: number;
  readonly kernels: number;
  /** Without reuse, one buffer per kernel output: what the plan saves is measured against it. */
  readonly unplannedBytesPerSample: number;
}

export function memoryPlan(p: Program): MemoryPlan {
  const batched = p.buffers.filter((b) => b.batched);
  const perKernel = p.kernels.filter((k) => k.shape[0] === 'N');
  return {
    parameterBytes: p.params.reduce((sum, n) => sum + sampleSize(n.type.shape) * BYTES[n.type.dtype], 0),
    bufferBytesPerSample: batched.reduce((sum, b) => sum + b.perSample * BYTES[b.dtype], 0),
    fixedBufferBytes: p.buffers.filter((b) => !b.batched).reduce((sum, b) => sum + b.perSample * BYTES[b.dtype], 0),
    buffers: p.buffers.length,
    kernels: p.kernels.length,
    unplannedBytesPerSample: perKernel.reduce((sum, k) => sum + sampleSize(k.shape) * BYTES[k.dtype], 0),
  };
}

const kib = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} KiB`);

/** Lines for `kiln summary`: the plan, and its peak at a given batch size. */
export function formatMemory(m: MemoryPlan, batch: number): string[] {
  const peak = m.parameterBytes + m.fixedBufferBytes + m.bufferBytesPerSample * batch;
  return [
    `Parameters: ${kib(m.parameterBytes)}`,
    `Planned buffers: ${m.buffers} for ${m.kernels} kernels, ${kib(m.bufferBytesPerSample)} per sample (${kib(m.unplannedBytesPerSample)} without reuse)${m.fixedBufferBytes ? ` + ${kib(m.fixedBufferBytes)}` : ''}`,
    `Planned peak at batch ${batch}: ${kib(peak)}`,
  ];
}
