// A symbolic batch that is not first (PyTorch's sequence-first [T, N, F]): the ONNX model imports
// as a per-sample graph with its batch axes recorded, and the emitted module takes whole batches
// in that layout. Checked against a naive LSTM written from ONNX's formulas, and against what
// PyTorch computed for its own exports (fixtures/make-pytorch-seq-batch.py).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { REPO_ROOT } from '../../cli/conformance/run.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { Lcg } from '../reference/lcg.ts';
import { freshOutDir, kiln, showRun } from '../e2e/helpers.ts';

const DT = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const sym = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
const int64 = (name: string, values: number[], dims = [values.length]) => ({ name, dataType: DT.INT64, dims, int64Data: values });
const floats = (name: string, dims: number[], values: ArrayLike<number>) => ({ name, dataType: DT.FLOAT, dims, floatData: Array.from(values) });

const T = 4;
const F = 3;
const H = 2;
const C = 3;

interface Weights {
  /** ONNX's W [4H, F], R [4H, H], Wb and Rb [4H] (gates i, o, f, c), and the head [H, C] + [C]. */
  W: Float64Array;
  R: Float64Array;
  Wb: Float64Array;
  Rb: Float64Array;
  head: Float64Array;
  headBias: Float64Array;
}

function weights(rng: Lcg): Weights {
  return { W: rng.array(4 * H * F, -0.8, 0.8), R: rng.array(4 * H * H, -0.8, 0.8), Wb: rng.array(4 * H, -0.3, 0.3), Rb: rng.array(4 * H, -0.3, 0.3), head: rng.array(H * C, -1, 1), headBias: rng.array(C, -0.5, 0.5) };
}

/**
 * What torch.onnx.export writes for nn.LSTM (batch_first=False) + nn.Linear called without
 * states: X [T, N, F] with N symbolic; zero states [1, N, H] from Shape → Gather(1) → Unsqueeze →
 * Concat → ConstantOfShape; LSTM (layout 0); Squeeze of its direction axis; MatMul + Add.
 */
function exported(w: Weights, declareOutputs = true): Uint8Array {
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      opsetImport: [{ version: 14 }],
      graph: {
        name: 'torch_lstm_head',
        input: [sym('x', [T, 'batch', F])],
        output: declareOutputs ? [sym('y', [T, 'batch', C]), sym('hn', [1, 'batch', H])] : [sym('y', ['d0', 'd1', 'd2']), sym('hn', ['e0', 'e1', 'e2'])],
        initializer: [
          int64('at', [1], []),
          int64('axes', [0]),
          int64('one', [1]),
          int64('hidden', [H]),
          int64('dir', [1]),
          floats('W', [1, 4 * H, F], w.W),
          floats('R', [1, 4 * H, H], w.R),
          floats('B', [1, 8 * H], [...w.Wb, ...w.Rb]),
          floats('head', [H, C], w.head),
          floats('headBias', [C], w.headBias),
        ],
        node: [
          { opType: 'Shape', input: ['x'], output: ['shape'] },
          { opType: 'Gather', input: ['shape', 'at'], output: ['n'], attribute: [{ name: 'axis', type: A.INT, i: 0 }] },
          { opType: 'Unsqueeze', input: ['n', 'axes'], output: ['n1'] },
          { opType: 'Concat', input: ['one', 'n1', 'hidden'], output: ['state_shape'], attribute: [{ name: 'axis', type: A.INT, i: 0 }] },
          { opType: 'ConstantOfShape', input: ['state_shape'], output: ['h0'], attribute: [{ name: 'value', type: A.TENSOR, t: floats('', [1], [0]) }] },
          { opType: 'LSTM', input: ['x', 'W', 'R', 'B', '', 'h0', 'h0'], output: ['seq', 'hn'], attribute: [{ name: 'hidden_size', type: A.INT, i: H }] },
          { opType: 'Squeeze', input: ['seq', 'dir'], output: ['seq3'] },
          { opType: 'MatMul', input: ['seq3', 'head'], output: ['mm'] },
          { opType: 'Add', input: ['mm', 'headBias'], output: ['y'] },
        ],
      },
    }),
  ).finish();
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** ONNX's LSTM (gates i, o, f, c; zero initial states) and the head, by loops, on x [T, N, F]: y [T, N, C], hn [1, N, H]. */
function naive(w: Weights, x: Float64Array, N: number): { y: Float64Array; hn: Float64Array } {
  const y = new Float64Array(T * N * C);
  const hn = new Float64Array(N * H);
  for (let n = 0; n < N; n++) {
    let h = new Float64Array(H);
    let c = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      const gate = (g: number, j: number) => {
        let s = w.Wb[g * H + j] + w.Rb[g * H + j];
        for (let f = 0; f < F; f++) s += w.W[(g * H + j) * F + f] * x[(t * N + n) * F + f];
        for (let k = 0; k < H; k++) s += w.R[(g * H + j) * H + k] * h[k];
        return s;
      };
      const h2 = new Float64Array(H);
      const c2 = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gate(0, j));
        const o = sigmoid(gate(1, j));
        const f = sigmoid(gate(2, j));
        c2[j] = f * c[j] + i * Math.tanh(gate(3, j));
        h2[j] = o * Math.tanh(c2[j]);
      }
      h = h2;
      c = c2;
      for (let k = 0; k < C; k++) {
        let s = w.headBias[k];
        for (let j = 0; j < H; j++) s += h[j] * w.head[j * C + k];
        y[(t * N + n) * C + k] = s;
      }
    }
    hn.set(h, n * H);
  }
  return { y, hn };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-5) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThan(tol);
}

