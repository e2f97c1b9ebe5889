// The WGSL text of a tiled contraction (gemm-plan.ts): one compute shader in which a workgroup
// stages a tileK-deep slab of both factors in workgroup memory and each thread accumulates a
// perThreadM × perThreadN block of outputs in registers; with split-K, each z-slice sums one range
// of the reduction into a scratch buffer and a second, elementwise shader adds the slices up and
// runs the epilogue. Pure text generation: numbers through alu.ts and literal.ts only.
import type { Expr } from '../../../src/ir/expr.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { identifier } from '../literal.ts';
import { ACC, epilogueLoad, type Affine, type LoopVar } from '../wasm/contraction.ts';
import { f32Expr, i32Literal, loopVar, WGSL_HELPERS, wgslHelpersUsed } from './alu.ts';
import { dimExtent, type Extent, type GemmPlan } from './gemm-plan.ts';

/** The tile geometry of one rendering. */
export interface Geometry {
  readonly tileM: number;
  readonly tileN: number;
  readonly tileK: number;
  readonly perThreadM: number;
  readonly perThreadN: number;
  /** Slices of the reduction (1: no split-K). */
  readonly splits: number;
  /** Stage slabs of both factors in workgroup memory (gemmShader), or read them straight into registers (register-gemm.ts). */
  readonly workgroupTiles: boolean;
}

/** Binding numbers: the parameters, the output, each input slot, then the split-K scratch buffer. */
export const PARAMS_BINDING = 0;
export const OUT_BINDING = 1;
export const inputBinding = (slot: number) => 2 + slot;
export const scratchBinding = (k: Kernel) => 2 + k.inputs.length;

/** The threads of a workgroup along x (columns) and y (rows). */
export const threadsOf = (g: Geometry) => ({ x: g.tileN / g.perThreadN, y: g.tileM / g.perThreadM });

const PARAMS = ['struct Params {', '  batch: i32,', '  pad0: i32,', '  pad1: i32,', '  pad2: i32,', '}', `@group(0i) @binding(${i32Literal(PARAMS_BINDING)}) var<uniform> params: Params;`];

export const inName = (slot: number) => identifier(`in${slot}`);

/** An extent as an i32 expression of the run-time `batch`. */
export function extentExpr(e: Extent): string {
  if (!e.batch) return i32Literal(e.factor);
  return e.factor === 1 ? 'batch' : `(batch * ${i32Literal(e.factor)})`;
}

/** `let` lines giving each variable of a row-major group its value from the group's flat index. */
export function decode(vars: readonly LoopVar[], flat: string, pad: string): string[] {
  const lines: string[] = [];
  let rest = flat;
  for (let d = vars.length - 1; d >= 0; d--) {
    const v = vars[d];
    const name = loopVar(v.name);
    if (d === 0) lines.unshift(`${pad}let ${name} = ${rest};`);
    else {
      const e = extentExpr(dimExtent(v.extent));
      lines.unshift(`${pad}let ${name} = ${rest} % ${e};`);
      rest = `(${rest} / ${e})`;
    }
  }
  return lines;
}

/** An affine offset as an i32 expression of the decoded loop variables. */
export function offsetExpr(at: Affine): string {
  const terms = Object.entries(at.coef)
    .filter(([, c]) => c !== 0)
    .map(([v, c]) => (c === 1 ? loopVar(v) : `${i32Literal(c)} * ${loopVar(v)}`));
  if (at.c !== 0 || terms.length === 0) terms.push(i32Literal(at.c));
  return terms.join(' + ');
}

/** The epilogue as an f32 expression of `accValue` and the decoded output variables. */
export function epilogueExpr(k: Kernel, p: GemmPlan): string {
  const outNames = new Set(p.c.out.map((l) => l.name));
  return f32Expr(p.c.epilogue, {
    load: (e: Expr & { k: 'load' }) => (e.input === ACC ? 'accValue' : `${inName(e.input)}[${offsetExpr(epilogueLoad(k, e, outNames))}]`),
  });
}

/** The input slots the epilogue reads. */
export function epilogueSlots(k: Kernel, p: GemmPlan): number[] {
  const slots = new Set<number>();
  f32Expr(p.c.epilogue, {
    load: (e) => {
      if (e.input !== ACC) slots.add(e.input);
      return '';
    },
  });
  return [...slots].sort((a, b) => a - b);
}

