// Direct convolution against im2col + matrix product, all as Kiln compiles them (WebAssembly SIMD
// where Kiln has it, one thread), on the convolutions of the example models (batch 64, forward
// with bias and ReLU):
// - direct: the conv2d op, one contraction kernel (a padded one reads a padded copy: pad-conv);
// - im2col, one kernel: the input flattened to [N, C, H·W] and gathered at constant int32 indices
//   into [N, C·k·k, H'·W'] (one gather kernel; reshapes are views), then one matrix product
//   [F, C·k·k] · [N, C·k·k, H'·W'] with bias and ReLU as its epilogue;
// - im2col, slices: the k·k shifted windows sliced and concatenated (the form bench/conv.md had
//   before, many data-movement kernels), then the same product.
// Outputs are compared before timing. Times are the kernels' own (a profile build's kernelTimes),
// not predict's: predict returns a copy of its output, which for the cnn conv's 5.5 MB at batch 64
// was most of a call. Usage: npx tsx bench/conv.ts → bench/conv.md (the table and its notes; the
// hand-written sections after the table are kept).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { makeNode } from '../src/ir/build.ts';
import type { Graph } from '../src/ir/graph.ts';
import type { Node } from '../src/ir/node.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const BATCH = 64;
interface Shape {
  readonly name: string;
  readonly c: number;
  readonly f: number;
  readonly size: number;
  readonly k: number;
  readonly pad: number;
}
const SHAPES: Shape[] = [
  { name: 'cnn conv (1→32, 28×28, 3×3)', c: 1, f: 32, size: 28, k: 3, pad: 0 },
  { name: 'cnn2 conv2 (32→64, 13×13, 3×3)', c: 32, f: 64, size: 13, k: 3, pad: 0 },
  { name: 'lenet conv1 (1→10, 28×28, 5×5)', c: 1, f: 10, size: 28, k: 5, pad: 0 },
  { name: 'lenet conv2 (10→20, 12×12, 5×5)', c: 10, f: 20, size: 12, k: 5, pad: 0 },
  { name: 'cifar-cnn conv1 (3→64, 32×32, 3×3, pad 1)', c: 3, f: 64, size: 32, k: 3, pad: 1 },
  { name: 'cifar-cnn conv2 (64→128, 16×16, 3×3, pad 1)', c: 64, f: 128, size: 16, k: 3, pad: 1 },
];

interface Emitted {
  createModel(w: Record<string, Float32Array>): { predict(x: Float32Array, batch: number): Float32Array };
  /** Per-kernel wall time since the last reset (a module compiled with profile: true). */
  kernelTimes: Record<string, { ms: number; calls: number }>;
  resetKernelTimes(): void;
}

const param = (name: string, shape: number[]) => makeNode('param', [], { name, dtype: 'float32', shape, init: { kind: 'zeros' }, trainable: true });
const xInput = (s: Shape) => makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', s.c, s.size, s.size] });
const outSize = (s: Shape) => s.size + 2 * s.pad - s.k + 1;

/** Bias and ReLU on [N, F, out, out]. */
function finish(y: Node, s: Shape): Graph['outputs'] {
  const b = makeNode('reshape', [param('b', [s.f])], { shape: [s.f, 1, 1] });
  return [{ name: 'y', node: makeNode('relu', [makeNode('add', [y, b])]) }];
}

function direct(s: Shape): Graph {
  const x = xInput(s);
  const p = s.pad;
  const y = makeNode('conv2d', [x, param('w', [s.f, s.c, s.k, s.k])], { strides: [1, 1], pads: [p, p, p, p], dilations: [1, 1], group: 1 });
  return { name: 'direct', inputs: [x], outputs: finish(y, s) };
}

/** The input, padded where the convolution pads (one more kernel). */
function padded(x: Node, s: Shape): Node {
  const p = s.pad;
  return p ? makeNode('pad', [x], { pads: [0, 0, p, p, 0, 0, p, p], mode: 'constant', value: 0 }) : x;
}

