// ONNX export: the examples exported with their weights run in onnxruntime-node and, imported back
// by Kiln, predict what Kiln's compiled module predicts (classes and probabilities, to 1e-5).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { exportCommand } from '../../cli/export.ts';
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx, modelOpset } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { freshOutDir, importModule, ROOT, loadExampleGraph, perSample, randomFloats, randomizeZeroTensors } from '../e2e/helpers.ts';

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node, or the reason it cannot load here (its native binding may be missing). */
let ort: Ort | undefined;
let ortMissing = '';
try {
  ort = await import('onnxruntime-node');
  await ort.InferenceSession.create(exportOnnx(tinyGraph(), {}));
} catch (e) {
  ort = undefined;
  ortMissing = e instanceof Error ? e.message : String(e);
  console.warn(`onnxruntime-node cannot run here, its checks are skipped: ${ortMissing}`);
}
const itOrt = ort ? it : it.skip;

function tinyGraph(): Graph {
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 2] });
  return { name: 'tiny', inputs: [x], outputs: [{ name: 'y', node: makeNode('relu', [x]) }] };
}

const BATCH = 3;
const MODELS = ['mlp', 'mlp256', 'cnn', 'lenet'] as const;

async function runOrt(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: number[] }>): Promise<Record<string, Float32Array | Int32Array>> {
  const session = await ort!.InferenceSession.create(bytes);
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort!.Tensor('float32', v.data, v.dims)]));
  const result = await session.run(tensors);
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.data as Float32Array | Int32Array]));
}

const argmaxRows = (data: ArrayLike<number>, cols: number) =>
  Array.from({ length: data.length / cols }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c] > data[r * cols + best]) best = c;
    return best;
  });

interface Case {
  graph: Graph;
  bytes: Uint8Array;
  input: Float32Array;
  inputDims: number[];
  expected: Float32Array;
  outName: string;
  classes: number;
}

const cases = new Map<string, Case>();

beforeAll(async () => {
  for (const [i, name] of MODELS.entries()) {
    const out = freshOutDir(`onnx-export/${name}`);
    const graph = await loadExampleGraph(name);
    const compiled = compileModel(graph, { seed: 7 });
    // Zero (Keras-style) biases get seeded values so that they take part in the comparison.
    const weights = randomizeZeroTensors(compiled.weights, 200 + i);
    const file = path.join(out, `${name}.js`);
    writeFileSync(file, compiled.js);
    const module = await importModule(file);
    const inputNode = graph.inputs[0];
    const input = randomFloats(BATCH * perSample(inputNode.type.shape), 300 + i, 0, 1);
    const expected = module.createModel(weights.bytes).predict(input, BATCH);
    const bytes = exportOnnx(graph, weights.byName);
    writeFileSync(path.join(out, `${name}.onnx`), bytes);
    const outNode = graph.outputs[0].node;
    cases.set(name, {
      graph,
      bytes,
      input,
      inputDims: inputNode.type.shape.map((d) => (d === 'N' ? BATCH : d)),
      expected,
      outName: graph.outputs[0].name,
      classes: outNode.type.shape[outNode.type.shape.length - 1] as number,
    });
  }
}, 300_000);

describe.each(MODELS)('%s exported to ONNX', (name) => {
  it('declares a symbolic batch dimension N on its input and output, and its parameters as initializers', () => {
    const { bytes, graph } = cases.get(name)!;
    const model = onnx.ModelProto.decode(bytes);
    const g = model.graph!;
    expect(modelOpset(model)).toBe(17);
    expect(g.input?.map((v) => v.name)).toEqual(graph.inputs.map((n) => n.attrs.name));
    expect(g.input?.[0].type?.tensorType?.shape?.dim?.[0].dimParam).toBe('N');
    expect(g.output?.[0].type?.tensorType?.shape?.dim?.[0].dimParam).toBe('N');
    expect(g.output?.map((v) => v.name)).toEqual(graph.outputs.map((o) => o.name));
    const names = (g.initializer ?? []).map((t) => t.name);
    for (const p of compileModel(graph).program.params) expect(names).toContain(String(p.attrs.name));
  });

  itOrt('runs in onnxruntime-node like the compiled Kiln module (to 1e-5)', async () => {
    const c = cases.get(name)!;
    const inputName = String(c.graph.inputs[0].attrs.name);
    const got = (await runOrt(c.bytes, { [inputName]: { data: c.input, dims: c.inputDims } }))[c.outName];
    expect(got).toBeAllclose(c.expected, { rtol: 1e-5, atol: 1e-5 });
    expect(argmaxRows(got, c.classes)).toEqual(argmaxRows(c.expected, c.classes));
  });

  it('imported back by Kiln predicts the same classes and probabilities (to 1e-5)', () => {
    const c = cases.get(name)!;
    const inputName = String(c.graph.inputs[0].attrs.name);
    const back = importOnnx(c.bytes, { inputShapes: { [inputName]: c.inputDims } });
    const got = interpret(back, { [inputName]: c.input }, {}, BATCH)[c.outName];
    expect(got).toBeAllclose(c.expected, { rtol: 1e-5, atol: 1e-5 });
    expect(argmaxRows(got, c.classes)).toEqual(argmaxRows(c.expected, c.classes));
  });
});

