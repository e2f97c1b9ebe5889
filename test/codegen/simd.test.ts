// WebAssembly SIMD kernels (compiler/codegen/wasm) against the float64 reference interpreter, and
// against the same module's JavaScript kernels: every tile edge (batch and widths that are not
// multiples of the tile), every matmul transposition, convolutions and their gradients.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Dim } from '../../src/ir/shape.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { FunctionBody } from '../../compiler/codegen/wasm/binary.ts';
import { encodeModule } from '../../compiler/codegen/wasm/wasm-module.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { compileAndLoad, prepareCase, type GradCase } from '../grad/check.ts';
import { CASES as convPool } from '../grad/cases/conv-pool.ts';
import { CASES as linalg } from '../grad/cases/linalg.ts';
import { CASES as binary } from '../grad/cases/binary.ts';

/** float32 kernels (float32 accumulation in SIMD) against the float64 interpreter. */
const TOLERANCE = { rtol: 2e-4, atol: 2e-5 };

/** The graph with every float64 value made float32 (the grad cases are built in float64). */
function inFloat32(g: Graph): Graph {
  return graphFromJson(JSON.parse(JSON.stringify(graphToJson(g)).replaceAll('"float64"', '"float32"')));
}

const mm = (name: string, a: Dim[], b: Dim[], transA: boolean, transB: boolean, batch: number): GradCase => ({
  name,
  inputs: [{ shape: a }, { shape: b }],
  build: ([x, y]) => makeNode('matmul', [x, y], { transA, transB }),
  batch,
});

/** Dense products whose sizes straddle every tile edge: 4 rows, 8 or 16 columns, 4 lanes. */
function tileEdgeCases(batch: number): GradCase[] {
  const cases: GradCase[] = [];
  for (const k of [3, 13]) {
    for (const m of [1, 3, 5, 8, 17, 33]) {
      cases.push(mm(`xw-${k}-${m}`, ['N', k], [k, m], false, false, batch));
      cases.push(mm(`xwt-${k}-${m}`, ['N', k], [m, k], false, true, batch));
      cases.push(mm(`xty-${k}-${m}`, ['N', k], ['N', m], true, false, batch));
    }
  }
  return cases;
}

/** Dense layers with activations WebAssembly SIMD lacks: the sums in wasm, the epilogue in JavaScript. */
const activationCases: GradCase[] = (['tanh', 'sigmoid', 'exp'] as const).flatMap((act) =>
  [5, 17].map((m) => ({
    name: `${act}-${m}`,
    inputs: [{ shape: ['N', 6] }, { shape: [6, m] }, { shape: [m] }],
    build: ([x, w, b]) => makeNode(act, [makeNode('add', [makeNode('matmul', [x, w]), b])]),
    batch: 5,
  })),
);

/** Compiles the cases as one float32 module and checks it with SIMD on and off; returns how many SIMD kernels it has. */
async function checkFamily(family: string, cases: readonly GradCase[], batch: number): Promise<number> {
  const prepared = cases.map((c, i) => prepareCase(c, `c${i}_`));
  const graph64: Graph = { name: `simd_${family}`, inputs: prepared.flatMap((p) => p.graph.inputs), outputs: prepared.flatMap((p) => p.graph.outputs) };
  const graph = inFloat32(graph64);
  // The reference sees exactly the float32 inputs the kernels see.
  const feeds64 = Object.fromEntries(Object.entries(Object.assign({}, ...prepared.map((p) => p.feeds)) as Record<string, Float64Array>).map(([n, v]) => [n, Float64Array.from(Float32Array.from(v))]));
  const feeds32 = Object.fromEntries(Object.entries(feeds64).map(([n, v]) => [n, Float32Array.from(v)]));
  const want = interpret(graph64, feeds64, {}, batch);
  const simdKernels = compileGraph(graph).program.kernels.filter((k) => renderSimdKernel(k) !== null).length;
  for (const simd of [true, false]) {
    const { model } = await compileAndLoad(graph, `simd-${family}`, `batch${batch}`, undefined, 'js', { simd });
    expect(!!(model as unknown as { memory?: object }).memory, 'SIMD memory in use').toBe(simd && simdKernels > 0);
    const got = model.run(feeds32, batch);
    for (const o of graph.outputs) expect(got[o.name], `${o.name} (${o.node.op}), simd ${simd}`).toBeAllclose(want[o.name], TOLERANCE);
  }
  return simdKernels;
}