export function declarations(k: Kernel, slots: readonly number[], out: 'out' | 'scratch-write' | 'out+scratch-read'): string[] {
  const lines = [...PARAMS];
  if (out !== 'scratch-write') lines.push(`@group(0i) @binding(${i32Literal(OUT_BINDING)}) var<storage, read_write> out: array<f32>;`);
  for (const s of slots) lines.push(`@group(0i) @binding(${i32Literal(inputBinding(s))}) var<storage, read> ${inName(s)}: array<f32>;`);
  if (out === 'scratch-write') lines.push(`@group(0i) @binding(${i32Literal(scratchBinding(k))}) var<storage, read_write> scratch: array<f32>;`);
  if (out === 'out+scratch-read') lines.push(`@group(0i) @binding(${i32Literal(scratchBinding(k))}) var<storage, read> scratch: array<f32>;`);
  return lines;
}

/** Stages one factor's tile (`tileA` over rows, `tileB` over columns) for the slab at `kt`. */
function stageTile(tile: 'tileA' | 'tileB', side: readonly LoopVar[], red: readonly LoopVar[], factor: { input: number; at: Affine }, width: number, g: Geometry, first: string, limit: string): string[] {
  const threads = threadsOf(g).x * threadsOf(g).y;
  const pad = '        ';
  return [
    `    for (var i = tid; i < ${i32Literal(g.tileK * width)}; i = i + ${i32Literal(threads)}) {`,
    // Consecutive threads take consecutive rows (columns) of one reduction step.
    `      let p = ${first} + i % ${i32Literal(width)};`,
    `      let q = kt + i / ${i32Literal(width)};`,
    `      var value = 0.0;`,
    `      if (p < ${limit} && q < kEnd) {`,
    ...decode(side, 'p', pad),
    ...decode(red, 'q', pad),
    `${pad}value = ${inName(factor.input)}[${offsetExpr(factor.at)}];`,
    `      }`,
    `      ${tile}[i] = value;`,
    `    }`,
  ];
}

/** The workgroup-tiled GEMM shader: sums into `out` through the epilogue, or into `scratch` with split-K. */
export function gemmShader(k: Kernel, p: GemmPlan, g: Geometry, header: readonly string[]): string {
  const t = threadsOf(g);
  const split = g.splits > 1;
  const epilogueIns = split ? [] : epilogueSlots(k, p);
  const slots = [...new Set([p.a.input, p.b.input, ...epilogueIns])].sort((a, b) => a - b);
  const acc = g.perThreadM * g.perThreadN;
  const store = split
    ? [`          scratch[split * outSize + ${offsetExpr(p.c.outAt)}] = accValue;`]
    : [`          out[${offsetExpr(p.c.outAt)}] = ${epilogueExpr(k, p)};`];
  const body = [
    `@compute @workgroup_size(${i32Literal(t.x)}, ${i32Literal(t.y)}, 1i)`,
    `fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {`,
    `  let batch = params.batch;`,
    `  let M = ${extentExpr(p.M)};`,
    `  let N = ${extentExpr(p.N)};`,
    `  let K = ${extentExpr(p.K)};`,
    `  let outSize = M * N * ${extentExpr(p.Z)};`,
    `  let tx = i32(lid.x);`,
    `  let ty = i32(lid.y);`,
    `  let tid = ty * ${i32Literal(t.x)} + tx;`,
    `  let m0 = i32(wid.y) * ${i32Literal(g.tileM)};`,
    `  let n0 = i32(wid.x) * ${i32Literal(g.tileN)};`,
    `  let z = i32(wid.z) / ${i32Literal(g.splits)};`,
    `  let split = i32(wid.z) % ${i32Literal(g.splits)};`,
    ...decode(p.outer, 'z', '  '),
    // Each slice covers whole slabs, so only the last slab of the last slice is ragged.
    `  let kPer = ((K + ${i32Literal(g.splits - 1)}) / ${i32Literal(g.splits)} + ${i32Literal(g.tileK - 1)}) / ${i32Literal(g.tileK)} * ${i32Literal(g.tileK)};`,
    `  let kBegin = split * kPer;`,
    `  let kEnd = min(K, kBegin + kPer);`,
    `  var acc: array<f32, ${i32Literal(acc)}>;`,
    `  var av: array<f32, ${i32Literal(g.perThreadM)}>;`,
    `  var bv: array<f32, ${i32Literal(g.perThreadN)}>;`,
    `  for (var kt = kBegin; kt < kEnd; kt = kt + ${i32Literal(g.tileK)}) {`,
    ...stageTile('tileA', p.rows, p.red, p.a, g.tileM, g, 'm0', 'M'),
    ...stageTile('tileB', p.cols, p.red, p.b, g.tileN, g, 'n0', 'N'),
    `    workgroupBarrier();`,
    `    for (var kk = 0i; kk < ${i32Literal(g.tileK)}; kk = kk + 1i) {`,
    // Strided ownership (row ty + i·threads.y): neighbouring threads read neighbouring words.
    `      for (var i = 0i; i < ${i32Literal(g.perThreadM)}; i = i + 1i) { av[i] = tileA[kk * ${i32Literal(g.tileM)} + ty + i * ${i32Literal(t.y)}]; }`,
    `      for (var j = 0i; j < ${i32Literal(g.perThreadN)}; j = j + 1i) { bv[j] = tileB[kk * ${i32Literal(g.tileN)} + tx + j * ${i32Literal(t.x)}]; }`,
    `      for (var i = 0i; i < ${i32Literal(g.perThreadM)}; i = i + 1i) {`,
    `        for (var j = 0i; j < ${i32Literal(g.perThreadN)}; j = j + 1i) {`,
    `          acc[i * ${i32Literal(g.perThreadN)} + j] = acc[i * ${i32Literal(g.perThreadN)} + j] + av[i] * bv[j];`,
    `        }`,
    `      }`,
    `    }`,
    `    workgroupBarrier();`,
    `  }`,
    `  for (var i = 0i; i < ${i32Literal(g.perThreadM)}; i = i + 1i) {`,
    `    for (var j = 0i; j < ${i32Literal(g.perThreadN)}; j = j + 1i) {`,
    `      let mi = m0 + ty + i * ${i32Literal(t.y)};`,
    `      let ni = n0 + tx + j * ${i32Literal(t.x)};`,
    `      if (mi < M && ni < N) {`,
    ...decode(p.rows, 'mi', '        '),
    ...decode(p.cols, 'ni', '        '),
    `        let accValue = acc[i * ${i32Literal(g.perThreadN)} + j];`,
    ...store.map((l) => l.slice(2)),
    `      }`,
    `    }`,
    `  }`,
    `}`,
  ];
  const source = [
    ...header,
    ...declarations(k, slots, split ? 'scratch-write' : 'out'),
    `var<workgroup> tileA: array<f32, ${i32Literal(g.tileK * g.tileM)}>;`,
    `var<workgroup> tileB: array<f32, ${i32Literal(g.tileK * g.tileN)}>;`,
    ...body,
  ].join('\n');
  return withHelpers(source);
}

