// Direct convolution against im2col + matrix product, both as Kiln compiles them, on the
// convolutions of the example models (3×3, valid, batch 64, forward with bias and ReLU).
// - direct: the conv2d op, lowered to one kernel with 4×4 register tiles over filters × columns;
// - im2col: the nine shifted windows of the input sliced and concatenated into
//   [N, 9·C, H'·W'] (data movement kernels), then one matrix product [F, 9·C] · [N, 9·C, H'·W'].
// Outputs are compared before timing. Usage: npx tsx bench/conv.ts → bench/conv.md
import Benchmark from 'benchmark';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { makeNode } from '../src/ir/build.ts';
import type { Graph } from '../src/ir/graph.ts';
import type { Node } from '../src/ir/node.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const BATCH = 64;
const SHAPES = [
  { name: 'cnn conv (1→32, 28×28)', c: 1, f: 32, size: 28 },
  { name: 'lenet conv2 (20→50, 12×12)', c: 20, f: 50, size: 12 },
  { name: 'cnn2 conv2 (32→64, 13×13)', c: 32, f: 64, size: 13 },
];

interface Emitted {
  createModel(w: Record<string, Float32Array>): { predict(x: Float32Array, batch: number): Float32Array };
}

const param = (name: string, shape: number[]) => makeNode('param', [], { name, dtype: 'float32', shape, init: { kind: 'zeros' }, trainable: true });

function direct(c: number, f: number, size: number): Graph {
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', c, size, size] });
  const y = makeNode('conv2d', [x, param('w', [f, c, 3, 3])], { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
  const b = makeNode('reshape', [param('b', [f])], { shape: [f, 1, 1] });
  return { name: 'direct', inputs: [x], outputs: [{ name: 'y', node: makeNode('relu', [makeNode('add', [y, b])]) }] };
}

function im2col(c: number, f: number, size: number): Graph {
  const out = size - 2;
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', c, size, size] });
  const windows: Node[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) windows.push(makeNode('slice', [x], { starts: [i, j], ends: [i + out, j + out], axes: [2, 3], steps: [1, 1] }));
  // Rows in (window, channel) order; the weights below are laid out to match.
  const cols = makeNode('reshape', [makeNode('concat', windows, { axis: 1 })], { shape: [-1, 9 * c, out * out] });
  const y = makeNode('reshape', [makeNode('matmul', [param('wcol', [f, 9 * c]), cols])], { shape: [-1, f, out, out] });
  const b = makeNode('reshape', [param('b', [f])], { shape: [f, 1, 1] });
  return { name: 'im2col', inputs: [x], outputs: [{ name: 'y', node: makeNode('relu', [makeNode('add', [y, b])]) }] };
}

async function load(graph: Graph, tag: string): Promise<{ mod: Emitted; kernels: number }> {
  const dir = path.resolve('build/bench-conv');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${tag}.mjs`);
  const compiled = compileModel(graph, { seed: 1 });
  writeFileSync(file, compiled.js);
  return { mod: (await import(pathToFileURL(file).href)) as Emitted, kernels: compiled.program.kernels.length };
}

const hz = (f: () => void) => {
  const b = new Benchmark(f, { minSamples: 15, maxTime: 2 });
  b.run();
  return b.hz;
};

const rows: string[] = [];
for (const s of SHAPES) {
  const out = s.size - 2;
  const w = Float32Array.from({ length: s.f * s.c * 9 }, (_, i) => Math.sin(i * 1.7) * 0.2);
  // wcol[f][(i·3 + j)·C + c] = w[f][c][i][j]
  const wcol = new Float32Array(s.f * 9 * s.c);
  for (let f = 0; f < s.f; f++) for (let c = 0; c < s.c; c++) for (let k = 0; k < 9; k++) wcol[f * 9 * s.c + k * s.c + c] = w[((f * s.c + c) * 3 + Math.floor(k / 3)) * 3 + (k % 3)];
  const b = Float32Array.from({ length: s.f }, (_, i) => Math.cos(i) * 0.1);
  const x = Float32Array.from({ length: BATCH * s.c * s.size * s.size }, (_, i) => Math.sin(i * 0.37));
  const tag = `c${s.c}f${s.f}s${s.size}`;
  const d = await load(direct(s.c, s.f, s.size), `direct-${tag}`);
  const m = await load(im2col(s.c, s.f, s.size), `im2col-${tag}`);
  const dm = d.mod.createModel({ w, b });
  const mm = m.mod.createModel({ wcol, b });
  const [yd, ym] = [dm.predict(x, BATCH), mm.predict(x, BATCH)];
  const diff = yd.reduce((worst, v, i) => Math.max(worst, Math.abs(v - ym[i])), 0);
  if (diff > 1e-4) throw new Error(`${s.name}: direct and im2col disagree by ${diff}`);
  const macs = BATCH * s.f * out * out * 9 * s.c;
  const [hd, hm] = [hz(() => dm.predict(x, BATCH)), hz(() => mm.predict(x, BATCH))];
  const gflops = (h: number) => ((2 * macs * h) / 1e9).toFixed(2);
  rows.push(`| ${s.name} | ${d.kernels} | ${gflops(hd)} | ${m.kernels} | ${gflops(hm)} | ${(hd / hm).toFixed(2)}× |`);
  console.log(rows[rows.length - 1]);
}
writeFileSync(
  path.join(here, 'conv.md'),
  [
    '# Direct convolution and im2col, as Kiln compiles them',
    '',
    `- ${new Date().toISOString()}; batch ${BATCH}; forward with bias and ReLU; one thread; outputs agree to 1e-4 before timing.`,
    '- GFLOP/s counts 2 per multiply-add of the convolution (the im2col copies do none).',
    '',
    '| convolution | direct: kernels | direct GFLOP/s | im2col: kernels | im2col GFLOP/s | direct ÷ im2col |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n'),
);
