// Which kernels become WebAssembly SIMD: sums of products of two loads whose addresses are affine
// in the loop variables (matmul in every transposition, direct convolution and its filter
// gradient), with an elementwise epilogue (bias, activation, a gradient mask). The analysis is a
// pure function from a kernel to a plan; anything else keeps its JavaScript kernel.
import type { Expr } from '../../../src/ir/expr.ts';
import { forEachChild } from '../../../src/ir/expr.ts';
import { BATCH, strides, type Dim } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';

/** An element offset `c + Σ coef[v]·v` over loop variables. */
export interface Affine {
  readonly c: number;
  readonly coef: Readonly<Record<string, number>>;
}

export const coefOf = (a: Affine, v: string) => a.coef[v] ?? 0;

function combine(a: Affine, b: Affine, sign: number): Affine {
  const coef: Record<string, number> = { ...a.coef };
  for (const [v, x] of Object.entries(b.coef)) coef[v] = (coef[v] ?? 0) + sign * x;
  return { c: a.c + sign * b.c, coef };
}

const scale = (a: Affine, s: number): Affine => ({ c: a.c * s, coef: Object.fromEntries(Object.entries(a.coef).map(([v, x]) => [v, x * s])) });

/** `e` as an affine form over `vars`, or null (a variable outside them, a product of two, a division...). */
export function affine(e: Expr, vars: ReadonlySet<string>): Affine | null {
  switch (e.k) {
    case 'const':
      return Number.isInteger(e.value) ? { c: e.value, coef: {} } : null;
    case 'var':
      return vars.has(e.name) ? { c: 0, coef: { [e.name]: 1 } } : null;
    case 'binary': {
      const [a, b] = [affine(e.a, vars), affine(e.b, vars)];
      if (!a || !b) return null;
      if (e.op === 'add') return combine(a, b, 1);
      if (e.op === 'sub') return combine(a, b, -1);
      if (e.op === 'mul' && Object.keys(b.coef).length === 0) return scale(a, b.c);
      if (e.op === 'mul' && Object.keys(a.coef).length === 0) return scale(b, a.c);
      return null;
    }
    default:
      return null;
  }
}

/** A load's element offset in its (row-major) input. */
export function loadOffset(k: Kernel, e: Expr & { k: 'load' }, vars: ReadonlySet<string>): Affine | null {
  const s = strides(k.inputs[e.input].shape);
  let sum: Affine = { c: 0, coef: {} };
  for (const [d, ix] of e.index.entries()) {
    const a = affine(ix, vars);
    if (!a) return null;
    sum = combine(sum, scale(a, s[d]), 1);
  }
  return sum;
}

/** A load of input `input` at an affine offset. */
export interface AffineLoad {
  readonly input: number;
  readonly at: Affine;
}

/** A loop of the kernel: an output dimension (`o<d>`) or a reduction variable. */
export interface LoopVar {
  readonly name: string;
  readonly extent: Dim;
}

/**
 * A kernel `out[o] = epilogue(Σ_r a[o, r] · b[o, r])`, or `out[o] = epilogue` (elementwise).
 * `epilogue` is the kernel's expression with the sum replaced by input slot `-1`'s load at the
 * output index (the accumulator).
 */
export interface Contraction {
  readonly out: readonly LoopVar[];
  readonly reduce: readonly LoopVar[];
  /** The two factors of the summed product; null for an elementwise kernel (no sum). */
  readonly product: { readonly a: AffineLoad; readonly b: AffineLoad } | null;
  readonly epilogue: Expr;
  /** The output's element offset (row-major). */
  readonly outAt: Affine;
}

/** The accumulator inside an epilogue. */
export const ACC = -1;

/** The kernel as a float32 contraction of two affine loads (or elementwise over affine loads), or null. */
export function contractionOf(k: Kernel): Contraction | null {
  if (k.dtype !== 'float32' || k.inputs.some((t) => t.dtype !== 'float32') || k.shape.length === 0) return null;
  const sums: (Expr & { k: 'reduce' })[] = [];
  const findSums = (e: Expr) => (e.k === 'reduce' ? sums.push(e) : forEachChild(e, findSums));
  findSums(k.expr);
  const out = k.shape.map((extent, d) => ({ name: `o${d}`, extent }));
  const outNames = new Set(out.map((l) => l.name));
  const outStrides = strides(k.shape);
  const outAt: Affine = { c: 0, coef: Object.fromEntries(out.map((l, d) => [l.name, outStrides[d]])) };
  if (sums.length === 0) {
    // Elementwise (an optimizer update, a mask): the epilogue alone.
    return epilogueIsAffine(k, k.expr, outNames) ? { out, reduce: [], product: null, epilogue: k.expr, outAt } : null;
  }
  if (sums.length !== 1 || sums[0].op !== 'sum') return null;
  const r = sums[0];
  if (r.body.k !== 'binary' || r.body.op !== 'mul' || r.body.a.k !== 'load' || r.body.b.k !== 'load') return null;
  const all = new Set([...outNames, ...r.vars.map((v) => v.name)]);
  const [a, b] = [loadOffset(k, r.body.a, all), loadOffset(k, r.body.b, all)];
  if (!a || !b) return null;
  const epilogue = replaceSum(k.expr, r, out);
  if (!epilogueIsAffine(k, epilogue, outNames)) return null;
  return { out, reduce: r.vars, product: { a: { input: r.body.a.input, at: a }, b: { input: r.body.b.input, at: b } }, epilogue, outAt };
}

