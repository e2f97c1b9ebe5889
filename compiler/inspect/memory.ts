// Planned memory of a compiled program: weights, and the activation buffers the plan reuses.
import type { Node } from '../../src/ir/node.ts';
import { DTYPE_BYTES } from '../../src/ir/dtype.ts';
import { isBatched, sampleSize } from '../../src/ir/shape.ts';
import { baseOf, type Program } from '../lower/plan.ts';


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
  /**
   * The least any plan could use without recomputing: the most bytes of kernel results alive at
   * once (from the kernel that writes one to the last that reads it; outputs to the end), per
   * sample and fixed. A training step's bound holds the activations its backward pass keeps.
   */
  readonly liveBound: { readonly bytesPerSample: number; readonly fixedBytes: number; readonly atKernel: number };
}

export function memoryPlan(p: Program): MemoryPlan {
  const batched = p.buffers.filter((b) => b.batched);
  const perKernel = p.kernels.filter((k) => k.shape[0] === 'N');
  return {
    parameterBytes: p.params.reduce((sum, n) => sum + sampleSize(n.type.shape) * DTYPE_BYTES[n.type.dtype], 0),
    bufferBytesPerSample: batched.reduce((sum, b) => sum + b.perSample * DTYPE_BYTES[b.dtype], 0),
    fixedBufferBytes: p.buffers.filter((b) => !b.batched).reduce((sum, b) => sum + b.perSample * DTYPE_BYTES[b.dtype], 0),
    buffers: p.buffers.length,
    kernels: p.kernels.length,
    unplannedBytesPerSample: perKernel.reduce((sum, k) => sum + sampleSize(k.shape) * DTYPE_BYTES[k.dtype], 0),
    liveBound: liveBound(p),
  };
}

/** What is alive while one kernel runs: bytes of kernel results (per sample, and fixed). */
export interface LiveAt {
  readonly kernel: string;
  readonly bytesPerSample: number;
  readonly fixedBytes: number;
}

/**
 * Bytes of kernel results alive at each kernel, in execution order: kernel j's result counts from
 * j to its last reader (graph outputs to the end). Parameters and inputs are not counted.
 */
export function liveBytes(p: Program): LiveAt[] {
  const last = new Map<Node, number>();
  p.kernels.forEach((k, i) => k.reads.forEach((r) => last.set(baseOf(r), i)));
  for (const o of p.graph.outputs) last.set(baseOf(o.node), p.kernels.length);
  // Kernel j's result is alive from j to its last reader: add it there, take it away after (a sweep, not K²).
  const n = p.kernels.length;
  const perSampleDelta = new Array<number>(n + 1).fill(0);
  const fixedDelta = new Array<number>(n + 1).fill(0);
  p.kernels.forEach((k, j) => {
    const end = Math.min(n, Math.max(j, last.get(k.writes) ?? j)) + 1;
    const bytes = sampleSize(k.shape) * DTYPE_BYTES[k.dtype];
    const delta = isBatched(k.shape) ? perSampleDelta : fixedDelta;
    delta[j] += bytes;
    delta[end] -= bytes;
  });
  const out: LiveAt[] = [];
  let [perSample, fixed] = [0, 0];
  for (let i = 0; i < n; i++) {
    perSample += perSampleDelta[i];
    fixed += fixedDelta[i];
    out.push({ kernel: p.kernels[i].name, bytesPerSample: perSample, fixedBytes: fixed });
  }
  return out;
}

/** The kernel at which the most bytes are alive (at a batch of 64, to rank the steps). */
function liveBound(p: Program): MemoryPlan['liveBound'] {
  let best = { bytesPerSample: 0, fixedBytes: 0, atKernel: 0 };
  liveBytes(p).forEach((l, i) => {
    if (l.bytesPerSample * 64 + l.fixedBytes > best.bytesPerSample * 64 + best.fixedBytes) best = { bytesPerSample: l.bytesPerSample, fixedBytes: l.fixedBytes, atKernel: i };
  });
  return best;
}

const kib = (bytes: number) => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} KiB`);

/** Lines for `kiln summary`: the plan, and its peak at a given batch size. */
export function formatMemory(m: MemoryPlan, batch: number): string[] {
  const peak = m.parameterBytes + m.fixedBufferBytes + m.bufferBytesPerSample * batch;
  const bound = m.parameterBytes + m.liveBound.fixedBytes + m.liveBound.bytesPerSample * batch;
  return [
    `Parameters: ${kib(m.parameterBytes)}`,
    `Planned buffers: ${m.buffers} for ${m.kernels} kernels, ${kib(m.bufferBytesPerSample)} per sample (${kib(m.unplannedBytesPerSample)} without reuse)${m.fixedBufferBytes ? ` + ${kib(m.fixedBufferBytes)}` : ''}`,
    `Planned peak at batch ${batch}: ${kib(peak)}`,
    `Least possible at batch ${batch} (parameters + results alive at once, at kernel ${m.liveBound.atKernel}): ${kib(bound)}; planned ÷ least: ${(peak / bound).toFixed(2)}`,
  ];
}
