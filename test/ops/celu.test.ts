// celu end to end, the worked example of docs/adding-an-op.md: its attribute, the DSL, and the
// compiled JavaScript (plain and with SIMD on), GPU.js (webasm) and ONNX exports against the
// defining formula. The interpreter's own values are in elementwise.test.ts, the gradient in
// test/grad/cases/unary.ts, the export table's round trip in test/onnx/export-table.test.ts.
import { describe, expect, it } from 'vitest';
import { celu, dense, input, layers, sequential } from '../../src/index.ts';
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { randomFloats } from '../e2e/helpers.ts';
import { compileAndLoad } from '../grad/check.ts';

/** The definition, as ONNX writes it (no expm1, no select), in float64. */
const formula = (alpha: number) => (v: number) => Math.max(0, v) + Math.min(0, alpha * (Math.exp(v / alpha) - 1));

const ALPHAS = [1, 0.5, 2.5, -0.7];
/** float32 kernels against a float64 formula: a few float32 ulps. */
const F32 = { rtol: 2e-6, atol: 1e-6 };

/** Random values across both branches, then zeros, large magnitudes and infinities. */
function values(count: number, seed: number): Float32Array {
  const v = randomFloats(count, seed, -6, 6);
  [0, -0, 40, -40, 1e30, -1e30, Infinity, -Infinity].forEach((s, i) => (v[i] = s));
  return v;
}

function celuGraph(name: string): { graph: Graph; x: Node } {
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 37] });
  const outputs = ALPHAS.map((alpha, i) => ({ name: `y${i}`, node: makeNode('celu', [x], { alpha }) }));
  return { graph: { name, inputs: [x], outputs }, x };
}

describe('celu: the alpha attribute', () => {
  const x = () => makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 4] });

  it.each([
    ['0', 0, /nonzero/],
    ['-0', -0, /nonzero/],
    ['1e-50 (0 in float32)', 1e-50, /nonzero in float32/],
    ['NaN', NaN, /finite number/],
    ['Infinity', Infinity, /finite number/],
    ['a string', '1', /finite number/],
  ])('alpha = %s is a one-line Kiln error naming the op and attribute', (_, alpha, why) => {
    const build = () => makeNode('celu', [x()], { alpha });
    expect(build).toThrow(KilnError);
    expect(build).toThrow(/\(celu\): attribute alpha must be/);
    expect(build).toThrow(why);
    try {
      build();
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('alpha is required in the IR (the DSL and ONNX import supply the default 1)', () => {
    expect(() => makeNode('celu', [x()], {})).toThrow(/\(celu\): attribute alpha is missing/);
  });

  it('accepts any other finite alpha, negative and float32-denormal included', () => {
    for (const alpha of [1, -2, 1e-40, 3e38]) expect(makeNode('celu', [x()], { alpha }).attrs.alpha).toBe(alpha);
  });
});

describe('celu in the DSL', () => {
  it('celu(x, { alpha }) and celu(x) (alpha 1), named CELU layers', () => {
    const x = input([4]);
    const a = celu(x, { alpha: 0.5, name: 'act' });
    expect([a.op, a.attrs, a.meta.layer]).toEqual(['celu', { alpha: 0.5 }, 'act']);
    expect(celu(x).attrs).toEqual({ alpha: 1 });
    expect(() => celu(x, { alpha: 0 })).toThrow(/attribute alpha must be a finite number that is nonzero/);
  });

  it("activation: 'celu' in a layer, and layers.celu in a sequential model", () => {
    const y = dense(input([4]), 3, { activation: 'celu' });
    expect([y.op, y.attrs]).toEqual(['celu', { alpha: 1 }]);
    const m = sequential({ name: 'm', input: [4] }, [layers.dense(3), layers.celu({ alpha: 2 })]);
    const out = m.graph.outputs[0].node;
    expect([out.op, out.attrs]).toEqual(['celu', { alpha: 2 }]);
  });
});

describe('celu compiled', () => {
  const batch = 3;
  const xs = values(batch * 37, 11);
  const want = ALPHAS.map((alpha) => Array.from(xs, formula(alpha)));

  it.each([
    ['JavaScript', 'js', {}],
    ['JavaScript with SIMD on', 'js', { simd: true }],
    ['GPU.js webasm', 'gpujs', { mode: 'webasm' }],
  ] as const)('%s gives the formula, special values included', async (label, backend, options) => {
    const { graph } = celuGraph(`celu_${backend}`);
    const { model } = await compileAndLoad(graph, 'celu', label, undefined, backend, options);
    const got = model.run({ x: xs }, batch);
    ALPHAS.forEach((alpha, k) => expect(got[`y${k}`], `alpha ${alpha}`).toBeAllclose(want[k], F32));
  });

  // expm1 has no WebAssembly instruction (compiler/codegen/wasm/alu.ts), so, as elu's, this kernel
  // stays JavaScript with SIMD on: the fallback is what is checked.
  it('as the epilogue of a matmul, with SIMD on', async () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 8] });
    const w = makeNode('input', [], { name: 'w', dtype: 'float32', shape: [8, 13] });
    const graph: Graph = { name: 'celu_epilogue', inputs: [x, w], outputs: [{ name: 'y', node: makeNode('celu', [makeNode('matmul', [x, w])], { alpha: 0.6 }) }] };
    const [xv, wv] = [randomFloats(batch * 8, 3, -2, 2), randomFloats(8 * 13, 4, -2, 2)];
    const { model } = await compileAndLoad(graph, 'celu', 'epilogue', undefined, 'js', { simd: true });
    const ref: number[] = [];
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < 13; j++) {
        let s = 0;
        for (let k = 0; k < 8; k++) s += xv[b * 8 + k] * wv[k * 13 + j];
        ref.push(formula(0.6)(s));
      }
    }
    expect(model.run({ x: xv, w: wv }, batch).y).toBeAllclose(ref, { rtol: 1e-5, atol: 1e-5 });
  });
});

