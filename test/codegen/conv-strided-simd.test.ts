// Strided, dilated, padded and grouped convolutions and their gradients with the WebAssembly SIMD
// kernels on and off, against the float64 reference interpreter. A stride-2 convolution is a
// broadcast register tile reading its input at stride 2 (simd-conv-strided.ts); the input gradient
// of such a convolution is the scatter kernel conv2dBackwardInput (a plain convolution's is itself
// a convolution), rendered by compiler/codegen/wasm/simd-pool.ts. Data are small integers and ±0, so
// every sum is exact in float32 and results must match bit for bit.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { compileAndLoad } from '../grad/check.ts';

type Pair = [number, number];
interface ConvCase {
  readonly name: string;
  readonly x: Dim[];
  readonly filters: number;
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly pads?: [number, number, number, number];
  readonly dilations?: Pair;
  readonly group?: number;
}

const CASES: ConvCase[] = [
  { name: 's2', x: ['N', 3, 15, 17], filters: 4, kernel: [3, 3], strides: [2, 2] },
  { name: 's2-pad1', x: ['N', 2, 14, 13], filters: 5, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 's2-k2', x: ['N', 2, 8, 10], filters: 3, kernel: [2, 2], strides: [2, 2] },
  { name: 's1x2', x: ['N', 2, 9, 11], filters: 3, kernel: [3, 3], strides: [1, 2], pads: [0, 1, 0, 2] },
  { name: 's3-k5', x: ['N', 1, 16, 21], filters: 2, kernel: [5, 5], strides: [3, 3], pads: [2, 2, 2, 2] },
  { name: 'dil2', x: ['N', 2, 11, 13], filters: 3, kernel: [3, 3], strides: [1, 1], dilations: [2, 2] },
  { name: 'group2', x: ['N', 4, 9, 9], filters: 6, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], group: 2 },
  { name: 's2-group2', x: ['N', 4, 10, 7], filters: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 2 },
  { name: 'conv1d-s2', x: ['N', 3, 1, 30], filters: 4, kernel: [1, 5], strides: [1, 2], pads: [0, 2, 0, 2] },
  // 6 and 5 input channels: the input gradient tiles 4 channels at a time, then single ones.
  { name: 's2-c6', x: ['N', 6, 11, 13], filters: 3, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'dil2-c5', x: ['N', 5, 9, 10], filters: 2, kernel: [3, 3], strides: [1, 1], dilations: [2, 2] },
];

const input = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float32', shape });
const attrsOf = (c: ConvCase) => ({ strides: c.strides, pads: c.pads ?? [0, 0, 0, 0], dilations: c.dilations ?? [1, 1], group: c.group ?? 1 });

/** Small integers in [-4, 4], ±0 among them, deterministic. */
function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s >>> 24;
    out[i] = r < 8 ? -0 : (r % 9) - 4;
  }
  return out;
}

function bits(a: ArrayLike<number>): number[] {
  return Array.from(new Uint32Array(Float32Array.from(a).buffer));
}

function graphOf(cases: readonly ConvCase[]): Graph {
  const inputs: Node[] = [];
  const outputs: { name: string; node: Node }[] = [];
  cases.forEach((c, i) => {
    const x = input(`x${i}`, c.x);
    const w = input(`w${i}`, [c.filters, (c.x[1] as number) / (c.group ?? 1), ...c.kernel]);
    const y = makeNode('conv2d', [x, w], attrsOf(c));
    const dy = input(`dy${i}`, y.type.shape as Dim[]);
    inputs.push(x, w, dy);
    outputs.push({ name: `y${i}`, node: y });
    outputs.push({ name: `dx${i}`, node: makeNode('conv2dBackwardInput', [dy, w], { ...attrsOf(c), inputShape: c.x }) });
    outputs.push({ name: `dw${i}`, node: makeNode('conv2dBackwardFilter', [dy, x], { ...attrsOf(c), inputShape: w.type.shape as Dim[] }) });
  });
  return { name: 'conv_strided', inputs, outputs };
}

describe('strided, dilated and grouped convolutions with SIMD kernels', () => {
  const graph = graphOf(CASES);

  it('renders every convolution input gradient here as a SIMD gather kernel', () => {
    const kernels = compileGraph(graph).program.kernels.filter((k) => k.ops[0] === 'conv2dBackwardInput');
    expect(kernels.length).toBe(CASES.length);
    for (const k of kernels) expect(renderSimdKernel(k)?.how ?? 'none', k.name).toMatch(/^SIMD: pooling gather/);
    // With 4 or more input channels, 4 of them at a time share each load of dy.
    const tiled = kernels.filter((k) => /tile 4 o1 rows/.test(renderSimdKernel(k)!.how)).map((k) => k.shape[1]);
    expect(tiled.sort()).toEqual([5, 6]);
  });

  it('renders grouped convolutions (not contractions: the channel is an index quotient) as SIMD gather kernels', () => {
    const kernels = compileGraph(graph).program.kernels.filter((k) => k.ops[0] === 'conv2d');
    CASES.forEach((c, i) => {
      if (!c.group) return;
      const k = kernels.find((k) => k.reads.some((r) => r.attrs.name === `w${i}`));
      expect(renderSimdKernel(k!)?.how ?? 'none', c.name).toMatch(/^SIMD: pooling gather/);
    });
  });

  it('renders stride-2 convolutions as broadcast tiles along the output width (strided vector loads)', () => {
    const kernels = compileGraph(graph).program.kernels.filter((k) => k.ops[0] === 'conv2d');
    CASES.forEach((c, i) => {
      if (c.strides[1] !== 2 || c.group) return;
      const k = kernels.find((k) => k.reads.some((r) => r.attrs.name === `w${i}`));
      // Fewer than 4 filters: single rows only (no 4-row tile would run).
      const tile = c.filters < 4 ? '1 × 16 o3' : '4 o1 × 8 o3';
      expect(renderSimdKernel(k!)?.how ?? 'none', c.name).toMatch(new RegExp(`^SIMD: 4 outputs along o3 per vector; tile ${tile}`));
    });
  });

  for (const batch of [1, 3]) {
    it(`forward, input and filter gradients equal the interpreter bit for bit at batch ${batch}`, async () => {
      const feeds: Record<string, Float32Array> = {};
      let seed = 5 + batch;
      for (const n of graph.inputs) feeds[n.attrs.name as string] = data(numel((n.type.shape as Dim[]).map((d) => (d === 'N' ? batch : (d as number)))), seed++);
      const want = interpret(graph, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Float64Array.from(v)])), {}, batch);
      for (const simd of [true, false]) {
        const { model } = await compileAndLoad(graph, 'conv-strided-simd', `batch${batch}`, undefined, 'js', { simd });
        expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(simd);
        const got = model.run(feeds, batch) as Record<string, Float32Array>;
        for (const o of graph.outputs) expect(bits(got[o.name]), `${o.name} simd ${simd}`).toEqual(bits(want[o.name]));
      }
    });
  }
});
