// Planned memory of a compiled program: weights, and the activation buffers the plan reuses; what is
// alive over time, in the order kernels run (a loop's body where the loop runs).
import type { Node } from '../../src/ir/node.ts';
import { DTYPE_BYTES } from '../../src/ir/dtype.ts';
import { isBatched, sampleSize } from '../../src/ir/shape.ts';
import type { Kernel } from '../lower/kernel.ts';
import type { Loop, Step } from '../lower/loop.ts';
import { baseOf, type Program } from '../lower/plan.ts';
import { loopTimeNames } from '../emit/js/profile.ts';

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
 * How long one kernel result lives, or one loop's own buffers (its output, its carry when it
 * stacks, its time slices, named as `kiln profile` names the loop: `kloop0`): from the position
 * in execution order where it is written to its last reader's, both included.
 */
export interface Lifetime {
  readonly name: string;
  readonly first: number;
  readonly last: number;
  readonly bytesPerSample: number;
  readonly fixedBytes: number;
}

/** Where a loop's body runs in execution order: the positions of its first and last kernel. */
interface LoopSpan {
  readonly loop: Loop;
  first: number;
  last: number;
}

/**
 * The kernels in the order they run, each loop's body where the loop runs (once: a step is like
 * every other), and the positions each loop covers. Iterative over nested loops.
 */
function executionOrder(schedule: readonly Step[]): { order: Kernel[]; spans: LoopSpan[] } {
  const order: Kernel[] = [];
  const spans: LoopSpan[] = [];
  const stack: { todo: Step[]; span?: LoopSpan }[] = [{ todo: [...schedule].reverse() }];
  while (stack.length) {
    const frame = stack[stack.length - 1];
    const st = frame.todo.pop();
    if (!st) {
      stack.pop();
      // A loop without kernels of its own sits at the position of the kernel before it.
      if (frame.span) frame.span.last = Math.max(frame.span.first, order.length - 1);
      continue;
    }
    if (st.kind === 'kernel') {
      order.push(st.kernel);
      continue;
    }
    const span: LoopSpan = { loop: st.loop, first: order.length, last: order.length };
    spans.push(span);
    stack.push({ todo: [...st.loop.body].reverse(), span });
  }
  // Positions past the end (a loop ending the program with no kernels) fall back on the last kernel.
  for (const sp of spans) [sp.first, sp.last] = [Math.min(sp.first, order.length - 1), Math.min(sp.last, order.length - 1)];
  return { order, spans };
}

const bytesOf = (n: Node) => sampleSize(n.type.shape) * DTYPE_BYTES[n.type.dtype];

/**
 * Every kernel result's lifetime, and each loop's buffers': a kernel's result from its kernel to
 * its last reader (graph outputs to the end); what a loop reads (its init, sequences, invariants,
 * its body's result) lives to the loop's last kernel; its output from its first kernel on.
 * Parameters and inputs are not counted. Positions are those of `executionOrder`.
 */
export function lifetimes(p: Pick<Program, 'kernels' | 'schedule' | 'graph'>): { order: Kernel[]; lifetimes: Lifetime[] } {
  const { order, spans } = executionOrder(p.schedule);
  const n = order.length;
  const lastUse = new Map<Node, number>();
  const use = (node: Node, at: number) => lastUse.set(baseOf(node), Math.max(lastUse.get(baseOf(node)) ?? -1, at));
  order.forEach((k, i) => k.reads.forEach((r) => use(r, i)));
  for (const { loop: l, last } of spans) for (const r of [l.init, ...l.sequences.map((q) => q.source), ...l.invariants.map(([, outer]) => outer), l.result]) use(r, last);
  for (const o of p.graph.outputs) use(o.node, n);
  const until = (n0: Node, from: number) => Math.min(n - 1, Math.max(from, lastUse.get(n0) ?? from));
  const split = (nodes: readonly Node[]) => ({
    bytesPerSample: nodes.filter((x) => isBatched(x.type.shape)).reduce((sum, x) => sum + bytesOf(x), 0),
    fixedBytes: nodes.filter((x) => !isBatched(x.type.shape)).reduce((sum, x) => sum + bytesOf(x), 0),
  });
  const names = loopTimeNames(p);
  const out: Lifetime[] = order.map((k, i) => ({ name: k.name, first: i, last: until(k.writes, i), ...split([k.writes]) }));
  for (const { loop: l, first, last } of spans) {
    // Without `stack`, the carry is the loop's output buffer itself.
    const held = [l.node, ...(l.stack ? [l.carry] : []), ...l.sequences.map((q) => q.slice)];
    out.push({ name: names.get(l)!, first, last: Math.max(last, until(l.node, first)), ...split(held) });
  }
  return { order, lifetimes: out };
}

/** Bytes alive at each kernel, in execution order (a loop body's kernels where the loop runs). A sweep, not K². */
export function liveBytes(p: Pick<Program, 'kernels' | 'schedule' | 'graph'>): LiveAt[] {
  const { order, lifetimes: spans } = lifetimes(p);
  const n = order.length;
  const perSampleDelta = new Array<number>(n + 1).fill(0);
  const fixedDelta = new Array<number>(n + 1).fill(0);
  for (const l of spans) {
    perSampleDelta[l.first] += l.bytesPerSample;
    perSampleDelta[l.last + 1] -= l.bytesPerSample;
    fixedDelta[l.first] += l.fixedBytes;
    fixedDelta[l.last + 1] -= l.fixedBytes;
  }
  const out: LiveAt[] = [];
  let [perSample, fixed] = [0, 0];
  for (let i = 0; i < n; i++) {
    perSample += perSampleDelta[i];
    fixed += fixedDelta[i];
    out.push({ kernel: order[i].name, bytesPerSample: perSample, fixedBytes: fixed });
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
