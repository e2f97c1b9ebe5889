// The inspection document: one versioned, JSON-ready description of a model at a stage of the
// compiler (nodes, layers, fused kernels, memory over time; with training, the step's graph too),
// built purely from a Graph. `kiln inspect` renders it as text, JSON, DOT, Mermaid or HTML.
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { DTYPE_BYTES, type DType } from '../../src/ir/dtype.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { sampleSize, type Dim } from '../../src/ir/shape.ts';
import { checkGraph } from '../check/check.ts';
import { describeOps, type Kernel } from '../lower/kernel.ts';
import type { Program } from '../lower/plan.ts';
import { PASSES, compileGraph } from '../pipeline.ts';
import { buildTrainingGraph, type TrainingSpec } from '../train/step.ts';
import { renderGpuJsKernel } from '../codegen/gpujs-kernel.ts';
import { renderJsKernel } from '../codegen/js-kernel.ts';
import { renderSimdKernel, simdListing, type SimdKernel } from '../codegen/wasm/simd-kernel.ts';
import { modelSimdLookup } from '../emit/js/simd-table.ts';
import { graphHash } from './hash.ts';
import { memberNodes } from './kernel-nodes.ts';
import { bodySummary, loopSources, type BodySummary } from './loop-doc.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import { graphLayout, userShape, type Layout } from './layout.ts';
import { lifetimes, liveBytes, type LiveAt } from './memory.ts';
import { nodeFlops, paramCount, summarize, type LayerRow, type Summary } from './summary.ts';
import { describeBatchAxes } from '../../src/ir/print.ts';

/** The document's format version: bumped on any change a reader must know about. */
export const GRAPH_DOC_VERSION = 1;

/** Which part of a training step a node belongs to (inference graphs: all `forward`). */
export type Phase = 'forward' | 'backward' | 'optimizer';

/** One node of the graph at the document's stage. */
export interface DocNode {
  /** Dense topological number, as `kiln ir` prints it (`%id`). */
  readonly id: number;
  readonly op: string;
  readonly layer?: string;
  readonly layerKind?: string;
  /** Attributes; arrays longer than 16 entries (constants' values) are replaced by a count, a scan's body by a summary (its graph is in `loops`). */
  readonly attrs: Readonly<Record<string, unknown>>;
  /** Ids of the input nodes, in order. */
  readonly inputs: readonly number[];
  readonly dtype: DType;
  /** Kiln's own shape (NCHW for images), batch as 'N'. */
  readonly shape: readonly Dim[];
  /** The shape in the user's layout, present only where it differs from `shape` (channels-last models). */
  readonly userShape?: readonly Dim[];
  /** Parameter elements (param nodes), else 0. */
  readonly params: number;
  /** Floating-point operations per sample (a multiply-add counts 2). */
  readonly flops: number;
  /** Bytes of the node's value per sample (batch as 1). */
  readonly bytes: number;
  /** `file:line` of the model file where its layer was written. */
  readonly source?: string;
  /** The kernel that computes it (where this stage's node is the compiled one: always after the last pass). */
  readonly kernel?: string;
  readonly phase: Phase;
}

/** One fused kernel of the compiled program. */
export interface DocKernel {
  readonly name: string;
  /** The ops fused into it, anchor first, and its one-line description (`matmul → add → relu`). */
  readonly ops: readonly string[];
  readonly description: string;
  readonly layers: readonly string[];
  /** Ids of the nodes it reads and writes, where they are nodes of this stage (null where not). */
  readonly reads: readonly (number | null)[];
  readonly writes: number | null;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  readonly flops: number;
  /** Code each backend runs it as: JS loops always, a WebAssembly SIMD version for some, GPU.js always. */
  readonly backends: { readonly js: true; readonly wasmSimd: boolean; readonly gpujs: true };
  /** Emitted source, when asked for (`sources`): JS, WebAssembly text (SIMD kernels only), GPU.js. */
  readonly source?: { readonly js: string; readonly wasm?: string; readonly gpujs: string };
  readonly phase: Phase;
  /** A loop body's kernel (run once per step): the loop's entry in `loops`; `reads` and `writes` are then ids of its nodes. */
  readonly loop?: number;
}

/** Memory over the kernels of a program, in the order they run: what is alive at each, and the peak (at `batch`). */
export interface DocMemory {
  readonly batch: number;
  readonly parameterBytes: number;
  readonly perKernel: readonly LiveAt[];
  readonly peak: { readonly kernel: string | null; readonly bytes: number };
  /** Each kernel result's (and loop's buffers') first and last position in `perKernel`: what is alive where. */
  readonly lifetimes: readonly { readonly name: string; readonly first: number; readonly last: number }[];
}