type Arrays = Record<string, Float32Array>;
interface LoadedModule {
  inputs: readonly { name: string; shape: readonly (number | string)[] }[];
  outputs: readonly { name: string; shape: readonly (number | string)[] }[];
  manifest: { inputs: readonly { shape: readonly (number | string)[] }[]; outputs: readonly { shape: readonly (number | string)[] }[] };
  model: { run(feeds: Arrays, batch: number): Arrays; predict(x: Float32Array, batch: number): Float32Array; runAsync(feeds: Arrays, batch: number): Promise<Arrays>; predictAsync(x: Float32Array, batch: number): Promise<Float32Array> };
  ts: string;
}

/** Compiles a graph and loads its module (in test/.out, so `kiln/runtime` resolves to dist/). */
async function load(graph: Graph, name: string, initialWeights?: Record<string, Float32Array>): Promise<LoadedModule> {
  const compiled = compileModel(graph, { initialWeights });
  const dir = path.join(REPO_ROOT, 'test', '.out', 'seq-batch-axis', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.js'), compiled.js);
  writeFileSync(path.join(dir, 'model.weights.bin'), compiled.weights);
  const mod = await import(/* @vite-ignore */ pathToFileURL(path.join(dir, 'model.js')).href);
  return { inputs: mod.inputs, outputs: mod.outputs, manifest: mod.manifest, model: mod.createModel(compiled.weights), ts: compiled.ts };
}

beforeEach(() => resetLayerNames());

describe('a hand-built PyTorch-style LSTM export, sequence-first with a symbolic batch', () => {
  const w = weights(new Lcg(31));

  it('imports for one sample with the batch axes recorded, no --input-shape needed', () => {
    const g = importOnnxBatched(exported(w));
    expect(g.inputs[0].type.shape).toEqual([T, 1, F]);
    expect(g.outputs.map((o) => o.node.type.shape)).toEqual([[T, 1, C], [1, 1, H]]);
    expect(g.batchAxes).toEqual({ inputs: [1], outputs: [1, 1] });
    // The per-sample graph is the model at batch 1.
    const x = new Lcg(2).array(T * F, -1, 1);
    const got = interpret(g, { x: Float32Array.from(x) }, {}, 1) as Arrays;
    const ref = naive(w, x, 1);
    expectClose(got.y, ref.y);
    expectClose(got.hn, ref.hn);
  });

  it('graph JSON keeps the batch axes (and checks them on read)', () => {
    const g = importOnnxBatched(exported(w));
    const json = graphToJson(g);
    expect(graphFromJson(JSON.parse(JSON.stringify(json))).batchAxes).toEqual({ inputs: [1], outputs: [1, 1] });
    expect(() => graphFromJson({ ...json, batchAxes: { inputs: [0], outputs: [1, 1] } })).toThrow(/graph field "batchAxes.inputs\[0\]" is 0, expected the position of a dimension of size 1 or null/);
    expect(() => graphFromJson({ ...json, batchAxes: { inputs: [1], outputs: [1] } })).toThrow(/"batchAxes.outputs" has 1 entries, expected 2/);
  });

  it('finds the outputs\' batch axes by probing when the file names none', () => {
    expect(importOnnxBatched(exported(w, false)).batchAxes).toEqual({ inputs: [1], outputs: [1, 1] });
  });

  it('the emitted module takes [T, N, F] and matches the reference at batch 1, 3 and 5 (predict, run, async)', async () => {
    const m = await load(importOnnxBatched(exported(w)), 'hand-lstm');
    expect(m.inputs[0].shape).toEqual([T, 'N', F]);
    expect(m.outputs.map((o) => o.shape)).toEqual([[T, 'N', C], [1, 'N', H]]);
    expect(m.manifest.inputs[0].shape).toEqual([T, 'N', F]);
    expect(m.manifest.outputs[0].shape).toEqual([T, 'N', C]);
    expect(m.ts).toContain('the batch lies on axis 1');
    for (const N of [1, 3, 5]) {
      const x = new Lcg(10 + N).array(T * N * F, -1, 1);
      const ref = naive(w, x, N);
      const out = m.model.run({ x: Float32Array.from(x) }, N);
      expectClose(out.y, ref.y);
      expectClose(out.hn, ref.hn);
      expectClose(m.model.predict(Float32Array.from(x), N), ref.y);
      expectClose((await m.model.runAsync({ x: Float32Array.from(x) }, N)).hn, ref.hn);
      expectClose(await m.model.predictAsync(Float32Array.from(x), N), ref.y);
    }
    expect(() => m.model.predict(new Float32Array(T * 2 * F + 1), 2)).toThrow(/input 'x': expected float32 \[4, 2, 3\]/);
  });

  it('the GPU.js backend (cpu mode) loops over the batch as well; training refuses it with a clear error', async () => {
    const g = importOnnxBatched(exported(w));
    const compiled = compileModel(g, { backend: 'gpujs' });
    const dir = path.join(REPO_ROOT, 'test', '.out', 'seq-batch-axis', 'hand-lstm-gpujs');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'model.js'), compiled.js);
    const mod = await import(/* @vite-ignore */ pathToFileURL(path.join(dir, 'model.js')).href);
    expect(mod.manifest.outputs[1].shape).toEqual([1, 'N', H]);
    const model = mod.createModel(undefined, { mode: 'cpu' });
    const N = 3;
    const x = new Lcg(40).array(T * N * F, -1, 1);
    const ref = naive(w, x, N);
    expectClose(model.predict(Float32Array.from(x), N), ref.y);
    expectClose((await model.runAsync({ x: Float32Array.from(x) }, N)).hn, ref.hn);
    const oneOutput: Graph = { ...g, outputs: [g.outputs[0]], batchAxes: { inputs: g.batchAxes!.inputs, outputs: [g.batchAxes!.outputs[0]] } };
    expect(() => compileModel(oneOutput, { training: { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } } as never })).toThrow(/batch on an axis other than the first .*only inference modules loop over such a batch/);
  });

  it('two inputs with their batch on different axes, and one given whole to every sample', async () => {
    // y[t, n, f] = x[t, n, f] * s[n, f] + c[f]: x [T, N, F], s [N, F] (batch first), c [F] fixed.
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        opsetImport: [{ version: 14 }],
        graph: {
          input: [sym('x', [T, 'b', F]), sym('s', ['b', F]), sym('c', [F])],
          output: [sym('y', [T, 'b', F])],
          node: [
            { opType: 'Mul', input: ['x', 's'], output: ['xs'] },
            { opType: 'Add', input: ['xs', 'c'], output: ['y'] },
          ],
        },
      }),
    ).finish();
    const g = importOnnxBatched(bytes);
    expect(g.batchAxes).toEqual({ inputs: [1, 0, null], outputs: [1] });
    const m = await load(g, 'two-axes');
    expect(m.inputs.map((t) => t.shape)).toEqual([[T, 'N', F], ['N', F], [F]]);
    const N = 3;
    const x = Float32Array.from(new Lcg(50).array(T * N * F));
    const sv = Float32Array.from(new Lcg(51).array(N * F));
    const c = Float32Array.from([0.5, -1, 2]);
    const want = new Float64Array(T * N * F);
    for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) for (let f = 0; f < F; f++) want[(t * N + n) * F + f] = x[(t * N + n) * F + f] * sv[n * F + f] + c[f];
    expectClose(m.model.run({ x, s: sv, c }, N).y, want, 1e-6);
  });

  it('an output that does not grow with the batch is an error naming it', () => {
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        opsetImport: [{ version: 14 }],
        graph: {
          input: [sym('x', [T, 'batch', F])],
          output: [sym('s', [T, F])],
          initializer: [int64('axes', [1])],
          node: [{ opType: 'ReduceSum', input: ['x', 'axes'], output: ['s'], attribute: [{ name: 'keepdims', type: A.INT, i: 0 }] }],
        },
      }),
    ).finish();
    expect(() => importOnnxBatched(bytes)).toThrow(/output 's': cannot tell which dimension is the batch \(\[4, 3\] at batch 1, \[4, 3\] at batch 2\)/);
  });

  it("'N' given in --input-shape at another position makes that axis the batch", () => {
    const g = importOnnxBatched(exported(w), { inputShapes: { x: [T, 'N', F] } });
    expect(g.batchAxes).toEqual({ inputs: [1], outputs: [1, 1] });
    expect(() => importOnnxBatched(exported(w), { inputShapes: { x: ['N', 'N', F] } })).toThrow(/input 'x': only one dimension can be the batch N/);
  });
});

