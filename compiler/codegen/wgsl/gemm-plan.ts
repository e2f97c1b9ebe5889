// Which kernels the WGSL renderer tiles, and how: a contraction (wasm/contraction.ts) seen as a
// batched GEMM, out[z, m, n] = epilogue(Σ_k a[z, m, k] · b[z, n, k]), its loop variables sorted
// into the four groups. A pure function from a kernel to a plan; anything else returns undefined.
import type { Expr } from '../../../src/ir/expr.ts';
import { forEachChild } from '../../../src/ir/expr.ts';
import { BATCH, type Dim } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { coefOf, contractionOf, type Affine, type Contraction, type LoopVar } from '../wasm/contraction.ts';

/** An extent known up to the batch: `factor`, times the run-time batch size when `batch`. */
export interface Extent {
  readonly factor: number;
  readonly batch: boolean;
}

/**
 * A contraction as a batched GEMM. Row-major flattening inside each group: `m` numbers the
 * points of `rows` (output variables only `a` depends on), `n` those of `cols` (only `b`), `k`
 * those of `red` (the reduction), `z` those of `outer` (the other output variables: a batched
 * product's batch, or a variable neither factor reads).
 */
export interface GemmPlan {
  readonly c: Contraction;
  readonly outer: readonly LoopVar[];
  readonly rows: readonly LoopVar[];
  readonly cols: readonly LoopVar[];
  readonly red: readonly LoopVar[];
  /** Input slots of the two factors (`a` depends on rows, `b` on columns). */
  readonly a: { readonly input: number; readonly at: Affine };
  readonly b: { readonly input: number; readonly at: Affine };
  readonly M: Extent;
  readonly N: Extent;
  readonly K: Extent;
  readonly Z: Extent;
}

/** The product of loop extents, the batch counted apart (a group holds it at most once). */
export function extentOf(vars: readonly LoopVar[]): Extent | undefined {
  let factor = 1;
  let batch = false;
  for (const v of vars) {
    if (v.extent === BATCH) {
      if (batch) return undefined;
      batch = true;
    } else factor *= v.extent;
  }
  return { factor, batch };
}

/** An extent's value at a batch size. */
export const extentAt = (e: Extent, batch: number): number => e.factor * (e.batch ? batch : 1);

/** Ops the WGSL epilogue has no rendering for (the dropout hash is the JS backend's). */
function epilogueRenderable(e: Expr): boolean {
  let ok = true;
  const visit = (x: Expr) => {
    if ((x.k === 'binary' && x.op === 'hashUniform') || x.k === 'reduce') ok = false;
    else forEachChild(x, visit);
  };
  visit(e);
  return ok;
}

/**
 * The kernel as GPU.js holds it on the device: every floating-point tensor is f32 there (the GPU.js
 * backend computes a float64 model in float32), so a float64 kernel over float tensors is taken as
 * float32. Integer tensors are left alone (no contraction reads them as factors).
 */
function onDevice(k: Kernel): Kernel {
  const float = (d: string) => d === 'float32' || d === 'float64';
  if (k.dtype !== 'float64' || !k.inputs.every((t) => float(t.dtype))) return k;
  return { ...k, dtype: 'float32', inputs: k.inputs.map((t) => ({ ...t, dtype: 'float32' })) };
}

/** The kernel as a batched GEMM, or undefined (not a sum of two affine loads of float tensors). */
export function gemmPlanOf(k: Kernel): GemmPlan | undefined {
  const c = contractionOf(onDevice(k));
  if (!c?.product || !epilogueRenderable(c.epilogue)) return undefined;
  // The epilogue must not read the batch size as a value index; contractionOf already requires
  // its loads to be affine in the output index.
  const { a, b } = c.product;
  const dependsOn = (at: Affine, v: LoopVar) => coefOf(at, v.name) !== 0;
  const rows = c.out.filter((v) => dependsOn(a.at, v) && !dependsOn(b.at, v));
  const cols = c.out.filter((v) => dependsOn(b.at, v) && !dependsOn(a.at, v));
  const outer = c.out.filter((v) => !rows.includes(v) && !cols.includes(v));
  // A factor reading the same reduction point twice per output would be fine, but one whose
  // reduction variable is absent from both loads (an unused loop) is a broadcast sum: still a
  // GEMM. Nothing to exclude there; only the extents must be expressible.
  const [M, N, K, Z] = [rows, cols, c.reduce, outer].map(extentOf);
  if (!M || !N || !K || !Z) return undefined;
  // Every input slot is bound, beside the output and a split-K scratch buffer.
  if (k.inputs.length + 2 > MAX_STORAGE_BUFFERS) return undefined;
  return { c, outer, rows, cols, red: c.reduce, a, b, M, N, K, Z };
}

/** WebGPU's default limit of storage buffers per shader stage (out, scratch and inputs share it). */
export const MAX_STORAGE_BUFFERS = 8;

/** Extent in words, for listings: `784`, `N·10`. */
export const formatExtent = (e: Extent): string => (e.batch ? (e.factor === 1 ? 'N' : `N·${e.factor}`) : String(e.factor));

/** A dimension's extent as an Extent. */
export const dimExtent = (d: Dim): Extent => (d === BATCH ? { factor: 1, batch: true } : { factor: d, batch: false });