describe('op mapping', () => {
  /** A graph over one input that exercises many ops; every output is compared with the interpreter. */
  function opsGraph(): { graph: Graph; weights: Record<string, Float32Array> } {
    const weights: Record<string, Float32Array> = {};
    const param = (name: string, shape: number[], seed: number) => {
      weights[name] = randomFloats(shape.reduce((p, d) => p * d, 1), seed, -0.5, 0.5);
      return makeNode('param', [], { name, dtype: 'float32', shape, init: { kind: 'zeros' }, trainable: true });
    };
    const n = (op: OpName, inputs: Node[], attrs: Record<string, unknown> = {}) => makeNode(op, inputs, attrs, { layer: op });
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 4, 6, 6] });
    const conv = n('conv2d', [x, param('w', [6, 2, 3, 3], 1)], { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 1], group: 2 });
    const bn = n('batchNorm', [conv, param('g', [6], 2), param('b', [6], 3), param('m', [6], 4), n('abs', [param('v', [6], 5)])], { epsilon: 1e-3 });
    const pooled = n('avgPool2d', [n('gelu', [bn])], { kernel: [2, 2], strides: [1, 1], pads: [1, 1, 0, 0], dilations: [1, 1], countIncludePad: false });
    const pooledIn = n('avgPool2d', [n('elu', [bn], { alpha: 0.7 })], { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], countIncludePad: true });
    const maxed = n('maxPool2d', [n('leakyRelu', [x], { alpha: 0.1 })], { kernel: [2, 3], strides: [2, 2], pads: [0, 1, 1, 1], dilations: [1, 2] });
    const gap = n('globalAvgPool', [n('selu', [conv])]);
    const flat = n('reshape', [pooled], { shape: [-1, 120] }); // conv: [N, 6, 4, 5]; pooled keeps it
    const dense = n('matmul', [flat, param('k', [5, 120], 7)], { transB: true });
    const tA = n('matmul', [n('reshape', [dense], { shape: [-1, 5, 1] }), param('k2', [5, 3], 8)], { transA: true });
    const t = n('transpose', [n('reshape', [dense], { shape: [-1, 5, 1] })], { perm: [0, 2, 1] });
    const cat = n('concat', [n('softplus', [t]), n('tanh', [t]), n('sigmoid', [t])], { axis: 1 });
    const sl = n('slice', [cat], { starts: [2, 4], ends: [0, -100], axes: [1, 2], steps: [-1, -2] });
    const clipped = n('clip', [n('sub', [n('mul', [sl, n('const', [], { dtype: 'float32', shape: [1], values: [3] })]), n('exp', [sl])])], { min: -0.25, max: null });
    const reduced = n('reduceMean', [n('pow', [n('sqrt', [n('abs', [cat])]), n('const', [], { dtype: 'float32', shape: [], values: [1.5] })])], { axes: [1, 2], keepdims: false });
    const rs = n('reduceSum', [n('maximum', [cat, n('neg', [cat])])], { axes: [-1], keepdims: true });
    const rmax = n('reduceMax', [n('minimum', [n('log', [n('add', [n('abs', [cat]), n('const', [], { dtype: 'float32', shape: [], values: [1] })])]), cat])], { axes: [], keepdims: false });
    const rmin = n('reduceMin', [n('div', [n('erf', [cat]), n('const', [], { dtype: 'float32', shape: [5], values: [1, 2, 3, 4, 5] })])], { axes: [2], keepdims: false });
    const soft = n('softmax', [n('relu', [n('dropout', [n('identity', [dense])], { rate: 0.5 })])], { axis: 1 });
    const logSoft = n('logSoftmax', [n('gelu', [dense], { approximate: 'tanh' })], { axis: -1 });
    const arg = n('argmax', [dense], { axis: 1, keepdims: false });
    const casted = n('cast', [n('cast', [dense], { to: 'int32' })], { to: 'float32' });
    const graph: Graph = {
      name: 'ops',
      inputs: [x],
      outputs: Object.entries({ pooledIn, maxed, gap, clipped, reduced, rs, rmax, rmin, soft, logSoft, arg, casted, bn, tA }).map(([name, node]) => ({ name, node })),
    };
    return { graph, weights };
  }

  itOrt('every mapped op computes in onnxruntime what the reference interpreter computes', async () => {
    const { graph, weights } = opsGraph();
    const batch = 2;
    const x = randomFloats(batch * 4 * 36, 11, -2, 2);
    const expected = interpret(graph, { x }, weights, batch);
    for (const opset of [17, 18, 20]) {
      const got = await runOrt(exportOnnx(graph, weights, { opset }), { x: { data: x, dims: [batch, 4, 6, 6] } });
      for (const o of graph.outputs) {
        if (o.name === 'arg') expect(Array.from(got[o.name]), `${o.name} at opset ${opset}`).toEqual(Array.from(expected[o.name]));
        else expect(got[o.name], `${o.name} at opset ${opset}`).toBeAllclose(expected[o.name], { rtol: 1e-5, atol: 1e-5 });
      }
    }
  });

  it('an output that is an input, and a node that is two outputs, each get a value of their own', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 2] });
    const y = makeNode('relu', [x]);
    const graph: Graph = { name: 'two', inputs: [x], outputs: [{ name: 'same', node: x }, { name: 'a', node: y }, { name: 'b', node: y }] };
    const back = importOnnx(exportOnnx(graph, {}), { inputShapes: { x: [1, 2] } });
    const got = interpret(back, { x: new Float32Array([-1, 2]) }, {}, 1);
    expect(Array.from(got.same)).toEqual([-1, 2]);
    expect(Array.from(got.a)).toEqual([0, 2]);
    expect(Array.from(got.b)).toEqual([0, 2]);
  });

  it('an op without an ONNX mapping, a missing weight and an unsupported opset are KilnErrors naming them', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 2] });
    const mask = makeNode('step', [x], {}, { layer: 'mask' });
    expect(() => exportOnnx({ name: 'g', inputs: [x], outputs: [{ name: 'y', node: mask }] }, {})).toThrow(KilnError);
    expect(() => exportOnnx({ name: 'g', inputs: [x], outputs: [{ name: 'y', node: mask }] }, {})).toThrow(/'mask'.*\(step\).*gradient-only/);
    const w = makeNode('param', [], { name: 'w', dtype: 'float32', shape: [2, 2], init: { kind: 'zeros' }, trainable: true });
    const mm = makeNode('matmul', [x, w]);
    expect(() => exportOnnx({ name: 'g', inputs: [x], outputs: [{ name: 'y', node: mm }] }, {})).toThrow(/no weights for parameter 'w'/);
    expect(() => exportOnnx(tinyGraph(), {}, { opset: 11 })).toThrow(/opsets 13 to 22/);
  });
});

