// max/min with a constant in SIMD epilogues (compiler/codegen/wasm/simd-writer.ts, pseudoMinMax):
// ReLU and clip render as f32x4.pmax/pmin, +0 added after a max with +0, and min with −0 keeps
// f32x4.min. Against the float64 interpreter and the JavaScript kernels bit for bit (a NaN's
// payload aside), on data full of ±0, NaN, ±Infinity and values equal to the bounds.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { renderSimdKernel, simdListing } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { compileAndLoad } from '../grad/check.ts';
import { floatBits } from './special-values.ts';

interface Case {
  readonly name: string;
  readonly build: (x: Node) => Node;
  /** Instructions the kernel's listing must hold, and must not. */
  readonly has: readonly string[];
  readonly lacks: readonly string[];
}

const clip = (x: Node, min: number | null, max: number | null) => makeNode('clip', [x], { min, max });

const CASES: Case[] = [
  { name: 'relu', build: (x) => makeNode('relu', [x]), has: ['f32x4.pmax', 'f32x4.add'], lacks: ['f32x4.max'] },
  { name: 'clip [-0, +0]', build: (x) => clip(x, -0, 0), has: ['f32x4.pmax', 'f32x4.pmin'], lacks: ['f32x4.max', 'f32x4.min'] },
  { name: 'clip [0.5, 2]', build: (x) => clip(x, 0.5, 2), has: ['f32x4.pmax', 'f32x4.pmin'], lacks: ['f32x4.max', 'f32x4.min'] },
  { name: 'clip [-Infinity, Infinity]', build: (x) => clip(x, -Infinity, Infinity), has: ['f32x4.pmax', 'f32x4.pmin'], lacks: ['f32x4.max', 'f32x4.min'] },
  // min(x, −0): pmin would keep +0 where the rule gives −0.
  { name: 'clip max −0', build: (x) => clip(x, null, -0), has: ['f32x4.min'], lacks: ['f32x4.pmin'] },
  // A contraction's epilogue: relu(x·W + b).
  {
    name: 'dense relu',
    build: (x) => makeNode('relu', [makeNode('add', [makeNode('matmul', [x, input('w', [13, 9])]), input('b', [9])])]),
    has: ['f32x4.pmax'],
    lacks: ['f32x4.max'],
  },
];

function input(name: string, shape: Dim[]): Node {
  return makeNode('input', [], { name, dtype: 'float32', shape });
}

/** Small values at the bounds, ±0, NaN and infinities, deterministic. */
function data(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const specials = [NaN, -0, 0, -Infinity, Infinity, 0.5, 2, -2, 1.5, -0.25];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = specials[(s >>> 24) % specials.length];
  }
  return out;
}

function graphOf(): Graph {
  const inputs = new Map<string, Node>();
  const outputs = CASES.map((c, i) => {
    const x = input(`x${i}`, ['N', 13]);
    inputs.set(`x${i}`, x);
    const y = c.build(x);
    return { name: `y${i}`, node: y };
  });
  // The dense case's weight and bias are inputs too (found in its graph).
  const seen = new Set<Node>();
  const visit = (n: Node) => {
    if (seen.has(n)) return;
    seen.add(n);
    if (n.op === 'input') inputs.set(n.attrs.name as string, n);
    n.inputs.forEach(visit);
  };
  outputs.forEach((o) => visit(o.node));
  return { name: 'pseudo_minmax', inputs: [...inputs.values()], outputs };
}

describe('max/min with a constant in SIMD epilogues', () => {
  const graph = graphOf();

  it('renders pmax/pmin where they mean the same, f32x4.min for min with −0', () => {
    const kernels = compileGraph(graph).program.kernels;
    CASES.forEach((c, i) => {
      const k = kernels.find((k) => k.writes === graph.outputs[i].node);
      expect(k, c.name).toBeDefined();
      const s = renderSimdKernel(k!);
      expect(s, c.name).not.toBeNull();
      const words = new Set(simdListing(k!, s!).split(/\s+/));
      for (const w of c.has) expect(words.has(w), `${c.name} has ${w}`).toBe(true);
      for (const w of c.lacks) expect(words.has(w), `${c.name} lacks ${w}`).toBe(false);
    });
  });

  for (const batch of [1, 5]) {
    it(`matches the interpreter and the JavaScript kernels at batch ${batch}`, async () => {
      const feeds: Record<string, Float32Array> = {};
      let seed = 3 + batch;
      for (const n of graph.inputs) {
        const shape = (n.type.shape as Dim[]).map((d) => (d === 'N' ? batch : (d as number)));
        // The dense case's weights: finite, so that its sums are exact small multiples of 1/4 (no rounding to differ in).
        feeds[n.attrs.name as string] = n.attrs.name === 'w' || n.attrs.name === 'b' ? data(numel(shape), seed++).map((v) => (Number.isFinite(v) ? v : 1)) : data(numel(shape), seed++);
      }
      const want = interpret(graph, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, Float64Array.from(v)])), {}, batch);
      for (const simd of [true, false]) {
        const { model } = await compileAndLoad(graph, 'pseudo-minmax', `batch${batch}`, undefined, 'js', { simd });
        expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(simd);
        const got = model.run(feeds, batch) as Record<string, Float32Array>;
        CASES.forEach((c, i) => expect(floatBits(got[`y${i}`]), `${c.name} ${simd ? 'simd' : 'js'}`).toEqual(floatBits(Float32Array.from(want[`y${i}`]))));
      }
    });
  }
});
