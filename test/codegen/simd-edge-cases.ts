// Shared by simd-blocked.test.ts and simd-relaxed.test.ts: float32 products at the SIMD kernels'
// tile and block edges, the float64 reference interpreter's answers for them, and emitted modules
// on disk (so a child process started with an engine flag can load the same module).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { emitJsModule } from '../../compiler/emit/js/module.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { Lcg } from '../reference/lcg.ts';

export const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '.out', 'simd-edges');

/** One product (or layer) under test: its inputs' shapes and how its output is built from them. */
export interface EdgeCase {
  readonly name: string;
  readonly shapes: readonly (readonly Dim[])[];
  readonly build: (xs: Node[]) => Node;
}

const input = (name: string, shape: readonly Dim[], dtype: 'float32' | 'float64') => makeNode('input', [], { name, dtype, shape: [...shape] });

/** x·W (W: [k, m]), x·Wᵀ (W: [m, k]) and xᵀ·y over a batch of rows, with the output relu(· + b) for x·W. */
export function products(k: number, m: number): EdgeCase[] {
  return [
    { name: `xw_${k}_${m}`, shapes: [['N', k], [k, m]], build: ([x, w]) => makeNode('matmul', [x, w]) },
    { name: `xwt_${k}_${m}`, shapes: [['N', k], [m, k]], build: ([x, w]) => makeNode('matmul', [x, w], { transB: true }) },
    { name: `xty_${k}_${m}`, shapes: [['N', k], ['N', m]], build: ([x, y]) => makeNode('matmul', [x, y], { transA: true }) },
    { name: `dense_${k}_${m}`, shapes: [['N', k], [k, m], [m]], build: ([x, w, b]) => makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w]), b])]) },
  ];
}

/** The cases as one graph in `dtype` (input names prefixed by case). */
export function graphOf(name: string, cases: readonly EdgeCase[], dtype: 'float32' | 'float64'): Graph {
  const inputs: Node[] = [];
  const outputs = cases.map((c) => {
    const xs = c.shapes.map((s, i) => input(`${c.name}_x${i}`, s, dtype));
    inputs.push(...xs);
    return { name: c.name, node: c.build(xs) };
  });
  return { name, inputs, outputs };
}

/** Seeded float32 feeds in [-1, 1) for every input at `batch`, and the float64 reference outputs for exactly those values. */
export function feedsAndReference(cases: readonly EdgeCase[], batch: number): { feeds: Record<string, Float32Array>; want: Record<string, Float64Array> } {
  const rng = new Lcg(19);
  const feeds: Record<string, Float32Array> = {};
  for (const c of cases) {
    c.shapes.forEach((s, i) => {
      feeds[`${c.name}_x${i}`] = Float32Array.from(rng.array(numel(s.map((d) => (d === 'N' ? batch : Number(d)))), -1, 1));
    });
  }
  const feeds64 = Object.fromEntries(Object.entries(feeds).map(([n, v]) => [n, Float64Array.from(v)]));
  const want = interpret(graphOf('reference', cases, 'float64'), feeds64, {}, batch) as Record<string, Float64Array>;
  return { feeds, want };
}

/** Compiles the float32 graph and writes its emitted module under test/.out/simd-edges; returns the file and the program. */
export function emitToFile(name: string, cases: readonly EdgeCase[]): { file: string; program: ReturnType<typeof compileGraph>['program'] } {
  const { program } = compileGraph(graphOf(name, cases, 'float32'));
  const { js } = emitJsModule(program, { graphHash: `simd-edges-${name}` });
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${name}.js`);
  writeFileSync(`${file}.${process.pid}.tmp`, js);
  // Renamed into place, so a module is never half-written when imported.
  renameSync(`${file}.${process.pid}.tmp`, file);
  return { file, program };
}

/** Largest |got − want| ÷ (atol + rtol·|want|) over the output: ≤ 1 passes. */
export function worstError(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i])) || (Number.isNaN(got[i]) ? Infinity : 0));
  return worst;
}
