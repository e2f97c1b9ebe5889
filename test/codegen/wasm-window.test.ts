// The forward max pool in WebAssembly SIMD (compiler/codegen/wasm/simd-window.ts): the straight
// path (taps unrolled, a stride-2 window's taps sharing their loads, the row's last vector
// overlapping the one before) and the general loops it falls back to (windows over 16 taps, rows
// under 4 outputs, an epilogue that reads another array), against the float64 reference
// interpreter and the JavaScript kernels, bit for bit but a NaN's payload. Data are small integers
// with ties, ±0, NaN and infinities: a max takes no rounding, and which of -0 and +0 it keeps (the
// first of equal taps) is the rule every kernel shares.
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
  readonly dilations?: Pair;
  /** What follows the pool in the same kernel: nothing, a ReLU, or the sum with another input (an array load). */
  readonly then?: 'relu' | 'add';
  /** Whether the straight path (taps unrolled) renders it. */
  readonly straight: boolean;
  /** Stride 4 is no window kernel's (the SIMD row reduction takes it, simd-rows.ts): values checked only. */
  readonly notWindow?: true;
}

// Output widths (the vector dimension) 13, 4, 5, 6, 7, 9, 18 (whole vectors and every remainder), and under 4.
const CASES: PoolCase[] = [
  { name: 'k2s2 (the MNIST CNN)', x: ['N', 3, 26, 26], kernel: [2, 2], strides: [2, 2], straight: true },
  { name: 'k2s2 4 wide', x: ['N', 2, 5, 8], kernel: [2, 2], strides: [2, 2], straight: true },
  { name: 'k2s2 5 wide', x: ['N', 2, 4, 11], kernel: [2, 2], strides: [2, 2], straight: true },
  { name: 'k2s2 6 wide', x: ['N', 1, 6, 12], kernel: [2, 2], strides: [2, 2], straight: true },
  { name: 'k2s2 7 wide, odd', x: ['N', 2, 7, 15], kernel: [2, 2], strides: [2, 2], straight: true },
  { name: 'k2s2 18 wide', x: ['N', 1, 4, 37], kernel: [2, 2], strides: [2, 2], straight: true },
  { name: 'k3s2', x: ['N', 2, 11, 19], kernel: [3, 3], strides: [2, 2], straight: true },
  { name: 'k3s1', x: ['N', 2, 7, 13], kernel: [3, 3], strides: [1, 1], straight: true },
  { name: 'k2s1', x: ['N', 1, 5, 6], kernel: [2, 2], strides: [1, 1], straight: true },
  { name: 'k2 s1×2', x: ['N', 2, 7, 9], kernel: [2, 2], strides: [1, 2], straight: true },
  { name: 'k2s2 dilation 2', x: ['N', 1, 9, 17], kernel: [2, 2], strides: [2, 2], dilations: [2, 2], straight: true },
  { name: 'k4s4 (16 taps)', x: ['N', 1, 9, 22], kernel: [4, 4], strides: [4, 4], straight: false, notWindow: true },
  { name: 'k4s2 (16 taps)', x: ['N', 1, 9, 22], kernel: [4, 4], strides: [2, 2], straight: true },
  { name: 'k5s1 (25 taps: loops)', x: ['N', 1, 9, 12], kernel: [5, 5], strides: [1, 1], straight: false },
  { name: 'k2s2 3 wide (loops)', x: ['N', 2, 5, 7], kernel: [2, 2], strides: [2, 2], straight: false },
  { name: 'k2s2 then ReLU', x: ['N', 2, 6, 14], kernel: [2, 2], strides: [2, 2], then: 'relu', straight: true },
  { name: 'k2s2 then add (loops)', x: ['N', 2, 6, 14], kernel: [2, 2], strides: [2, 2], then: 'add', straight: false },
];

const input = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float32', shape });

function graphOf(cases: readonly PoolCase[]): Graph {
  const inputs: Node[] = [];
  const outputs: { name: string; node: Node }[] = [];
  cases.forEach((c, i) => {
    const x = input(`x${i}`, c.x);
    inputs.push(x);
    let y = makeNode('maxPool2d', [x], { kernel: c.kernel, strides: c.strides, pads: [0, 0, 0, 0], dilations: c.dilations ?? [1, 1] });
    if (c.then === 'relu') y = makeNode('relu', [y]);
    if (c.then === 'add') {
      const z = input(`z${i}`, y.type.shape as Dim[]);
      inputs.push(z);
      y = makeNode('add', [y, z]);
    }
    outputs.push({ name: `y${i}`, node: y });
  });
  return { name: 'wasm_window', inputs, outputs };
}

describe('the forward max pool in WebAssembly SIMD', () => {
  const graph = graphOf(CASES);

  it('renders every case as a window kernel, on the straight path where it applies', () => {
    const kernels = compileGraph(graph).program.kernels.filter((k) => k.ops[0] === 'maxPool2d');
    expect(kernels.length).toBe(CASES.length);
    const hows = kernels.map((k) => renderSimdKernel(k)?.how ?? 'none');
    // Kernels come in output order: one per case.
    CASES.forEach((c, i) => {
      expect(hows[i], c.name).toMatch(c.notWindow ? /^SIMD: / : /^SIMD: window max/);
      expect(/taps unrolled/.test(hows[i]), c.name).toBe(c.straight);
    });
  });

  for (const batch of [1, 3]) {
    it(`matches the interpreter at batch ${batch}, and the JavaScript kernels`, async () => {
      const feeds: Record<string, Float32Array> = {};
      let seed = 7 + batch;
      for (const n of graph.inputs) {
        const shape = (n.type.shape as Dim[]).map((d) => (d === 'N' ? batch : (d as number)));
        feeds[n.attrs.name as string] = specialData(numel(shape), seed++);
      }
      const want = interpret(graph, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Float64Array.from(v)])), {}, batch);
      for (const simd of [true, false]) {
        const { model } = await compileAndLoad(graph, 'wasm-window', `batch${batch}`, undefined, 'js', { simd });
        expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(simd);
        const got = model.run(feeds, batch) as Record<string, Float32Array>;
        CASES.forEach((c, i) => expect(floatBits(got[`y${i}`]), `${c.name} ${simd ? 'simd' : 'js'}`).toEqual(floatBits(Float32Array.from(want[`y${i}`]))));
      }
    });
  }
});
