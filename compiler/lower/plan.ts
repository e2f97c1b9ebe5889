// Memory planning: where every value lives. Inputs, parameters and constants are given; each
// kernel's output gets a buffer, reused once every kernel reading it has run; views alias.
import type { DType } from '../../src/ir/dtype.ts';
import { internal } from '../../src/ir/errors.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphParams } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import { isBatched, sampleSize, type Shape } from '../../src/ir/shape.ts';
import { fuse, type FusedGraph } from '../fuse/fuse.ts';
import { inlineBody } from '../passes/unroll-scans.ts';
import { makeNode } from '../../src/ir/build.ts';
import { lowerGroup, type Kernel } from './kernel.ts';
import { loopShell, scheduleKernels, scheduleLoops, type Loop, type Step } from './loop.ts';

export type { Loop, LoopSequence, Step } from './loop.ts';

/** A planned buffer: `perSample` elements per batch entry if `batched`, else exactly `perSample`. */
export interface BufferSpec {
  readonly id: number;
  readonly dtype: DType;
  readonly perSample: number;
  readonly batched: boolean;
}

export type Storage =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'param'; readonly index: number }
  | { readonly kind: 'const'; readonly index: number }
  | { readonly kind: 'buffer'; readonly id: number };

/** Everything a backend needs to emit a module: kernels in order and where each value lives. */
export interface Program {
  readonly graph: Graph;
  /** Every kernel: the top level's in call order, then each loop body's (compiler/lower/loop.ts). */
  readonly kernels: readonly Kernel[];
  /** What the host runs: kernel calls and loops over body kernels. Without scans, one call per kernel, in `kernels` order. */
  readonly schedule: readonly Step[];
  readonly buffers: readonly BufferSpec[];
  readonly params: readonly Node[];
  readonly consts: readonly Node[];
  storageOf(n: Node): Storage;
}

/** Numbers kernels across a program and the bodies of its loops. */
interface Counter {
  next: number;
  readonly passes: BodyPasses;
}

/** The graph passes a loop body goes through before it is fused (compiler/pipeline.ts's optimize). */
export type BodyPasses = (g: Graph) => Graph;

/**
 * Plans a fused graph; kernels are named `${kernelPrefix}0`, `${kernelPrefix}1`, ... Loop bodies
 * go through `passes` first (the pipeline's own, given by the caller: this module does not import it).
 */
export function planProgram(fused: FusedGraph, kernelPrefix = 'k', passes: BodyPasses = (g) => g): Program {
  const { graph } = fused;
  const schedule = planSteps(fused, kernelPrefix, { next: 0, passes });
  const kernels = scheduleKernels(schedule);
  const loops = scheduleLoops(schedule);
  const params = graphParams(graph);
  // Constants some kernel or loop reads, or that are outputs themselves (a fully folded output).
  const loopReads = loops.flatMap((l) => [l.init, ...l.sequences.map((q) => q.source), l.result, ...l.invariants.map(([, outer]) => outer)]);
  const values = [...kernels.flatMap((k) => k.reads), ...loopReads, ...graph.outputs.map((o) => o.node)].map(baseOf);
  const consts = [...new Set(values.filter((n) => n.op === 'const'))];
  const storage = new Map<Node, Storage>();
  graph.inputs.forEach((n, index) => storage.set(n, { kind: 'input', index }));
  params.forEach((n, index) => storage.set(n, { kind: 'param', index }));
  consts.forEach((n, index) => storage.set(n, { kind: 'const', index }));
  const buffers: BufferSpec[] = [];
  assignBuffers(schedule, graph, storage, buffers);
  const storageOf = (n: Node): Storage => storage.get(baseOf(n)) ?? internal(`no storage for node %${n.id} (${n.op})`);
  return { graph, kernels, schedule, buffers, params, consts, storageOf };
}

/**
 * A body with nodes of its own: two scans may share one body graph, and each loop's values need
 * their own storage (constants, read-only, stay shared).
 */
function ownCopy(body: Graph, scan: Node): Graph {
  const inputs = body.inputs.map((n) => makeNode('input', [], n.attrs as Record<string, unknown>, n.meta));
  return { name: body.name, inputs, outputs: [{ name: body.outputs[0].name, node: inlineBody(body, inputs, scan.meta) }] };
}

/** A graph's steps: its kernels numbered first, then each loop's body planned (passes, fusion, lowering) once. */
function planSteps(fused: FusedGraph, prefix: string, counter: Counter): Step[] {
  const steps = fused.groups.map((g): Step | Node => (g.root.op === 'scan' ? g.root : { kind: 'kernel', kernel: lowerGroup(g, counter.next++, prefix) }));
  return steps.map((s) => {
    if ('kind' in s) return s;
    const body = counter.passes(ownCopy((s.attrs as unknown as ScanAttrs).body, s));
    return { kind: 'loop', loop: loopShell(s, body, planSteps(fuse(body), prefix, counter)) };
  });
}