/** Every load of the epilogue (not the accumulator), with its offset. */
export function epilogueLoads(k: Kernel, c: Contraction): { input: number; at: Affine }[] {
  const outNames = new Set(c.out.map((l) => l.name));
  const found: { input: number; at: Affine }[] = [];
  const visit = (x: Expr) => {
    if (x.k === 'load' && x.input !== ACC) found.push({ input: x.input, at: epilogueLoad(k, x, outNames) });
    else forEachChild(x, visit);
  };
  visit(c.epilogue);
  return found;
}

export function replaceSum(e: Expr, sum: Expr, out: readonly LoopVar[]): Expr {
  if (e === sum) return { k: 'load', input: ACC, index: out.map((l) => ({ k: 'var', name: l.name })) };
  switch (e.k) {
    case 'unary':
      return { ...e, a: replaceSum(e.a, sum, out) };
    case 'binary':
      return { ...e, a: replaceSum(e.a, sum, out), b: replaceSum(e.b, sum, out) };
    case 'select':
      return { ...e, cond: replaceSum(e.cond, sum, out), a: replaceSum(e.a, sum, out), b: replaceSum(e.b, sum, out) };
    default:
      return e;
  }
}

/** Every load of the epilogue reads at an affine offset of the output index, and it has no other reduction. */
export function epilogueIsAffine(k: Kernel, e: Expr, outNames: ReadonlySet<string>): boolean {
  let ok = true;
  const visit = (x: Expr) => {
    if (x.k === 'reduce' || (x.k === 'var' && !outNames.has(x.name))) ok = false;
    if (x.k === 'load' && x.input !== ACC && !loadOffset(k, x, outNames)) ok = false;
    if (x.k !== 'load') forEachChild(x, visit);
  };
  visit(e);
  return ok;
}

/** The affine offset of an epilogue load (its input's strides). */
export function epilogueLoad(k: Kernel, e: Expr & { k: 'load' }, outNames: ReadonlySet<string>): Affine {
  const at = loadOffset(k, e, outNames);
  if (!at) throw new Error(`wasm: epilogue load of input ${e.input} is not affine`);
  return at;
}

/** How a contraction is vectorised (simd-kernel.ts): along the output's last dimension, or along a reduction. */
export type Tile = { kind: 'broadcast'; col: LoopVar; rows: LoopVar | null; vec: 'a' | 'b'; /** The vector operand's step along `col` (a stride-2 convolution's input): 1 when absent. */ stride?: 2 } | { kind: 'dot'; red: LoopVar; rows: LoopVar | null; cols: LoopVar | null };

/** Share of vector lanes doing useful work along a dimension of extent `n`. */
const laneUse = (n: Dim) => (n === BATCH ? 0 : n / (4 * Math.ceil(n / 4)));

export function chooseTile(k: Kernel, c: Contraction): Tile | null {
  const last = c.out[c.out.length - 1];
  // A vector of 4 outputs along the last dimension needs every epilogue load to be contiguous
  // along it, or constant (splatted).
  const vectorEpilogue = epilogueLoads(k, c).every((l) => [0, 1].includes(coefOf(l.at, last.name)));
  // The first output dimension is never the vector or column one, so the thread split (over o0)
  // stays a split of rows or of outer loops.
  const canVector = c.out.length > 1 && last.extent !== BATCH && vectorEpilogue;
  if (!c.product) return canVector ? { kind: 'broadcast', col: last, rows: null, vec: 'a' } : null;
  const { a, b } = c.product;
  const rowsFor = (moving: Affine, still: Affine, exclude: string) =>
    [...c.out].reverse().find((l) => l.name !== exclude && coefOf(moving, l.name) !== 0 && coefOf(still, l.name) === 0) ?? null;
  let broadcast: (Tile & { kind: 'broadcast' }) | null = null;
  if (canVector) {
    // The vector operand moves along the last dimension by 1, or by 2 (simd-conv-strided.ts); the other stays.
    const along = (v: Affine, s: Affine, step: number) => coefOf(v, last.name) === step && coefOf(s, last.name) === 0;
    const vec = along(a.at, b.at, 1) ? 'a' : along(b.at, a.at, 1) ? 'b' : along(a.at, b.at, 2) ? 'a' : along(b.at, a.at, 2) ? 'b' : null;
    if (vec) {
      const [v, s] = vec === 'a' ? [a.at, b.at] : [b.at, a.at];
      broadcast = { kind: 'broadcast', col: last, rows: rowsFor(s, v, last.name), vec, ...(coefOf(v, last.name) === 2 ? { stride: 2 as const } : {}) };
    }
  }
  const red = [...c.reduce].reverse().find((r) => r.extent !== BATCH && coefOf(a.at, r.name) === 1 && coefOf(b.at, r.name) === 1);
  let dot: Tile | null = null;
  if (red) {
    const cols = [...c.out].reverse().find((l) => l.name !== 'o0' && coefOf(b.at, l.name) !== 0 && coefOf(a.at, l.name) === 0) ?? null;
    dot = { kind: 'dot', red, rows: rowsFor(a.at, b.at, cols?.name ?? ''), cols };
  }
  if (broadcast && dot && red) return laneUse(broadcast.col.extent) >= laneUse(red.extent) ? broadcast : dot;
  return broadcast ?? dot;
}