/** relu(wcol · cols + b), wcol [F, C·k·k] laid out as `w` flattened, cols [N, C·k·k, out²]: bias and ReLU fuse into the product. */
function product(cols: Node, s: Shape): Graph['outputs'] {
  const out = outSize(s);
  const b = makeNode('reshape', [param('b', [s.f])], { shape: [s.f, 1] });
  const y = makeNode('relu', [makeNode('add', [makeNode('matmul', [param('wcol', [s.f, s.c * s.k * s.k]), cols]), b])]);
  return [{ name: 'y', node: makeNode('reshape', [y], { shape: [-1, s.f, out, out] }) }];
}

function im2colGather(s: Shape): Graph {
  const x = xInput(s);
  const size = s.size + 2 * s.pad;
  const out = outSize(s);
  const flat = makeNode('reshape', [padded(x, s)], { shape: [-1, s.c, size * size] });
  // idx[(i·k + j), (y·out + x)] = (y + i)·size + (x + j): channel-major rows (c, i, j), as w is.
  const values: number[] = [];
  for (let i = 0; i < s.k; i++) for (let j = 0; j < s.k; j++) for (let y = 0; y < out; y++) for (let xx = 0; xx < out; xx++) values.push((y + i) * size + xx + j);
  const idx = makeNode('const', [], { dtype: 'int32', shape: [s.k * s.k, out * out], values });
  const gathered = makeNode('gather', [flat, idx], { axis: 2 });
  const cols = makeNode('reshape', [gathered], { shape: [-1, s.c * s.k * s.k, out * out] });
  return { name: 'im2col1', inputs: [x], outputs: product(cols, s) };
}

function im2colSlices(s: Shape): Graph {
  const x = xInput(s);
  const src = padded(x, s);
  const out = outSize(s);
  const windows: Node[] = [];
  for (let i = 0; i < s.k; i++) for (let j = 0; j < s.k; j++) windows.push(makeNode('slice', [src], { starts: [i, j], ends: [i + out, j + out], axes: [2, 3], steps: [1, 1] }));
  // Stacked as [N, k·k, C, out, out], then moved to channel-major rows (c, i, j).
  const stacked = makeNode('concat', windows.map((w) => makeNode('reshape', [w], { shape: [-1, 1, s.c, out * out] })), { axis: 1 });
  const moved = makeNode('transpose', [stacked], { perm: [0, 2, 1, 3] });
  const cols = makeNode('reshape', [moved], { shape: [-1, s.c * s.k * s.k, out * out] });
  return { name: 'im2col', inputs: [x], outputs: product(cols, s) };
}