interface Case {
  batch: number;
  inputs: Record<string, { shape: number[]; data: number[] }>;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

describe('real torch.onnx.export files, sequence-first (PyTorch 1.13, opset 14)', () => {
  const fixture = (stem: string) => ({
    bytes: new Uint8Array(readFileSync(new URL(`./fixtures/${stem}.onnx`, import.meta.url))),
    cases: (JSON.parse(readFileSync(new URL(`./fixtures/${stem}.json`, import.meta.url), 'utf8')) as { cases: Case[] }).cases,
  });

  it.each([
    ['torch-lstm-head-seq-first', { inputs: [1], outputs: [1, 1] }],
    // out = Linear(y[-1]) [N, C]: its batch is first; the file leaves it unnamed ('Gemmout_dim_0').
    ['torch-gru-state-seq-first', { inputs: [1, 1], outputs: [0, 1] }],
    // 2 layers, bidirectional: Transpose → Reshape between the layers, h [4, N, H].
    ['torch-bilstm-seq-first', { inputs: [1], outputs: [1, 1] }],
  ])('%s imports without --input-shape and predicts what PyTorch predicted at batch 1 and 4', async (stem, axes) => {
    const { bytes, cases } = fixture(stem);
    const weightsOut: Record<string, Float32Array> = {};
    const g = importOnnxBatched(bytes, { weightsOut });
    expect(g.batchAxes).toEqual(axes);
    const m = await load(g, stem, weightsOut);
    expect(cases.map((c) => c.batch)).toEqual([1, 4]);
    for (const c of cases) {
      const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, Float32Array.from(v.data)]));
      const out = m.model.run(feeds, c.batch);
      for (const [k, v] of Object.entries(c.outputs)) expectClose(out[k], v.data, 1e-5);
    }
  });

  it('a batch-first nn.GRU whose batch a transpose moves inside (fixtures/make-pytorch-rnn.py) runs per sample and predicts what PyTorch did', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('./fixtures/torch-gru-batch-first.onnx', import.meta.url)));
    const expected = JSON.parse(readFileSync(new URL('./fixtures/torch-gru-batch-first.json', import.meta.url), 'utf8')) as { x: number[]; xShape: number[]; y: number[]; h: number[] };
    const weightsOut: Record<string, Float32Array> = {};
    const g = importOnnxBatched(bytes, { weightsOut });
    expect(g.batchAxes).toEqual({ inputs: [0], outputs: [0, 1] });
    const m = await load(g, 'torch-gru-batch-first', weightsOut);
    expect(m.inputs[0].shape).toEqual(['N', 5, 3]);
    expect(m.outputs.map((o) => o.shape)).toEqual([['N', 5, 4], [1, 'N', 4]]);
    const out = m.model.run({ x: Float32Array.from(expected.x) }, expected.xShape[0]);
    expectClose(out.y, expected.y, 1e-5);
    expectClose(out.h, expected.h, 1e-5);
  });
});