describe('WebAssembly SIMD kernels agree with the interpreter and with the JavaScript kernels', () => {
  for (const batch of [1, 3, 5, 9]) {
    it(`matmul tile edges, batch ${batch}: widths 1–33, all transpositions, forward and gradients`, async () => {
      expect(await checkFamily('edges', tileEdgeCases(batch), batch)).toBeGreaterThan(50);
    });
  }
  it('dense layers with tanh, sigmoid and exp: SIMD sums, JavaScript epilogues in place', async () => {
    expect(await checkFamily('activations', activationCases, 5)).toBeGreaterThan(5);
  });
  for (const [family, cases] of [['linalg', linalg], ['conv-pool', convPool], ['binary', binary]] as const) {
    for (const batch of new Set(cases.map((c) => c.batch ?? 2))) {
      it(`${family} gradient-check cases at batch ${batch}, in float32`, async () => {
        const n = await checkFamily(family, cases.filter((c) => (c.batch ?? 2) === batch), batch);
        if (family !== 'binary') expect(n).toBeGreaterThan(0);
      });
    }
  }
});

describe('which kernels become SIMD', () => {
  const input = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float32', shape });
  const kernelsOf = (inputs: ReturnType<typeof makeNode>[], y: ReturnType<typeof makeNode>) =>
    compileGraph({ name: 'g', inputs, outputs: [{ name: 'y', node: y }] }).program.kernels;

  it('x·W + bias, ReLU: a broadcast tile along the output columns, epilogue fused', () => {
    const [x, w, b] = [input('x', ['N', 8]), input('w', [8, 16]), input('b', [16])];
    const [k] = kernelsOf([x, w, b], makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w]), b])]));
    expect(renderSimdKernel(k)?.how).toMatch(/4 outputs along o1 per vector; tile 4 o0 × 8 o1/);
  });

  it('x·Wᵀ: a dot tile along the reduction', () => {
    const [x, w] = [input('x', ['N', 8]), input('w', [16, 8])];
    const [k] = kernelsOf([x, w], makeNode('matmul', [x, w], { transB: true }));
    expect(renderSimdKernel(k)?.how).toMatch(/partial sums along/);
  });

  it('x·W, then tanh: SIMD sums with a JavaScript epilogue', () => {
    const [x, w] = [input('x', ['N', 8]), input('w', [8, 16])];
    const [k] = kernelsOf([x, w], makeNode('tanh', [makeNode('matmul', [x, w])]));
    expect(renderSimdKernel(k)?.epilogue?.ops).toEqual(['tanh']);
  });

  // A max reduction, exp and log have SIMD versions since the row kernels (test/codegen/simd-rows.test.ts).
  it('keeps JavaScript for what it does not vectorise: an argmax, erf, a strided read', () => {
    const [x, cube] = [input('x', ['N', 8]), input('c', ['N', 8, 8])];
    const ks = [
      ...kernelsOf([x], makeNode('argmax', [x], { axis: 1, keepdims: false })),
      ...kernelsOf([x], makeNode('erf', [x])),
      ...kernelsOf([cube], makeNode('transpose', [cube], { perm: [0, 2, 1] })),
    ];
    expect(ks.length).toBe(3);
    for (const k of ks) expect(renderSimdKernel(k), k.ops.join(' ')).toBeNull();
  });
});

describe('wasm binary writer', () => {
  it('encodes LEB128 immediates and memory offsets a real engine accepts', () => {
    // store(addr, f32(-1,000,000 · 3 + 123,456,789)): multi-byte signed immediates, a large offset.
    const g = new FunctionBody(1);
    g.get(0).i32(-1_000_000).i32(3).op('i32.mul').i32(123_456_789).op('i32.add').op('f32.convert_i32_u').f32(0.5).op('f32.add').f32Store(70_000);
    const bytes = encodeModule([{ name: 'g', params: 1, body: g }]);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 32768, shared: true });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    (instance.exports.g as (a: number) => void)(8);
    expect(new Float32Array(memory.buffer, 70_008, 1)[0]).toBe(Math.fround(Math.fround(120_456_789) + 0.5));
    expect(() => new FunctionBody(0).f32Load(-4)).toThrow(/non-negative/);
  });
});
