// The WGSL renderer's entry: a pure function from a lowered kernel to compute shaders for
// WebGPU (source, workgroup and dispatch sizes, binding layout), for contraction kernels only
// (matmul in every transposition, batched matmul, unpadded convolution as implicit GEMM, and
// their weight gradients, with the fused epilogue); undefined for every other kernel.
import { describeOps, type Kernel } from '../../lower/kernel.ts';
import { internal } from '../../../src/ir/errors.ts';
import { commentSafe } from '../names.ts';
import { FINISH_ROWS, FINISH_THREADS, finishShader, gemmShader, inputBinding, OUT_BINDING, PARAMS_BINDING, scratchBinding, epilogueSlots, threadsOf, type Geometry } from './gemm.ts';
import { registerShader } from './register-gemm.ts';
import { extentAt, formatExtent, gemmPlanOf, type Extent, type GemmPlan } from './gemm-plan.ts';

export type { Extent } from './gemm-plan.ts';

/** Tile geometry; every field optional. `splitK`: slices of the reduction (1 turns split-K off; unset: chosen from the sizes). */
export interface WgslOptions {
  readonly tileM?: number;
  readonly tileN?: number;
  readonly tileK?: number;
  readonly perThreadM?: number;
  readonly perThreadN?: number;
  readonly splitK?: number;
  /** Stage slabs in workgroup memory, or read the factors straight into registers (no barriers; the default). */
  readonly workgroupTiles?: boolean;
}

/**
 * 64 × 64 outputs per workgroup of 16 × 16 threads, 4 × 4 each; with workgroup tiles, slabs 16
 * deep (8 KiB of workgroup memory). Registers only by default: on SwiftShader, the WebGPU
 * this project's tests run on, it ran the examples' products 3–4.6× faster than GPU.js's kernels
 * while workgroup tiles ran slower (docs/gpujs.md, "WGSL kernels"). On a real GPU (an NVIDIA
 * H200, bench/results-browser-gpu.md) the tiles ran the CNN's inference about 1.9× as fast, so
 * emitted modules carry both and the runtime chooses by adapter (wgslOverrideSource, and
 * `byAdapter` in runtime/gpujs-wgsl.ts).
 */
export const DEFAULT_GEOMETRY: Omit<Geometry, 'splits'> = { tileM: 64, tileN: 64, tileK: 16, perThreadM: 4, perThreadN: 4, workgroupTiles: false };

/** A workgroup count along one axis: ⌈extent(batch) / per⌉ · times. */
export interface Count {
  readonly extent: Extent;
  readonly per: number;
  readonly times: number;
}

/** One binding of a pass: the parameters (uniform: batch as i32, 16 bytes), the output, an input slot, or the scratch buffer. */
export type Binding =
  | { readonly binding: number; readonly kind: 'params' }
  | { readonly binding: number; readonly kind: 'out' }
  | { readonly binding: number; readonly kind: 'input'; readonly slot: number }
  | { readonly binding: number; readonly kind: 'scratch'; readonly access: 'read' | 'read_write' };

/** One compute pass: its shader (entry point `main`), workgroup size, workgroup counts and bindings (group 0). */
export interface WgslPass {
  readonly source: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly dispatch: readonly [Count, Count, Count];
  readonly bindings: readonly Binding[];
}

/** A kernel rendered to WGSL: its passes in order, and the scratch buffer they share (split-K). */
export interface WgslKernel {
  readonly name: string;
  /** The tiling in words, for listings and the emitted module's comments. */
  readonly how: string;
  readonly passes: readonly WgslPass[];
  /** f32 elements of the scratch buffer: `splits` partial sums of every output element. */
  readonly scratch: { readonly splits: number; readonly elements: Extent } | undefined;
}

/** Bytes of the parameter block (batch: i32, then padding to 16). */
export const PARAMS_BYTES = 16;

/** WebGPU's default limit on workgroups along one dispatch axis. */
export const MAX_WORKGROUPS = 65535;