/** The node whose buffer a value occupies: itself, or the base of a chain of views. */
export function baseOf(n: Node): Node {
  let x = n;
  while (opDef(x.op).kind === 'view') x = x.inputs[0];
  return x;
}

/** What a schedule step reads and writes, for buffer lifetimes: a kernel, or a loop as one step. */
function stepIo(s: Step): { reads: readonly Node[]; writes: Node } {
  return s.kind === 'kernel' ? s.kernel : { reads: s.loop.node.inputs, writes: s.loop.node };
}

/** A fresh buffer for a value of `shape`, never shared (a loop's carry and slices live through the whole loop). */
function ownBuffer(buffers: BufferSpec[], dtype: DType, shape: Shape): Storage {
  const id = buffers.length;
  buffers.push({ id, dtype, perSample: sampleSize(shape), batched: isBatched(shape) });
  return { kind: 'buffer', id };
}

/**
 * The value whose kernel may write the next carry over the current one: the body's result (or
 * the base of its views) when a kernel of the body computes it and neither that kernel nor any
 * step after it reads the carry (the steps before it have read all they need of the old carry).
 */
export function resultInPlace(l: Loop): Node | undefined {
  const base = baseOf(l.result);
  const at = l.body.findIndex((s) => s.kind === 'kernel' && s.kernel.writes === base);
  if (at < 0) return undefined;
  const readsCarry = (s: Step) => stepIo(s).reads.some((r) => baseOf(r) === l.carry);
  return l.body.slice(at).some(readsCarry) ? undefined : base;
}

function assignBuffers(schedule: readonly Step[], graph: Graph, storage: Map<Node, Storage>, buffers: BufferSpec[]): void {
  const lastUse = new Map<Node, number>();
  schedule.forEach((s, i) => stepIo(s).reads.forEach((r) => lastUse.set(baseOf(r), i)));
  for (const o of graph.outputs) lastUse.set(baseOf(o.node), Infinity);
  const free: number[] = [];
  // Only buffers allocated here are handed back: a loop body's inputs (carry, slices, invariants) are never reused inside it.
  const mine = new Set<number>();
  /** A freed buffer of the value's kind (grown to fit), or a new one. */
  const allocate = (writes: Node): number => {
    const batched = isBatched(writes.type.shape);
    const perSample = sampleSize(writes.type.shape);
    const dtype = writes.type.dtype;
    const reuse = free.findIndex((id) => buffers[id].dtype === dtype && buffers[id].batched === batched);
    if (reuse >= 0) {
      const id = free.splice(reuse, 1)[0];
      buffers[id] = { ...buffers[id], perSample: Math.max(buffers[id].perSample, perSample) };
      return id;
    }
    const id = buffers.length;
    buffers.push({ id, dtype, perSample, batched });
    mine.add(id);
    return id;
  };
  schedule.forEach((s, i) => {
    const { reads, writes } = stepIo(s);
    // A value placed already (a loop body's result, written straight into the carry) keeps its place.
    if (!storage.has(writes)) storage.set(writes, { kind: 'buffer', id: allocate(writes) });
    if (s.kind === 'loop') assignLoop(s.loop, storage, buffers);
    // Release after allocating: a kernel never writes a buffer it is reading.
    for (const r of new Set(reads.map(baseOf))) {
      const st = storage.get(r);
      if (st?.kind === 'buffer' && mine.has(st.id) && lastUse.get(r) === i) free.push(st.id);
    }
  });
}

/**
 * A loop's storage: its carry (the scan's own buffer when only the final carry is kept), slices,
 * invariants read in place, then its body's buffers. The body's result is computed straight into
 * the carry where nothing reads the old carry from its kernel on (resultInPlace), so no copy
 * closes the step.
 */
function assignLoop(l: Loop, storage: Map<Node, Storage>, buffers: BufferSpec[]): void {
  const carry = l.stack ? ownBuffer(buffers, l.carry.type.dtype, l.carry.type.shape) : storage.get(l.node)!;
  storage.set(l.carry, carry);
  const inPlace = resultInPlace(l);
  if (inPlace) storage.set(inPlace, carry);
  for (const q of l.sequences) storage.set(q.slice, ownBuffer(buffers, q.slice.type.dtype, q.slice.type.shape));
  for (const [inner, outer] of l.invariants) storage.set(inner, storage.get(baseOf(outer)) ?? internal(`no storage for loop invariant %${outer.id} (${outer.op})`));
  // Body buffers come after every buffer live around the loop and are never handed back to it.
  assignBuffers(l.body, l.graph, storage, buffers);
}