async function load(graph: Graph, tag: string): Promise<{ mod: Emitted; kernels: number }> {
  const dir = path.resolve('build/bench-conv');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${tag}.mjs`);
  const compiled = compileModel(graph, { seed: 1, profile: true });
  writeFileSync(file, compiled.js);
  return { mod: (await import(pathToFileURL(file).href)) as Emitted, kernels: compiled.program.kernels.length };
}

/**
 * Milliseconds per call in the kernels of each form (their summed wall time, the profile build's
 * kernelTimes), the forms sampled in turn, 101 rounds: the 10th percentile of each form's samples
 * of at least 0.5 ms (one call, mostly). Wall time on the shared machine includes other
 * processes' turns; short interleaved samples and a low percentile give the undisturbed time.
 */
function kernelMs(forms: readonly { mod: Emitted; call: () => void }[]): number[] {
  const sample = (form: (typeof forms)[number], n: number) => {
    form.mod.resetKernelTimes();
    for (let i = 0; i < n; i++) form.call();
    return Object.values(form.mod.kernelTimes).reduce((a, t) => a + t.ms, 0);
  };
  const calls = forms.map((form) => {
    let n = 1;
    while (sample(form, n) < 0.5) n *= 2;
    return n;
  });
  const ms: number[][] = forms.map(() => []);
  for (let r = 0; r < 101; r++) {
    for (let j = 0; j < forms.length; j++) {
      const i = (j + r) % forms.length;
      ms[i].push(sample(forms[i], calls[i]) / calls[i]);
    }
  }
  return ms.map((m) => m.sort((a, b) => a - b)[10]);
}

const rows: string[] = [];
const loads: number[] = [loadavg()[0]];
for (const s of SHAPES) {
  const out = outSize(s);
  const w = Float32Array.from({ length: s.f * s.c * s.k * s.k }, (_, i) => Math.sin(i * 1.7) * 0.2);
  const b = Float32Array.from({ length: s.f }, (_, i) => Math.cos(i) * 0.1);
  const x = Float32Array.from({ length: BATCH * s.c * s.size * s.size }, (_, i) => Math.sin(i * 0.37));
  const tag = `c${s.c}f${s.f}s${s.size}k${s.k}p${s.pad}`;
  const variants: { v: Awaited<ReturnType<typeof load>>; weights: Record<string, Float32Array> }[] = [
    { v: await load(direct(s), `direct-${tag}`), weights: { w, b } },
    { v: await load(im2colGather(s), `im2col1-${tag}`), weights: { wcol: w, b } },
    { v: await load(im2colSlices(s), `im2col-${tag}`), weights: { wcol: w, b } },
  ];
  const models = variants.map(({ v, weights }) => v.mod.createModel(weights));
  const ys = models.map((m) => m.predict(x, BATCH));
  for (const [i, y] of ys.entries()) {
    const diff = y.reduce((worst, v, j) => Math.max(worst, Math.abs(v - ys[0][j])), 0);
    if (!(diff <= 1e-4)) throw new Error(`${s.name}: variant ${i} and direct disagree by ${diff}`);
  }
  // Warm every form first: V8 compiles WebAssembly with its baseline compiler and tiers up in the
  // background, which on a loaded machine can take longer than a benchmark's own warm-up.
  for (let i = 0; i < 30; i++) for (const m of models) m.predict(x, BATCH);
  const macs = BATCH * s.f * out * out * s.k * s.k * s.c;
  const gflops = (h: number) => (2 * macs * h) / 1e9;
  const g = kernelMs(models.map((m, i) => ({ mod: variants[i].v.mod, call: () => m.predict(x, BATCH) }))).map((ms) => gflops(1000 / ms));
  rows.push(`| ${s.name} | ${variants.map((v, i) => `${v.v.kernels} | ${g[i].toFixed(2)}`).join(' | ')} | ${(g[0] / g[1]).toFixed(2)}× | ${(g[0] / g[2]).toFixed(2)}× |`);
  loads.push(loadavg()[0]);
  console.log(rows[rows.length - 1]);
}
const report = path.join(here, 'conv.md');
const before = existsSync(report) ? readFileSync(report, 'utf8') : '';
const kept = before.includes('\n## ') ? before.slice(before.indexOf('\n## ') + 1) : '';
writeFileSync(
  report,
  [
    '# Direct convolution and im2col, as Kiln compiles them',
    '',
    `- ${new Date().toISOString()}; batch ${BATCH}; forward with bias and ReLU; one thread; WebAssembly SIMD kernels where Kiln has them; outputs agree to 1e-4 before timing.`,
    '- GFLOP/s counts 2 per multiply-add of the convolution (the im2col copies do none), per second of the kernels\' own time (a profile build\'s per-kernel wall time summed; the forms sampled in turn, 101 rounds, each form\'s 10th percentile of samples of at least 0.5 ms, after 30 warm-up calls of every form, as the undisturbed time on the shared machine); the copy of the output that `predict` returns is not counted (before 2026-12-03 it was, and it was most of the cnn conv\'s call). "kernels" counts the compiled kernels of each form.',
    '- direct: the conv2d op (padded: a pad kernel, then the convolution); im2col (gather): one gather kernel builds [N, C·k·k, H′·W′], then one product [F, C·k·k] · cols with bias and ReLU fused; im2col (slices): k·k slices concatenated and transposed, then the same product.',
    `- 1-minute load average while it ran: ${loads.map((l) => l.toFixed(1)).join(', ')} (the machine is shared; compare within a row, not across runs).`,
    '',
    '| convolution | direct: kernels | direct GFLOP/s | im2col (gather): kernels | GFLOP/s | im2col (slices): kernels | GFLOP/s | direct ÷ gather | direct ÷ slices |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    // The hand-written sections after the table (from its first '## ' heading) stay.
    ...(kept ? [kept] : []),
  ].join('\n'),
);
