// Window max/min kernels (max pooling, max/min over a middle axis) in WebAssembly SIMD
// (compiler/codegen/wasm/simd-window.ts) and in JavaScript, against the reference interpreter,
// bit for bit: every pool shape at its edges (stride ≠ kernel, dilation, padding, odd sizes,
// output widths that are not multiples of 4, batch 1 and 3), with ties, NaN and ±0 in the data,
// and the max-pool backward fed by the forward's output (it routes gradients by equality, so an
// inexact forward would lose them).
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { compileAndLoad } from '../grad/check.ts';
import { floatBits, specialData } from './special-values.ts';

type Pair = [number, number];
interface PoolCase {
  readonly name: string;
  readonly x: Dim[];
  readonly kernel: Pair;
  readonly strides: Pair;
  readonly pads?: [number, number, number, number];
  readonly dilations?: Pair;
  /** Whether the forward kernel is expected to have a SIMD version. */
  readonly simd: boolean;
}

const CASES: PoolCase[] = [
  { name: 'k2s2', x: ['N', 3, 26, 26], kernel: [2, 2], strides: [2, 2], simd: true },
  { name: 'k2s2-odd', x: ['N', 2, 9, 11], kernel: [2, 2], strides: [2, 2], simd: true },
  { name: 'k2s2-wide', x: ['N', 1, 4, 37], kernel: [2, 2], strides: [2, 2], simd: true },
  { name: 'k3s2', x: ['N', 2, 11, 19], kernel: [3, 3], strides: [2, 2], simd: true },
  { name: 'k3s1', x: ['N', 2, 7, 13], kernel: [3, 3], strides: [1, 1], simd: true },
  { name: 'k2s1', x: ['N', 1, 5, 6], kernel: [2, 2], strides: [1, 1], simd: true },
  { name: 'k1x3s1', x: ['N', 2, 3, 10], kernel: [1, 3], strides: [1, 1], simd: true },
  { name: 'k2s2-dil2', x: ['N', 1, 9, 17], kernel: [2, 2], strides: [2, 2], dilations: [2, 2], simd: true },
  { name: 'k2-s1x2', x: ['N', 2, 7, 9], kernel: [2, 2], strides: [1, 2], simd: true },
  // Stride 3 along the width and padded windows keep their JavaScript kernels.
  { name: 'k3s3', x: ['N', 2, 9, 14], kernel: [3, 3], strides: [3, 3], simd: false },
  { name: 'k3s2-pad', x: ['N', 2, 8, 9], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], simd: false },
];

const input = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float32', shape });

const pool = (c: PoolCase, x: Node) =>
  makeNode('maxPool2d', [x], { kernel: c.kernel, strides: c.strides, pads: c.pads ?? [0, 0, 0, 0], dilations: c.dilations ?? [1, 1] });

function concrete(shape: Dim[], batch: number): number[] {
  return shape.map((d) => (d === 'N' ? batch : (d as number)));
}

/** One module for all cases: forward pools, relu(pool) (a fused epilogue), and the backward. */
function graphOf(cases: readonly PoolCase[]): Graph {
  const inputs: Node[] = [];
  const outputs: { name: string; node: Node }[] = [];
  cases.forEach((c, i) => {
    const x = input(`x${i}`, c.x);
    const y = pool(c, x);
    const dy = input(`dy${i}`, y.type.shape as Dim[]);
    inputs.push(x, dy);
    outputs.push({ name: `pool${i}`, node: y });
    outputs.push({ name: `relu${i}`, node: makeNode('relu', [pool(c, x)]) });
    outputs.push({ name: `back${i}`, node: makeNode('maxPool2dBackward', [dy, x, y], y.attrs) });
  });
  const x = input('m', ['N', 3, 5, 7]);
  inputs.push(x);
  outputs.push({ name: 'max_mid', node: makeNode('reduceMax', [x], { axes: [2], keepdims: true }) });
  outputs.push({ name: 'min_mid', node: makeNode('reduceMin', [x], { axes: [1], keepdims: false }) });
  return { name: 'pool_kernels', inputs, outputs };
}

describe('window max/min kernels are bit-identical to the interpreter, in SIMD and in JavaScript', () => {
  const graph = graphOf(CASES);

  it('renders SIMD versions for unpadded windows of width-stride 1 or 2, and only for them', () => {
    const kernels = compileGraph(graph).program.kernels;
    CASES.forEach((c, i) => {
      const fwd = kernels.find((k) => k.ops[0] === 'maxPool2d' && k.reads.some((r) => r.attrs.name === `x${i}`) && k.ops.length === 1);
      expect(fwd, c.name).toBeDefined();
      expect(renderSimdKernel(fwd!) !== null, c.name).toBe(c.simd);
    });
    const mids = kernels.filter((k) => k.ops[0] === 'reduceMax' || k.ops[0] === 'reduceMin');
    expect(mids.map((k) => renderSimdKernel(k) !== null)).toEqual([true, true]);
  });

  for (const batch of [1, 3]) {
    it(`forward, fused relu and backward at batch ${batch}`, async () => {
      const feeds: Record<string, Float32Array> = {};
      let seed = 7 + batch;
      for (const n of graph.inputs) feeds[n.attrs.name as string] = specialData(numel(concrete(n.type.shape as Dim[], batch)), seed++);
      const feeds64 = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Float64Array.from(v)]));
      const want = interpret(graph, feeds64, {}, batch);
      for (const simd of [true, false]) {
        const { model } = await compileAndLoad(graph, 'pool-kernels', `batch${batch}`, undefined, 'js', { simd });
        expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(simd);
        const got = model.run(feeds, batch);
        for (const o of graph.outputs) expect(floatBits(got[o.name] as Float32Array), `${o.name}, simd ${simd}`).toEqual(floatBits(want[o.name]));
      }
    });
  }
});
