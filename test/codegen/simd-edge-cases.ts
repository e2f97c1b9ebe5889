// Shared by simd-blocked.test.ts and simd-relaxed.test.ts: float32 products at the SIMD kernels'
// tile and block edges, the float64 reference interpreter's answers for them, and emitted modules
// on disk (so a child process started with an engine flag can load the same module).
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { emitJsModule } from '../../compiler/emit/js/module.ts';
import { KC, NC } from '../../compiler/codegen/wasm/simd-blocked.ts';
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

/** Products whose packed operand is at least 256 KiB (where blocking starts), sizes at each block edge. */
export const BLOCKED: EdgeCase[] = [
  // Exactly 256 KiB: one block, one panel.
  { name: 'k256_m256', shapes: [['N', KC], [KC, NC]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // One block short of KC, 2 panels + a partial one of 8 columns, no column tail.
  { name: 'k255_m520', shapes: [['N', KC - 1], [KC - 1, 2 * NC + 8]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // KC + 1: a last block of one step; 2 panels and a 1-column tail.
  { name: 'k257_m513', shapes: [['N', KC + 1], [KC + 1, 2 * NC + 1]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // Two whole blocks, one whole panel and a 7-column tail, with bias and ReLU after the last block.
  { name: 'dense_k512_m263', shapes: [['N', 2 * KC], [2 * KC, NC + 7], [NC + 7]], build: ([x, w, b]) => makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w]), b])]) },
  // Three blocks and one step (odd k), a partial panel of 168 columns and a 3-column tail.
  { name: 'k769_m171', shapes: [['N', 3 * KC + 1], [3 * KC + 1, 171]], build: ([x, w]) => makeNode('matmul', [x, w]) },
  // A transposed splatted operand with a fixed number of rows (19: four 4-row tiles and 3 single rows).
  { name: 'xt_k257_m513', shapes: [[KC + 1, 19], [KC + 1, 2 * NC + 1]], build: ([x, w]) => makeNode('matmul', [x, w], { transA: true }) },
];

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

/** Runs emitted module `file` in `node --experimental-wasm-relaxed-simd` on `feeds`; returns whether relaxed SIMD ran, and the outputs. */
export function runRelaxed(file: string, feeds: Record<string, Float32Array>, batch: number): { relaxed: boolean; outputs: Record<string, number[]> } {
  const feedFile = `${file}.feeds.json`;
  writeFileSync(feedFile, JSON.stringify(Object.fromEntries(Object.entries(feeds).map(([n, v]) => [n, Array.from(v)]))));
  const script = [
    `import { readFileSync } from 'node:fs';`,
    `const { createModel } = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    `const feeds = Object.fromEntries(Object.entries(JSON.parse(readFileSync(${JSON.stringify(feedFile)}, 'utf8'))).map(([n, v]) => [n, Float32Array.from(v)]));`,
    `const model = createModel({});`,
    `const got = model.run(feeds, ${batch});`,
    `process.stdout.write(JSON.stringify({ relaxed: model.memory?.relaxed === true, outputs: Object.fromEntries(Object.entries(got).map(([n, v]) => [n, Array.from(v)])) }));`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`child node failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
