// Memory planning: where every value lives. Inputs, parameters and constants are given; each
// kernel's output gets a buffer, reused once every kernel reading it has run; views alias.
import type { DType } from '../../src/ir/dtype.ts';
import { internal } from '../../src/ir/errors.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphParams } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { isBatched, sampleSize } from '../../src/ir/shape.ts';
import type { FusedGraph } from '../fuse/fuse.ts';
import { lowerGroup, type Kernel } from './kernel.ts';

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
  readonly kernels: readonly Kernel[];
  readonly buffers: readonly BufferSpec[];
  readonly params: readonly Node[];
  readonly consts: readonly Node[];
  storageOf(n: Node): Storage;
}

/** Plans a fused graph; kernels are named `${kernelPrefix}0`, `${kernelPrefix}1`, ... */
export function planProgram(fused: FusedGraph, kernelPrefix = 'k'): Program {
  const { graph } = fused;
  const kernels = fused.groups.map((g, i) => lowerGroup(g, i, kernelPrefix));
  const params = graphParams(graph);
  // Constants some kernel reads, or that are outputs themselves (a fully folded output).
  const values = [...kernels.flatMap((k) => k.reads), ...graph.outputs.map((o) => o.node)].map(baseOf);
  const consts = [...new Set(values.filter((n) => n.op === 'const'))];
  const storage = new Map<Node, Storage>();
  graph.inputs.forEach((n, index) => storage.set(n, { kind: 'input', index }));
  params.forEach((n, index) => storage.set(n, { kind: 'param', index }));
  consts.forEach((n, index) => storage.set(n, { kind: 'const', index }));
  const buffers = assignBuffers(kernels, graph, storage);
  const storageOf = (n: Node): Storage => storage.get(baseOf(n)) ?? internal(`no storage for node %${n.id} (${n.op})`);
  return { graph, kernels, buffers, params, consts, storageOf };
}

/** The node whose buffer a value occupies: itself, or the base of a chain of views. */
export function baseOf(n: Node): Node {
  let x = n;
  while (opDef(x.op).kind === 'view') x = x.inputs[0];
  return x;
}

function assignBuffers(kernels: readonly Kernel[], graph: Graph, storage: Map<Node, Storage>): BufferSpec[] {
  const lastUse = new Map<Node, number>();
  kernels.forEach((k, i) => k.reads.forEach((r) => lastUse.set(baseOf(r), i)));
  for (const o of graph.outputs) lastUse.set(baseOf(o.node), Infinity);
  const buffers: { id: number; dtype: DType; perSample: number; batched: boolean }[] = [];
  const free: number[] = [];
  kernels.forEach((k, i) => {
    const batched = isBatched(k.shape);
    const perSample = sampleSize(k.shape);
    const reuse = free.findIndex((id) => buffers[id].dtype === k.dtype && buffers[id].batched === batched);
    let id: number;
    if (reuse >= 0) {
      id = free.splice(reuse, 1)[0];
      buffers[id].perSample = Math.max(buffers[id].perSample, perSample);
    } else {
      id = buffers.length;
      buffers.push({ id, dtype: k.dtype, perSample, batched });
    }
    storage.set(k.writes, { kind: 'buffer', id });
    // Release after allocating: a kernel never writes a buffer it is reading.
    for (const r of new Set(k.reads.map(baseOf))) {
      const s = storage.get(r);
      if (s?.kind === 'buffer' && lastUse.get(r) === i) free.push(s.id);
    }
  });
  return buffers;
}