async function loadOrt(): Promise<typeof import('onnxruntime-node') | undefined> {
  try {
    return await import('onnxruntime-node');
  } catch {
    return undefined;
  }
}

describe('celu in ONNX', () => {
  it('float32 exports as one Celu node with its alpha', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 4] });
    const graph: Graph = { name: 'g', inputs: [x], outputs: [{ name: 'y', node: makeNode('celu', [x], { alpha: 0.25 }) }] };
    const model = onnx.ModelProto.decode(exportOnnx(graph, {}, { opset: 13 }));
    const nodes = model.graph!.node!;
    expect(nodes.map((n) => n.opType)).toEqual(['Celu']);
    expect(nodes[0].attribute!.map((a) => [a.name, a.f])).toEqual([['alpha', 0.25]]);
  });

  it('onnxruntime runs the exported Celu to the formula, for every alpha', async () => {
    const ort = await loadOrt();
    if (!ort) return; // no onnxruntime here: export-table.test.ts checks the export by import
    const { graph } = celuGraph('celu_ort');
    const xs = values(2 * 37, 12);
    const session = await ort.InferenceSession.create(exportOnnx(graph, {}));
    const out = await session.run({ x: new ort.Tensor('float32', xs, [2, 37]) });
    ALPHAS.forEach((alpha, k) => expect(out[`y${k}`].data as Float32Array, `alpha ${alpha}`).toBeAllclose(Array.from(xs, formula(Math.fround(alpha))), F32));
  });

  it('a Celu without alpha imports with ONNX default 1', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 4] });
    const graph: Graph = { name: 'g', inputs: [x], outputs: [{ name: 'y', node: makeNode('celu', [x], { alpha: 3 }) }] };
    const model = onnx.ModelProto.decode(exportOnnx(graph, {}));
    model.graph!.node![0].attribute = [];
    const back = importOnnx(onnx.ModelProto.encode(model).finish(), { inputShapes: { x: [2, 4] } });
    expect(back.outputs[0].node.op).toBe('celu');
    expect(back.outputs[0].node.attrs).toEqual({ alpha: 1 });
  });

  it('float64 (which ONNX Celu does not take) exports as the formula, and runs to the same values', async () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float64', shape: ['N', 6] });
    const graph: Graph = { name: 'g', inputs: [x], outputs: [{ name: 'y', node: makeNode('celu', [x], { alpha: -0.7 }) }] };
    const bytes = exportOnnx(graph, {});
    expect(onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType)).not.toContain('Celu');
    const xv = Float64Array.from(randomFloats(12, 5, -4, 4));
    const want = Array.from(xv, formula(-0.7));
    expect(interpret(graph, { x: xv }, {}, 2).y).toBeAllclose(want, { rtol: 1e-12, atol: 1e-12 });
    expect(interpret(importOnnx(bytes, { inputShapes: { x: [2, 6] } }), { x: xv }, {}, 2).y).toBeAllclose(want, { rtol: 1e-12, atol: 1e-12 });
    const ort = await loadOrt();
    if (!ort) return; // no onnxruntime here: Kiln's own import above checked the file
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ x: new ort.Tensor('float64', xv, [2, 6]) });
    expect(out.y.data as Float64Array).toBeAllclose(want, { rtol: 1e-12, atol: 1e-12 });
  });
});