/** Threads per workgroup of the split-K finishing shader, and rows of workgroups it is dispatched in. */
export const FINISH_THREADS = 64;
export const FINISH_ROWS = 16;

/** The split-K finishing shader: one thread per output element adds the slices and runs the epilogue. */
export function finishShader(k: Kernel, p: GemmPlan, g: Geometry, header: readonly string[]): string {
  const slots = epilogueSlots(k, p);
  const outVars = p.c.out;
  const body = [
    `@compute @workgroup_size(${i32Literal(FINISH_THREADS)}, 1i, 1i)`,
    `fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {`,
    `  let batch = params.batch;`,
    `  let outSize = ${extentExpr(p.M)} * ${extentExpr(p.N)} * ${extentExpr(p.Z)};`,
    // Rows of workgroups (FINISH_ROWS of them) keep each axis under WebGPU's 65,535 workgroups.
    `  let flat = i32(gid.y) * i32(groups.x) * ${i32Literal(FINISH_THREADS)} + i32(gid.x);`,
    `  if (flat >= outSize) { return; }`,
    `  var accValue = 0.0;`,
    `  for (var s = 0i; s < ${i32Literal(g.splits)}; s = s + 1i) { accValue = accValue + scratch[s * outSize + flat]; }`,
    ...decode(outVars, 'flat', '  '),
    `  out[flat] = ${epilogueExpr(k, p)};`,
    `}`,
  ];
  return withHelpers([...header, ...declarations(k, slots, 'out+scratch-read'), ...body].join('\n'));
}

/** The source with the helper functions it calls prepended after its header comments. */
export function withHelpers(source: string): string {
  const helpers = wgslHelpersUsed(source);
  if (!helpers.length) return source;
  const lines = source.split('\n');
  const firstCode = lines.findIndex((l) => !l.startsWith('//'));
  return [...lines.slice(0, firstCode), ...helpers.map((h) => WGSL_HELPERS[h]), ...lines.slice(firstCode)].join('\n');
}