/**
 * A scan's body as a graph of its own (the scan's `body` attribute shows only a summary naming it):
 * as compiled when the stage is the compiled one, its nodes numbered from 0 within it.
 */
export interface DocLoop {
  readonly id: number;
  /** The scan: its node id in the graph, or in the body of loop `parent`. */
  readonly node: number;
  readonly parent: number | null;
  readonly steps: number;
  readonly reverse: boolean;
  readonly stack: boolean;
  readonly nodes: readonly DocNode[];
  readonly inputs: readonly { readonly name: string; readonly node: number }[];
  readonly outputs: readonly { readonly name: string; readonly node: number }[];
}

/** A graph at a stage, its kernels and memory plan. */
export interface DocGraph {
  readonly nodes: readonly DocNode[];
  readonly inputs: readonly { readonly name: string; readonly node: number }[];
  readonly outputs: readonly { readonly name: string; readonly node: number }[];
  /** Every kernel, loop bodies' included (those name their loop). */
  readonly kernels: readonly DocKernel[];
  readonly memory: DocMemory;
  /** The bodies of the graph's scans (nested ones included), when it has any. */
  readonly loops?: readonly DocLoop[];
}

/** The whole document (`kiln inspect --format json`). */
export interface GraphDoc extends DocGraph {
  readonly version: typeof GRAPH_DOC_VERSION;
  readonly model: string;
  /** `input` (as built), a pass name (after that pass), or `optimized` (after every pass). */
  readonly stage: string;
  /** sha256 of the model's graph as built (compiler/inspect/hash.ts), as emitted modules carry it. */
  readonly graphHash: string;
  /** Channels-last when the input was declared so; `userShape`s and layer shapes are then NHWC. */
  readonly layout: Layout;
  /** An ONNX model whose batch is not first (compiled per sample): where it lies, as `kiln check` says it. */
  readonly batchAxes?: string;
  /** The model's layers as written, as `kiln summary` lists them (same rows and totals). */
  readonly layers: readonly LayerRow[];
  readonly totals: Summary['totals'];
  /** With a training spec: the training step's graph (forward, backward, optimizer), kernels and memory. */
  readonly training?: DocGraph & { readonly optimizer: string; readonly state: readonly { readonly name: string; readonly shape: readonly Dim[]; readonly bytes: number }[] };
}

export interface GraphDocOptions {
  /** A pass name, or `input`: the stage whose nodes are listed (default: after every pass). */
  readonly after?: string;
  /** Also describe the training step compiled for this loss and optimizer. */
  readonly training?: TrainingSpec;
  /** Include each kernel's emitted source (large). */
  readonly sources?: boolean;
  /** Batch size of the memory figures (default 64). */
  readonly batch?: number;
}

/** The stage names `after` accepts. */
export const STAGES: readonly string[] = ['input', ...PASSES.map((p) => p.name)];

/** The graph after pass `after` (`input`: as built; undefined: after every pass). */
export function graphAtStage(g: Graph, after: string | undefined): Graph {
  if (after === undefined) return compileGraph(g).optimized;
  if (!STAGES.includes(after)) throw new KilnError(`unknown pass '${after}' (stages: ${STAGES.join(', ')})`);
  let graph = g;
  for (const pass of PASSES) {
    if (after === 'input') break;
    graph = pass.run(graph);
    if (pass.name === after) break;
  }
  return graph;
}

/** A graph-valued attribute (a scan's body): never written out whole, its nodes would be repeated down every path. */
const isGraph = (v: unknown): v is Graph => typeof v === 'object' && v !== null && Array.isArray((v as Graph).inputs) && Array.isArray((v as Graph).outputs);

/**
 * Attribute values for the document: long arrays (constant values) become a count, so the document
 * stays small, and a graph its name (scans' bodies get a summary before this, see loop-doc.ts).
 */
function docAttrs(attrs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = Array.isArray(v) && v.length > 16 ? `<${v.length} values>` : isGraph(v) ? `<graph ${v.name}>` : v;
  return out;
}

/** Phases of a training graph's nodes: ancestors of the loss are forward; optimizer updates and state are optimizer; the rest backward. */
function phases(nodes: readonly Node[], g: Graph, stateNames: ReadonlySet<string>): Map<Node, Phase> {
  const out = new Map<Node, Phase>(nodes.map((n) => [n, 'forward' as Phase]));
  const loss = g.outputs.find((o) => o.name === 'loss');
  if (!loss) return out;
  const forward = new Set(graphNodes({ name: '', inputs: [], outputs: [loss] }));
  for (const n of nodes) {
    if (forward.has(n)) continue;
    const isState = n.op === 'param' && stateNames.has(String(n.attrs.name));
    out.set(n, isState || n.meta.layerKind === 'Optimizer' ? 'optimizer' : 'backward');
  }
  return out;
}

