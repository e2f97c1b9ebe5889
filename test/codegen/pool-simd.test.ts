// The pooling gather kernels in WebAssembly SIMD (compiler/codegen/wasm/simd-pool.ts): the max-pool
// backward (windows that tile the input, overlapping ones, padding, dilation, odd sizes, stride ≠
// kernel) with the ReLU mask a training step fuses into it, the average pool and its backward,
// against the float64 reference interpreter. Data are small integers with ties, ±0, NaN and
// infinities, so every max-pool gradient sum is exact and must match bit for bit; average pools
// divide, and where several taps add (overlapping windows) the float32 sum may differ from the
// interpreter's double in the last bits (the float32 contract), so those compare to 1e-6.
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
  readonly countIncludePad?: boolean;
}

const CASES: PoolCase[] = [
  { name: 'k2s2', x: ['N', 3, 26, 26], kernel: [2, 2], strides: [2, 2] },
  { name: 'k2s2-odd', x: ['N', 2, 11, 9], kernel: [2, 2], strides: [2, 2] },
  { name: 'k2s2-wide', x: ['N', 1, 4, 37], kernel: [2, 2], strides: [2, 2] },
  { name: 'k2s2-narrow', x: ['N', 2, 5, 3], kernel: [2, 2], strides: [2, 2] },
  { name: 'k3s2', x: ['N', 2, 11, 19], kernel: [3, 3], strides: [2, 2] },
  { name: 'k3s1', x: ['N', 2, 7, 13], kernel: [3, 3], strides: [1, 1] },
  { name: 'k2s1', x: ['N', 1, 5, 6], kernel: [2, 2], strides: [1, 1] },
  { name: 'k2-s1x2', x: ['N', 2, 7, 9], kernel: [2, 2], strides: [1, 2] },
  { name: 'k2s2-dil2', x: ['N', 1, 9, 17], kernel: [2, 2], strides: [2, 2], dilations: [2, 2] },
  { name: 'k3s2-pad', x: ['N', 2, 8, 9], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: 'k3s2-pad-count', x: ['N', 2, 8, 10], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true },
  { name: 'k2s2-pad-right', x: ['N', 1, 7, 7], kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1] },
  // 6 channels: the average-pool gradient tiles 4 channels at a time (the divisor loaded once for them).
  { name: 'k3s2-c6', x: ['N', 6, 9, 11], kernel: [3, 3], strides: [2, 2] },
];

/** Whether at most one tap of a gradient sum is nonzero (windows that tile the input, no padding). */
const tiles = (c: PoolCase) => c.kernel[0] === c.strides[0] && c.kernel[1] === c.strides[1] && !(c.pads ?? []).some((p) => p) && !(c.dilations ?? [1, 1]).some((d) => d !== 1);

const input = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float32', shape });
const attrsOf = (c: PoolCase) => ({ kernel: c.kernel, strides: c.strides, pads: c.pads ?? [0, 0, 0, 0], dilations: c.dilations ?? [1, 1], ...(c.countIncludePad ? { countIncludePad: true } : {}) });

/** Each case: the max-pool backward times the ReLU mask of its input (as a training step fuses it), the average pool, its backward. */
function graphOf(cases: readonly PoolCase[]): Graph {
  const inputs: Node[] = [];
  const outputs: { name: string; node: Node }[] = [];
  cases.forEach((c, i) => {
    const x = input(`x${i}`, c.x);
    const y = makeNode('maxPool2d', [x], attrsOf(c));
    const dy = input(`dy${i}`, y.type.shape as Dim[]);
    const [oh, ow] = y.type.shape.slice(2) as number[];
    const divisor = input(`div${i}`, [oh, ow]);
    inputs.push(x, dy, divisor);
    const back = makeNode('maxPool2dBackward', [dy, x, y], y.attrs);
    outputs.push({ name: `maxback${i}`, node: makeNode('mul', [back, makeNode('step', [x])]) });
    if (!c.dilations) outputs.push({ name: `avg${i}`, node: makeNode('avgPool2d', [x], attrsOf(c)) });
    outputs.push({ name: `avgback${i}`, node: makeNode('avgPool2dBackward', [dy, divisor], { ...attrsOf(c), inputShape: c.x }) });
  });
  return { name: 'pool_simd', inputs, outputs };
}

describe('pooling gather kernels in WebAssembly SIMD', () => {
  const graph = graphOf(CASES);

  it('render a SIMD version for every max-pool backward, average pool and average-pool backward here', () => {
    const kernels = compileGraph(graph).program.kernels;
    for (const op of ['maxPool2dBackward', 'avgPool2d', 'avgPool2dBackward']) {
      const mine = kernels.filter((k) => k.ops[0] === op);
      expect(mine.length, op).toBe(op === 'avgPool2d' ? CASES.filter((c) => !c.dilations).length : CASES.length);
      for (const k of mine) expect(renderSimdKernel(k)?.how ?? 'none', `${op} ${k.name}`).toMatch(/^SIMD: pooling gather/);
    }
    // The average-pool gradient of 6 channels loads its divisor once for 4 of them; nothing else here has 4 channels.
    const tiled = kernels.filter((k) => / tile 4 o1 rows/.test(renderSimdKernel(k)?.how ?? ''));
    expect(tiled.map((k) => `${k.ops[0]} ${k.shape[1]}`)).toEqual(['avgPool2dBackward 6']);
  });

  for (const batch of [1, 3]) {
    it(`match the interpreter at batch ${batch}, and the JavaScript kernels`, async () => {
      const feeds: Record<string, Float32Array> = {};
      let seed = 11 + batch;
      for (const n of graph.inputs) {
        const name = n.attrs.name as string;
        const shape = (n.type.shape as Dim[]).map((d) => (d === 'N' ? batch : (d as number)));
        // Divisors: positive small integers, as the forward's window counts are.
        feeds[name] = name.startsWith('div') ? specialData(numel(shape), seed++, false).map((v) => Math.abs(v) + 1) : specialData(numel(shape), seed++);
      }
      const want = interpret(graph, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Float64Array.from(v)])), {}, batch);
      const runs: Record<string, Float32Array>[] = [];
      for (const simd of [true, false]) {
        const { model } = await compileAndLoad(graph, 'pool-simd', `batch${batch}`, undefined, 'js', { simd });
        expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(simd);
        runs.push(model.run(feeds, batch) as Record<string, Float32Array>);
      }
      CASES.forEach((c, i) => {
        for (const o of [`maxback${i}`, `avg${i}`, `avgback${i}`]) {
          if (!(o in want)) continue;
          const exact = o.startsWith('max') || o.startsWith('avg' + i) || tiles(c);
          for (const [r, got] of runs.entries()) {
            const label = `${c.name} ${o} ${r ? 'js' : 'simd'}`;
            if (exact || r === 1) expect(floatBits(got[o]), label).toEqual(floatBits(Float32Array.from(want[o])));
            else expectClose(got[o], want[o], label);
          }
        }
      });
    });
  }
});

/** Equal NaN and infinities, finite values within 1e-6 relative (float32 sums against double). */
function expectClose(got: Float32Array, want: ArrayLike<number>, label: string): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const [g, w] = [got[i], want[i]];
    if (!Number.isFinite(w) || !Number.isFinite(g)) expect(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${label} [${i}]: ${g} vs ${w}`).toBe(true);
    else expect(Math.abs(g - w), `${label} [${i}]: ${g} vs ${w}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w)));
  }
}