describe('kiln export', () => {
  it('writes the model with the weights `kiln compile --seed` would write, or those of a weight file', async () => {
    const out = freshOutDir('onnx-export/cli');
    const graph = await loadExampleGraph('mlp256');
    const compiled = compileModel(graph, { seed: 5 });
    const weights = Object.fromEntries(decodeWeights(compiled.weights).tensors.map((t) => [t.name, t.data as Float32Array]));
    const expected = exportOnnx(graph, weights);
    const model = path.join(ROOT, 'examples', 'mlp256.ts');
    const fresh = path.join(out, 'fresh.onnx');
    expect(await exportCommand(model, { onnx: fresh, seed: 5, opset: 17 })).toMatch(/exported mlp256 .*seed 5/);
    expect(Buffer.compare(readFileSync(fresh), expected)).toBe(0);
    const weightFile = path.join(out, 'mlp256.weights.bin');
    writeFileSync(weightFile, compiled.weights);
    const fromFile = path.join(out, 'from-file.onnx');
    await exportCommand(model, { onnx: fromFile, weights: weightFile, seed: 0, opset: 17 });
    expect(Buffer.compare(readFileSync(fromFile), expected)).toBe(0);
  });
});

if (!ort) {
  describe('onnxruntime-node', () => {
    it.skip(`cannot load here: ${ortMissing}`, () => {});
  });
}