describe('the kiln command on a sequence-first PyTorch export', () => {
  it('check, summary and inspect say where the batch lies; compile needs no --input-shape and its module predicts what PyTorch did', async () => {
    const file = 'test/onnx/fixtures/torch-gru-state-seq-first.onnx';
    const check = await kiln('check', file);
    expect(check.status, showRun(check)).toBe(0);
    expect(check.stdout).toContain('outputs out float32[N, 2], h float32[1, N, 4]\nbatch on axis 1 (x, h0, h), on axis 0 (out); compiled per sample');
    const summary = await kiln('summary', file);
    expect(summary.stdout).toContain('Batch on axis 1 (x, h0, h), on axis 0 (out); compiled per sample: predict and run loop over the batch.');
    // Its memory is one sample's whatever the batch: the figures are at batch 1 unless --batch says otherwise.
    expect(summary.stdout).toMatch(/Activations @1 │/);
    expect(summary.stdout).toContain('Planned peak at batch 1:');
    // --input-shape may name the batch at that position itself (N), as the file does.
    const given = await kiln('check', 'test/onnx/fixtures/torch-lstm-head-seq-first.onnx', '--input-shape', 'x=5,N,3');
    expect(given.stdout, showRun(given)).toContain('batch on axis 1 (x, y, h)');
    const inspect = await kiln('inspect', file);
    expect(inspect.stdout.split('\n')[1]).toBe('  # batch on axis 1 (x, h0, h), on axis 0 (out); compiled per sample: predict and run loop over the batch');
    const out = freshOutDir('seq-batch-axis-cli');
    const compiled = await kiln('compile', file, '--out', out);
    expect(compiled.status, showRun(compiled)).toBe(0);
    expect(compiled.stdout).toContain('batch on axis 1 (x, h0, h), on axis 0 (out)');
    const mod = await import(/* @vite-ignore */ pathToFileURL(path.join(out, 'torch_jit.mjs')).href);
    expect(mod.inputs.map((t: { shape: unknown }) => t.shape)).toEqual([[5, 'N', 3], [1, 'N', 4]]);
    const model = mod.createModel(readFileSync(path.join(out, 'torch_jit.weights.bin')));
    const c = (JSON.parse(readFileSync(new URL('./fixtures/torch-gru-state-seq-first.json', import.meta.url), 'utf8')) as { cases: Case[] }).cases[1];
    const got = model.run({ x: Float32Array.from(c.inputs.x.data), h0: Float32Array.from(c.inputs.h0.data) }, c.batch) as Arrays;
    expectClose(got.out, c.outputs.out.data, 1e-5);
    expectClose(got.h, c.outputs.h.data, 1e-5);
  });
});
