// The register-tiled variant of the GEMM shader: no workgroup memory and no barriers. Each thread
// still owns a perThreadM × perThreadN block of outputs, but reads its rows of `a` and columns of
// `b` straight from storage at each reduction step, into registers, reusing each value across
// its block. Where barriers are dear (SwiftShader emulates them on the CPU) this measured the
// faster of the two (docs/gpujs.md); on real GPUs workgroup tiles are expected to be.
import type { Kernel } from '../../lower/kernel.ts';
import type { Affine, LoopVar } from '../wasm/contraction.ts';
import { i32Literal } from './alu.ts';
import { decode, declarations, epilogueExpr, epilogueSlots, inName, offsetExpr, threadsOf, withHelpers, extentExpr, type Geometry } from './gemm.ts';
import type { GemmPlan } from './gemm-plan.ts';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The part of an affine offset that depends on `vars` only (with its constant when `withConst`). */
function part(at: Affine, vars: readonly LoopVar[], withConst: boolean): Affine {
  const names = new Set(vars.map((v) => v.name));
  return { c: withConst ? at.c : 0, coef: Object.fromEntries(Object.entries(at.coef).filter(([v]) => names.has(v))) };
}

/** The register-tiled GEMM shader: sums into `out` through the epilogue, or into `scratch` with split-K. */
export function registerShader(k: Kernel, p: GemmPlan, g: Geometry, header: readonly string[]): string {
  const t = threadsOf(g);
  const split = g.splits > 1;
  const slots = [...new Set([p.a.input, p.b.input, ...(split ? [] : epilogueSlots(k, p))])].sort((a, b) => a - b);
  const [WM, WN] = [g.perThreadM, g.perThreadN];
  // Each row's and column's offset without the reduction's part, computed once (0 where out of range).
  const side = (name: 'a' | 'b', count: number, first: string, stride: number, limit: string, vars: readonly LoopVar[], at: Affine) =>
    range(count).flatMap((i) => [
      `  var ${name}Base${i} = 0i;`,
      `  {`,
      `    let r = ${first} + ${i32Literal(i * stride)};`,
      `    if (r < ${limit}) {`,
      ...decode(vars, 'r', '      '),
      `      ${name}Base${i} = ${offsetExpr(part(at, [...vars, ...p.outer], true))};`,
      `    }`,
      `  }`,
    ]);
  const store = split ? `scratch[split * outSize + ${offsetExpr(p.c.outAt)}] = accValue;` : `out[${offsetExpr(p.c.outAt)}] = ${epilogueExpr(k, p)};`;
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
    `  let m0 = i32(wid.y) * ${i32Literal(g.tileM)} + ty;`,
    `  let n0 = i32(wid.x) * ${i32Literal(g.tileN)} + tx;`,
    `  let z = i32(wid.z) / ${i32Literal(g.splits)};`,
    `  let split = i32(wid.z) % ${i32Literal(g.splits)};`,
    ...decode(p.outer, 'z', '  '),
    `  let kPer = (K + ${i32Literal(g.splits - 1)}) / ${i32Literal(g.splits)};`,
    `  let kBegin = split * kPer;`,
    `  let kEnd = min(K, kBegin + kPer);`,
    ...range(WM).flatMap((i) => range(WN).map((j) => `  var acc${i}_${j} = 0.0;`)),
    ...side('a', WM, 'm0', t.y, 'M', p.rows, p.a.at),
    ...side('b', WN, 'n0', t.x, 'N', p.cols, p.b.at),
    `  for (var q = kBegin; q < kEnd; q = q + 1i) {`,
    ...decode(p.red, 'q', '    '),
    `    let ka = ${offsetExpr(part(p.a.at, p.red, false))};`,
    `    let kb = ${offsetExpr(part(p.b.at, p.red, false))};`,
    // Unrolled, with a scalar per value: dynamically indexed arrays live in memory on some
    // implementations (SwiftShader), scalars in registers.
    ...range(WM).map((i) => `    let a${i} = select(0.0, ${inName(p.a.input)}[aBase${i} + ka], m0 + ${i32Literal(i * t.y)} < M);`),
    ...range(WN).map((j) => `    let b${j} = select(0.0, ${inName(p.b.input)}[bBase${j} + kb], n0 + ${i32Literal(j * t.x)} < N);`),
    ...range(WM).flatMap((i) => range(WN).map((j) => `    acc${i}_${j} = acc${i}_${j} + a${i} * b${j};`)),
    `  }`,
    ...range(WM).flatMap((i) => range(WN).flatMap((j) => [
      `  {`,
      `    let mi = m0 + ${i32Literal(i * t.y)};`,
      `    let ni = n0 + ${i32Literal(j * t.x)};`,
      `    if (mi < M && ni < N) {`,
      ...decode(p.rows, 'mi', '      '),
      ...decode(p.cols, 'ni', '      '),
      `      let accValue = acc${i}_${j};`,
      `      ${store}`,
      `    }`,
      `  }`,
    ])),
    `}`,
  ];
  return withHelpers([...header, ...declarations(k, slots, split ? 'scratch-write' : 'out'), ...body].join('\n'));
}
