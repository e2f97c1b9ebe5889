// Rendered JS kernels of examples/cnn.ts: golden file snapshots, and each rendered kernel run against naive loops.
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderJsKernel } from '../../compiler/codegen/js-kernel.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { erf } from '../../runtime/math.ts';
import { Lcg } from '../reference/lcg.ts';
import { conv2d, maxPool2d, tensor } from '../reference/naive.ts';

let kernels: readonly Kernel[] = [];

beforeAll(async () => {
  const graph = ((await import('../../examples/cnn.ts')) as { default: { graph: Graph } }).default.graph;
  kernels = compileGraph(graph).program.kernels;
});

const byOps = (ops: string) => {
  const k = kernels.find((x) => x.ops.join('→') === ops);
  if (!k) throw new Error(`no kernel ${ops} among ${kernels.map((x) => x.ops.join('→')).join(', ')}`);
  return k;
};

type KernelFn = (batch: number, out: Float32Array, ...ins: Float32Array[]) => void;

/** The rendered kernel, types stripped, as a callable function. */
function load(k: Kernel): KernelFn {
  const js = ts.transpileModule(renderJsKernel(k), { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
  return new Function('erf', `${js}\nreturn ${k.name};`)(erf) as KernelFn;
}

const random = (n: number, rng: Lcg, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));

describe('golden kernels of examples/cnn.ts', () => {
  it.each([
    ['conv2d→add→relu', 'cnn-conv-relu'],
    ['maxPool2d', 'cnn-maxpool'],
    ['matmul→add→relu', 'cnn-dense-relu'],
    ['matmul→add', 'cnn-dense-logits'],
    ['div', 'cnn-softmax-div'], // recomputes exp(x − max) where it reads it
  ])('%s matches __snapshots__/%s.js.snap', async (ops, file) => {
    await expect(renderJsKernel(byOps(ops))).toMatchFileSnapshot(`__snapshots__/${file}.js.snap`);
  });

  it('renders a function with literal bounds except the batch loop, allocating nothing per call', () => {
    const src = renderJsKernel(byOps('matmul→add→relu'));
    expect(src).toMatch(/\/\*\*\n \* k3: matmul -> add -> relu \(dense_\d+\)/);
    // The outermost output loop (the batch here) runs [lo, hi), by default all of it.
    expect(src).toContain('function k3(batch: number, out: Float32Array, in0: Float32Array, in1: Float32Array, in2: Float32Array, lo = 0, hi = batch): void {');
    const body = src.slice(src.indexOf('function k3('));
    // Every loop bound is a literal, except the split loop's (hi: the batch size by default).
    const conditions = [...body.matchAll(/for \([^;]*;([^;]*);/g)].map((m) => m[1].trim());
    expect(conditions.length).toBeGreaterThanOrEqual(3);
    for (const c of conditions) expect(c).toMatch(/<=? (\d+|hi)$/);
    expect(conditions.some((c) => c.endsWith('hi'))).toBe(true);
    expect(conditions.some((c) => c.endsWith(' 5408'))).toBe(true);
    expect(conditions.some((c) => c.endsWith(' 128'))).toBe(true);
    // Any scratch space lives outside the function: calls allocate nothing.
    expect(body).not.toMatch(/new |\.push\(/);
  });

  it('is valid TypeScript: renderJsKernel output transpiles without diagnostics', () => {
    for (const k of kernels) {
      const r = ts.transpileModule(renderJsKernel(k), { reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022 } });
      expect(r.diagnostics ?? [], k.name).toEqual([]);
    }
  });
});

describe('rendered kernels compute what naive loops compute', () => {
  it('dense matmul→add→relu', () => {
    const k = byOps('matmul→add→relu');
    const [K, M] = k.inputs[1].shape as number[];
    const batch = 2;
    const rng = new Lcg(3);
    const x = random(batch * K, rng);
    const w = random(K * M, rng, -0.05, 0.05);
    const b = random(M, rng);
    const out = new Float32Array(batch * M).fill(NaN);
    load(k)(batch, out, x, w, b);
    const want = new Float64Array(batch * M);
    for (let n = 0; n < batch; n++) {
      for (let j = 0; j < M; j++) {
        let s = 0;
        for (let i = 0; i < K; i++) s += x[n * K + i] * w[i * M + j];
        want[n * M + j] = Math.max(s + b[j], 0);
      }
    }
    expect(out).toBeAllclose(want, { rtol: 1e-5, atol: 1e-6 });
    expect(Array.from(out).some((v) => v > 0) && Array.from(out).some((v) => v === 0)).toBe(true);
  });

  it('conv2d→add→relu (3×3, 1 → 32 channels, 28×28 → 26×26)', () => {
    const k = byOps('conv2d→add→relu');
    const [F, C, KH, KW] = k.inputs[1].shape as number[];
    const [, , H, W] = k.inputs[0].shape as number[];
    const batch = 2;
    const rng = new Lcg(5);
    const x = random(batch * C * H * W, rng);
    const w = random(F * C * KH * KW, rng);
    const b = random(F, rng, -0.5, 0.5);
    const out = new Float32Array(batch * F * 26 * 26).fill(NaN);
    load(k)(batch, out, x, w, b);
    const conv = conv2d(tensor([batch, C, H, W], x), tensor([F, C, KH, KW], w));
    expect(conv.shape).toEqual([batch, F, 26, 26]);
    const want = conv.data.map((v, i) => Math.max(v + b[Math.floor(i / (26 * 26)) % F], 0));
    expect(out).toBeAllclose(want, { rtol: 1e-5, atol: 1e-6 });
  });

  it('maxPool2d 2×2 stride 2', () => {
    const k = byOps('maxPool2d');
    const [, C, H, W] = k.inputs[0].shape as number[];
    const batch = 3;
    const x = random(batch * C * H * W, new Lcg(9));
    const out = new Float32Array(batch * C * (H / 2) * (W / 2)).fill(NaN);
    load(k)(batch, out, x);
    expect(out).toBeAllclose(maxPool2d(tensor([batch, C, H, W], x), [2, 2], { strides: [2, 2] }).data, { rtol: 0, atol: 0 });
  });

  it('the transpose kernel moves channels-last input to NCHW', () => {
    const k = byOps('transpose');
    expect(k.inputs[0].shape).toEqual(['N', 28, 28, 1]);
    expect(k.shape).toEqual(['N', 1, 28, 28]);
    const batch = 2;
    const x = Float32Array.from({ length: batch * 784 }, (_, i) => i);
    const out = new Float32Array(batch * 784);
    load(k)(batch, out, x);
    expect(Array.from(out)).toEqual(Array.from(x)); // one channel: NHWC and NCHW coincide
  });

  it('a batch smaller than the buffer touches only its own part of the output', () => {
    const k = byOps('matmul→add');
    const M = k.shape[1] as number;
    const K = k.inputs[0].shape[1] as number;
    const out = new Float32Array(3 * M).fill(-7);
    load(k)(1, out, random(K, new Lcg(1)), random(K * M, new Lcg(2)), random(M, new Lcg(3)));
    expect(Array.from(out.subarray(M)).every((v) => v === -7)).toBe(true);
    expect(Array.from(out.subarray(0, M)).some((v) => v !== -7)).toBe(true);
  });
});