function docKernel(k: Kernel, ids: ReadonlyMap<Node, number>, phase: Phase, sources: boolean, simd: SimdKernel | null): DocKernel {
  // Recomputed producers count in every kernel that recomputes them: that is the work it does.
  const flops = memberNodes(k).reduce((s, n) => s + nodeFlops(n), 0);
  return {
    name: k.name,
    ops: [...k.ops],
    description: describeOps(k),
    layers: [...k.layers],
    reads: k.reads.map((r) => ids.get(r) ?? null),
    writes: ids.get(k.writes) ?? null,
    dtype: k.dtype,
    shape: [...k.shape],
    flops,
    backends: { js: true, wasmSimd: simd !== null, gpujs: true },
    ...(sources ? { source: { js: renderJsKernel(k), ...(simd ? { wasm: simdListing(k, simd) } : {}), gpujs: renderGpuJsKernel(k) } } : {}),
    phase,
  };
}

function docMemory(p: Program, batch: number): DocMemory {
  const perKernel = liveBytes(p);
  const total = (l: LiveAt) => l.bytesPerSample * batch + l.fixedBytes;
  const peak = perKernel.reduce<LiveAt | null>((best, l) => (best === null || total(l) > total(best) ? l : best), null);
  const parameterBytes = p.params.reduce((s, n) => s + sampleSize(n.type.shape) * DTYPE_BYTES[n.type.dtype], 0);
  const spans = lifetimes(p).lifetimes.map((l) => ({ name: l.name, first: l.first, last: l.last }));
  return { batch, parameterBytes, perKernel, peak: { kernel: peak?.kernel ?? null, bytes: peak ? total(peak) : 0 }, lifetimes: spans };
}

/** What describing one graph's nodes needs: numbering, phases, kernels, scans' body summaries. */
interface NodeContext {
  readonly ids: ReadonlyMap<Node, number>;
  readonly phaseOf: (n: Node) => Phase;
  readonly kernelOf: ReadonlyMap<Node, string>;
  readonly summaries: ReadonlyMap<Node, BodySummary>;
  readonly inputs: ReadonlySet<Node>;
  readonly layout: Layout;
}

function docNode(n: Node, id: number, c: NodeContext): DocNode {
  const user = userShape(n.type.shape, c.layout, c.inputs.has(n));
  const differs = user.some((d, i) => d !== n.type.shape[i]);
  const kernel = c.kernelOf.get(n);
  const body = c.summaries.get(n);
  return {
    id,
    op: n.op,
    ...(n.meta.layer !== undefined ? { layer: n.meta.layer } : {}),
    ...(n.meta.layerKind !== undefined ? { layerKind: n.meta.layerKind } : {}),
    attrs: body ? { ...docAttrs(n.attrs), body } : docAttrs(n.attrs),
    inputs: n.inputs.map((i) => c.ids.get(i)!),
    dtype: n.type.dtype,
    shape: [...n.type.shape],
    ...(differs ? { userShape: user } : {}),
    params: paramCount(n),
    flops: nodeFlops(n),
    bytes: sampleSize(n.type.shape) * DTYPE_BYTES[n.type.dtype],
    ...(n.meta.source ? { source: `${n.meta.source.file}:${n.meta.source.line}` } : {}),
    ...(kernel ? { kernel } : {}),
    phase: c.phaseOf(n),
  };
}

/**
 * Nodes, kernels and memory of `stage` (a graph) compiled as `program`; each scan's body as a loop
 * of its own. `simd`: each kernel's SIMD version as the emitted module runs it.
 */