/** The workgroup counts of a pass at a batch size. */
export function dispatchSize(p: WgslPass, batch: number): [number, number, number] {
  const counts = p.dispatch.map((c) => Math.ceil(extentAt(c.extent, batch) / c.per) * c.times) as [number, number, number];
  if (counts.some((c) => c > MAX_WORKGROUPS)) return internal(`a WGSL dispatch of ${counts.join(' × ')} workgroups at batch ${batch} exceeds ${MAX_WORKGROUPS} on an axis`);
  return counts;
}

/** The WGSL version of kernel `k`, or undefined when it is not a contraction this renderer tiles. */
export function renderWgslKernel(k: Kernel, options: WgslOptions = {}): WgslKernel | undefined {
  const plan = gemmPlanOf(k);
  if (!plan) return undefined;
  const g = geometry(plan, options);
  const header = [
    `// ${k.name}: ${commentSafe(describeOps(k))}${k.layers.length ? ` (${commentSafe(k.layers.join(', '))})` : ''}`,
    `// ${describeTiling(plan, g)}`,
  ];
  const one: Count = { extent: { factor: 1, batch: false }, per: 1, times: 1 };
  const t = threadsOf(g);
  const params: Binding = { binding: PARAMS_BINDING, kind: 'params' };
  const gemm: WgslPass = {
    source: (g.workgroupTiles ? gemmShader : registerShader)(k, plan, g, header),
    workgroupSize: [t.x, t.y, 1],
    dispatch: [
      { extent: plan.N, per: g.tileN, times: 1 },
      { extent: plan.M, per: g.tileM, times: 1 },
      { extent: plan.Z, per: 1, times: g.splits },
    ],
    bindings: [
      params,
      ...(g.splits > 1 ? [] : [{ binding: OUT_BINDING, kind: 'out' } as const]),
      ...gemmSlots(k, plan, g.splits > 1).map((slot) => ({ binding: inputBinding(slot), kind: 'input', slot }) as const),
      ...(g.splits > 1 ? [{ binding: scratchBinding(k), kind: 'scratch', access: 'read_write' } as const] : []),
    ],
  };
  if (g.splits === 1) return { name: k.name, how: describeTiling(plan, g), passes: [gemm], scratch: undefined };
  const outElements: Extent = { factor: plan.M.factor * plan.N.factor * plan.Z.factor, batch: plan.M.batch || plan.N.batch || plan.Z.batch };
  const finish: WgslPass = {
    source: finishShader(k, plan, g, [header[0], `// split-K: adds the ${g.splits} partial sums of each output, then the epilogue`]),
    workgroupSize: [FINISH_THREADS, 1, 1],
    dispatch: [{ extent: outElements, per: FINISH_THREADS * FINISH_ROWS, times: 1 }, { ...one, times: FINISH_ROWS }, one],
    bindings: [
      params,
      { binding: OUT_BINDING, kind: 'out' },
      ...epilogueSlots(k, plan).map((slot) => ({ binding: inputBinding(slot), kind: 'input', slot }) as const),
      { binding: scratchBinding(k), kind: 'scratch', access: 'read' },
    ],
  };
  return { name: k.name, how: describeTiling(plan, g), passes: [gemm, finish], scratch: { splits: g.splits, elements: outElements } };
}

/** The input slots the GEMM pass binds: both factors, and the epilogue's inputs unless split-K defers them. */
function gemmSlots(k: Kernel, p: GemmPlan, split: boolean): number[] {
  return [...new Set([p.a.input, p.b.input, ...(split ? [] : epilogueSlots(k, p))])].sort((a, b) => a - b);
}

/** The batch size the automatic split-K choice assumes for batch-sized extents. */
const SPLIT_K_BATCH = 32;
/** Enough workgroups to occupy a GPU, and a reduction slice worth a workgroup. */
const TARGET_WORKGROUPS = 64;
const MIN_SLICE = 256;
const MAX_SPLITS = 32;

/**
 * The default tile, shrunk along a fixed extent smaller than it (registers-only shader, tile sizes
 * not given): a 32 × 9 convolution weight gradient in a 64 × 64 tile kept 232 of 256 threads
 * computing nothing (on SwiftShader, which runs every invocation, its step took 1.1 s of 2.5).
 * A batch-sized extent keeps the full tile: the batch may be large.
 */
