// ONNX inputs with a symbolic leading dimension import with Kiln's batch dimension: a Kiln model
// exported to ONNX, loaded back through the CLI's loader, compiles and predicts like the original.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../cli/commands.ts';
import { exportCommand } from '../../cli/export.ts';
import { loadModel } from '../../cli/load.ts';
import { BATCH } from '../../src/ir/shape.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { parseInputShapes } from '../../cli/load.ts';
import { freshOutDir, kiln, showRun } from '../e2e/helpers.ts';
import { Lcg } from '../reference/lcg.ts';

const out = path.resolve('test/.out/onnx-batch');

async function moduleAt(dir: string, stem: string) {
  return import(pathToFileURL(path.join(dir, `${stem}.mjs`)).href);
}

describe('symbolic batch in ONNX inputs', () => {
  for (const name of ['mlp', 'cnn']) {
    it(`${name}: Kiln → ONNX → Kiln keeps the batch symbolic and predicts the same at batch 1 and 5`, async () => {
      const onnxFile = path.join(out, `${name}.onnx`);
      await exportCommand(`examples/${name}.ts`, { onnx: onnxFile, seed: 4, opset: 17 });
      const { graph } = await loadModel(onnxFile);
      expect(graph.inputs[0].type.shape[0]).toBe(BATCH);
      expect(graph.outputs[0].node.type.shape[0]).toBe(BATCH);
      await compileCommand(`examples/${name}.ts`, { backend: 'js', out: path.join(out, 'original'), seed: 4 });
      await compileCommand(onnxFile, { backend: 'js', out: path.join(out, 'imported'), seed: 0 });
      const original = (await moduleAt(path.join(out, 'original'), name)).createModel(readFileSync(path.join(out, 'original', `${name}.weights.bin`)));
      // The imported initializers are parameters; the compiled weight file holds their values.
      const imported = (await moduleAt(path.join(out, 'imported'), name)).createModel(readFileSync(path.join(out, 'imported', `${name}.weights.bin`)));
      const rng = new Lcg(5);
      for (const batch of [1, 5]) {
        const x = Float32Array.from({ length: 784 * batch }, () => rng.next());
        expect(Array.from(imported.predict(x, batch))).toBeAllclose(Array.from(original.predict(x, batch)), { rtol: 1e-5, atol: 1e-6 });
      }
    });
  }
});

describe('PyTorch-style dynamic shapes on a symbolic batch', () => {
  // What torch.onnx.export writes for `x.view(x.size(0), -1)` then a Linear layer:
  // Shape → Gather(0) → Unsqueeze → Concat([·, -1]) → Reshape, then Gemm with transB.
  const T = onnx.TensorProto.DataType;
  const sym = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  const int64 = (name: string, values: number[], dims = [values.length]) => ({ name, dataType: T.INT64, dims, int64Data: values });
  const weights = Float32Array.from({ length: 3 * 12 }, (_, i) => Math.cos(i) / 4);
  const bias = Float32Array.from([0.1, -0.2, 0.3]);
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      opsetImport: [{ version: 13 }],
      graph: {
        input: [sym('x', ['batch_size', 3, 2, 2])],
        output: [sym('y', ['batch_size', 3])],
        initializer: [
          int64('zero', [0], []),
          int64('minus_one', [-1]),
          int64('axes', [0]),
          { name: 'W', dataType: T.FLOAT, dims: [3, 12], floatData: Array.from(weights) },
          { name: 'B', dataType: T.FLOAT, dims: [3], floatData: Array.from(bias) },
        ],
        node: [
          { opType: 'Shape', input: ['x'], output: ['shape'] },
          { opType: 'Gather', input: ['shape', 'zero'], output: ['n'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
          { opType: 'Unsqueeze', input: ['n', 'axes'], output: ['n1'] },
          { opType: 'Concat', input: ['n1', 'minus_one'], output: ['target'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] },
          { opType: 'Reshape', input: ['x', 'target'], output: ['flat'] },
          { opType: 'Gemm', input: ['flat', 'W', 'B'], output: ['y'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
        ],
      },
    }),
  ).finish();

  it('imports with the batch symbolic and computes x·Wᵀ + b at batch 1 and 4', () => {
    const graph = importOnnxBatched(bytes);
    expect(graph.inputs[0].type.shape[0]).toBe('N');
    for (const batch of [1, 4]) {
      const x = Float32Array.from({ length: batch * 12 }, (_, i) => Math.sin(i));
      const y = interpret(graph, { x }, {}, batch).y as Float32Array;
      for (let n = 0; n < batch; n++) {
        for (let j = 0; j < 3; j++) {
          let want = bias[j];
          for (let k = 0; k < 12; k++) want += x[n * 12 + k] * weights[j * 12 + k];
          expect(y[n * 3 + j]).toBeCloseTo(want, 5);
        }
      }
    }
  });
});

describe('symbolic dimensions besides the batch', () => {
  const T = onnx.TensorProto.DataType;
  const sym = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      opsetImport: [{ version: 13 }],
      graph: { input: [sym('tokens', ['batch', 'seq', 4])], output: [sym('y', ['batch', 'seq', 4])], node: [{ opType: 'Relu', input: ['tokens'], output: ['y'] }] },
    }),
  ).finish();

  it('are an error that says how to give their size', () => {
    expect(() => importOnnxBatched(bytes)).toThrow(/dimension \d is symbolic.*--input-shape tokens=/);
  });

  it('take sizes from inputShapes, N keeping the batch symbolic', () => {
    expect(importOnnxBatched(bytes, { inputShapes: parseInputShapes(['tokens=N,5,4']) }).inputs[0].type.shape).toEqual([BATCH, 5, 4]);
    expect(importOnnxBatched(bytes, { inputShapes: parseInputShapes(['tokens=2,5,4']) }).inputs[0].type.shape).toEqual([2, 5, 4]);
    // N elsewhere is a batch the module loops over (seq-batch-axis.test.ts); two are an error.
    expect(parseInputShapes(['tokens=5,N'])).toEqual({ tokens: [5, 'N'] });
    expect(() => parseInputShapes(['tokens=N,N'])).toThrow(/one N at most: the batch/);
  });

  it('kiln check takes --input-shape', async () => {
    const dir = freshOutDir('onnx-input-shape');
    const file = path.join(dir, 'seq.onnx');
    writeFileSync(file, bytes);
    const ok = await kiln('check', file, '--input-shape', 'tokens=N,7,4');
    expect(ok.status, showRun(ok)).toBe(0);
    expect(ok.stdout).toMatch(/outputs y float32\[N, 7, 4\]/);
    const bad = await kiln('check', file);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--input-shape tokens=/);
  });
});