function docGraph(stage: Graph, program: Program, o: { layout: Layout; sources: boolean; batch: number; stateNames?: ReadonlySet<string>; simd: (k: Kernel) => SimdKernel | null }): DocGraph {
  const nodes = graphNodes(stage);
  const ids = new Map<Node, number>(nodes.map((n, i) => [n, i]));
  const phase = phases(nodes, stage, o.stateNames ?? new Set());
  const loops = loopSources(nodes, program);
  const summaries = new Map(loops.map((l) => [l.scan, bodySummary(l)]));
  // A body's nodes are in its scan's phase (parents come first in `loops`).
  const loopPhase: Phase[] = [];
  for (const l of loops) loopPhase.push(l.parent === null ? (phase.get(l.scan) ?? 'forward') : loopPhase[l.parent]);
  const bodyNodes = loops.map((l) => graphNodes(l.body));
  const bodyIds = bodyNodes.map((ns) => new Map<Node, number>(ns.map((n, i) => [n, i])));
  const loopOf = new Map<Kernel, number>(loops.flatMap((l) => l.kernels.map((k) => [k, l.id] as const)));
  const kernels = program.kernels.map((k) => {
    const l = loopOf.get(k);
    return l === undefined ? docKernel(k, ids, phase.get(k.writes) ?? 'forward', o.sources, o.simd(k)) : { ...docKernel(k, bodyIds[l], loopPhase[l], o.sources, o.simd(k)), loop: l };
  });
  // A node belongs to the kernel that stores it; a recomputed producer (stored by none) to the first that computes it.
  const kernelOf = new Map<Node, string>();
  for (const k of program.kernels) kernelOf.set(k.writes, k.name);
  for (const k of program.kernels) for (const n of memberNodes(k)) if (!kernelOf.has(n)) kernelOf.set(n, k.name);
  const context = { kernelOf, summaries, layout: o.layout };
  const top: NodeContext = { ...context, ids, phaseOf: (n) => phase.get(n) ?? 'forward', inputs: new Set(stage.inputs) };
  const docLoops = loops.map((l): DocLoop => {
    const c: NodeContext = { ...context, ids: bodyIds[l.id], phaseOf: () => loopPhase[l.id], inputs: new Set(l.body.inputs) };
    const a = l.scan.attrs as unknown as ScanAttrs;
    return {
      id: l.id,
      node: (l.parent === null ? ids : bodyIds[l.parent]).get(l.scan)!,
      parent: l.parent,
      steps: a.steps,
      reverse: a.reverse,
      stack: a.stack,
      nodes: bodyNodes[l.id].map((n, id) => docNode(n, id, c)),
      inputs: l.body.inputs.map((n) => ({ name: String(n.attrs.name), node: c.ids.get(n)! })),
      outputs: l.body.outputs.map((out) => ({ name: out.name, node: c.ids.get(out.node)! })),
    };
  });
  return {
    nodes: nodes.map((n, id) => docNode(n, id, top)),
    inputs: stage.inputs.map((n) => ({ name: String(n.attrs.name), node: ids.get(n)! })),
    outputs: stage.outputs.map((out) => ({ name: out.name, node: ids.get(out.node)! })),
    kernels,
    memory: docMemory(program, o.batch),
    ...(docLoops.length ? { loops: docLoops } : {}),
  };
}

/** Describes model graph `g` (as built) at a stage, with its compiled program; pure. */
export function buildGraphDoc(g: Graph, o: GraphDocOptions = {}): GraphDoc {
  const batch = o.batch ?? 64;
  const sources = o.sources ?? false;
  const checked = checkGraph(g);
  const layout = graphLayout(checked);
  const summary = summarize(checked);
  const compiled = compileGraph(g);
  // The compiled graph itself after the last pass: passes build new nodes (decompose), and kernels are matched to nodes by identity.
  const last = PASSES[PASSES.length - 1].name;
  const stage = o.after === undefined || o.after === last ? compiled.optimized : graphAtStage(g, o.after);
  // The inference Model's versions: a blocked product over a weight reads its copy packed once per weight set.
  const main = docGraph(stage, compiled.program, { layout, sources, batch, simd: modelSimdLookup(compiled.program.kernels) });
  const doc: GraphDoc = {
    version: GRAPH_DOC_VERSION,
    model: g.name,
    stage: o.after ?? 'optimized',
    graphHash: graphHash(g),
    layout,
    ...(g.batchAxes ? { batchAxes: describeBatchAxes(g) } : {}),
    layers: summary.layers,
    totals: summary.totals,
    ...main,
  };
  if (!o.training) return doc;
  const t = buildTrainingGraph(g, o.training);
  const tc = compileGraph(t.graph, 't');
  const stateNames = new Set(t.state.map((s) => String(s.attrs.name)));
  const step = docGraph(tc.optimized, tc.program, { layout, sources, batch, stateNames, simd: renderSimdKernel });
  const state = t.state.map((s) => ({ name: String(s.attrs.name), shape: [...s.type.shape], bytes: sampleSize(s.type.shape) * DTYPE_BYTES[s.type.dtype] }));
  return { ...doc, training: { ...step, optimizer: o.training.optimizer.kind, state } };
}