function fittedTile(p: GemmPlan, o: WgslOptions): Partial<Omit<Geometry, 'splits'>> {
  if (o.workgroupTiles) return {};
  const pow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(1, n)));
  // One output per thread along a fixed extent of at most 16: a quarter of the unrolled code
  // (SwiftShader compiles a 4 × 4 block's shader noticeably slower) and no idle rows.
  const fit = (e: Extent, tile: number, per: number) =>
    e.batch ? { tile, per } : e.factor <= SMALL_EXTENT ? { tile: pow2(e.factor), per: 1 } : { tile: Math.min(tile, pow2(e.factor)), per };
  const m = fit(p.M, DEFAULT_GEOMETRY.tileM, DEFAULT_GEOMETRY.perThreadM);
  const n = fit(p.N, DEFAULT_GEOMETRY.tileN, DEFAULT_GEOMETRY.perThreadN);
  return {
    ...(o.tileM === undefined && o.perThreadM === undefined ? { tileM: m.tile, perThreadM: m.per } : {}),
    ...(o.tileN === undefined && o.perThreadN === undefined ? { tileN: n.tile, perThreadN: n.per } : {}),
  };
}

/** Fixed extents up to this many get one output per thread (see fittedTile). */
const SMALL_EXTENT = 16;

function geometry(p: GemmPlan, o: WgslOptions): Geometry {
  const g = { ...DEFAULT_GEOMETRY, ...fittedTile(p, o), ...Object.fromEntries(Object.entries(o).filter(([key, v]) => key !== 'splitK' && v !== undefined)) };
  const t = threadsOf({ ...g, splits: 1 });
  const whole = [g.tileM, g.tileN, g.tileK, g.perThreadM, g.perThreadN].every((x) => Number.isInteger(x) && x > 0);
  if (!whole || !Number.isInteger(t.x) || !Number.isInteger(t.y) || t.x * t.y > 256) return internal(`WGSL tile ${JSON.stringify(g)} is not a whole number of threads, at most 256`);
  return { ...g, splits: o.splitK ?? autoSplits(p, g) };
}

/** Split the reduction when the output alone gives too few workgroups and the reduction is long. */
function autoSplits(p: GemmPlan, g: Omit<Geometry, 'splits'>): number {
  const at = (e: Extent) => extentAt(e, SPLIT_K_BATCH);
  const groups = Math.ceil(at(p.M) / g.tileM) * Math.ceil(at(p.N) / g.tileN) * at(p.Z);
  const K = at(p.K);
  if (groups >= TARGET_WORKGROUPS || K < 2 * MIN_SLICE) return 1;
  return Math.max(1, Math.min(MAX_SPLITS, Math.ceil(TARGET_WORKGROUPS / groups), Math.floor(K / MIN_SLICE)));
}

function describeTiling(p: GemmPlan, g: Geometry): string {
  const names = (vs: readonly { name: string }[]) => (vs.length ? vs.map((v) => v.name).join(',') : '-');
  return (
    `GEMM M = ${formatExtent(p.M)} (${names(p.rows)}) × N = ${formatExtent(p.N)} (${names(p.cols)}) × K = ${formatExtent(p.K)} (${names(p.red)})` +
    `${p.outer.length ? `, ${formatExtent(p.Z)} outer (${names(p.outer)})` : ''}; tile ${g.tileM}×${g.tileN}×${g.tileK}, ${g.perThreadM}×${g.perThreadN} per thread` +
    `${g.splits > 1 ? `, split-K ${g.splits}` : ''}${g.workgroupTiles ? '' : ', registers only'}.`
  );
}

/** A kernel's WGSL passes as text, with their dispatch sizes (`kiln ir --stage wgsl`). */
export function wgslListing(w: WgslKernel): string {
  const count = (c: Count) => `${c.times > 1 ? `${c.times}·` : ''}⌈${formatExtent(c.extent)}/${c.per}⌉`;
  return w.passes
    .map((p, i) => [`// ---- ${w.name} pass ${i + 1} of ${w.passes.length}: workgroups ${p.dispatch.map(count).join(' × ')}`, p.source].join('\n'))
    .join('\n\n');
}
