// Hostile ONNX files: corrupt bytes are clear KilnErrors, hostile names compile into a module that runs.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { REPO_ROOT } from '../../cli/conformance/run.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const valueInfo = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

/** y = Relu(Add(a, w)) · 2 with the given names for everything. */
function modelBytes(names: { a: string; y: string; w: string; add: string; relu: string; graph: string }): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: names.graph,
      input: [valueInfo(names.a, [2, 3])],
      output: [valueInfo(names.y, [2, 3])],
      initializer: [{ name: names.w, dataType: FLOAT, dims: [3], floatData: [1, -2, 3] }],
      node: [
        { name: names.add, opType: 'Add', input: [names.a, names.w], output: ['s'] },
        { name: names.relu, opType: 'Relu', input: ['s'], output: ['r'] },
        { name: `${names.relu}*/`, opType: 'Constant', output: ['two'], attribute: [{ name: 'value_float', type: onnx.AttributeProto.AttributeType.FLOAT, f: 2 }] },
        { name: names.add, opType: 'Mul', input: ['r', 'two'], output: [names.y] },
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const SAFE = { a: 'a', y: 'y', w: 'w', add: 'add', relu: 'relu', graph: 'g' };

/** Imports bytes: a graph, or a KilnError; anything else (a TypeError, an internal error) fails the test. */
function importOrKilnError(bytes: Uint8Array): 'ok' | 'error' {
  try {
    importOnnx(bytes);
    return 'ok';
  } catch (e) {
    if (!(e instanceof KilnError)) throw new Error(`not a KilnError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    expect(e.message.length).toBeGreaterThan(10);
    return 'error';
  }
}

describe('corrupt ONNX bytes', () => {
  const bytes = modelBytes(SAFE);

  it('imports the intact model', () => {
    expect(importOnnx(bytes).outputs[0].node.type.shape).toEqual([2, 3]);
  });

  it('empty and garbage input are KilnErrors', () => {
    expect(() => importOnnx(new Uint8Array())).toThrow(KilnError);
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(KilnError);
    expect(() => importOnnx(new TextEncoder().encode('not an onnx file at all'))).toThrow(KilnError);
  });

  it('every truncation is a KilnError or a graph, never a crash', () => {
    let errors = 0;
    for (let n = 1; n < bytes.length; n++) if (importOrKilnError(bytes.subarray(0, n)) === 'error') errors++;
    expect(errors).toBeGreaterThan(bytes.length / 2);
  });

  it('every single bit flip is a KilnError or a graph, never a crash', () => {
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = bytes.slice();
        copy[i] ^= 1 << bit;
        importOrKilnError(copy);
      }
    }
  });

  it('an unsupported op names the op, the node and the opset', () => {
    const model = onnx.ModelProto.create({
      opsetImport: [{ version: 17 }],
      graph: { input: [valueInfo('x', [2])], output: [valueInfo('y', [2])], node: [{ name: 'my_node', opType: 'Frobnicate', input: ['x'], output: ['y'] }] },
    });
    expect(() => importOnnx(onnx.ModelProto.encode(model).finish())).toThrow(/my_node.*Frobnicate.*opset 17|Frobnicate.*my_node/);
  });
});

describe('hostile names', () => {
  it('compile into a module that runs and computes the right values', async () => {
    const names = {
      a: '*/ process.exit(1) /*',
      y: '`${process.exit(2)}`\u2028"\'\\',
      w: '__proto__',
      add: '*/ process.exit(3) /* `${globalThis.x}`',
      relu: 'constructor\n// process.exit(4)',
      graph: '*/ throw 1; /* `',
    };
    const graph = importOnnx(modelBytes(names));
    const compiled = compileModel(graph);
    const dir = path.join(REPO_ROOT, 'test', '.out', 'onnx-hostile');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'model.js');
    writeFileSync(file, compiled.js);
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
      createModel(): { run(feeds: Record<string, unknown>, batch: number): Record<string, Float32Array> };
    };
    const x = Float32Array.from([0, 1, -5, -1, 3, 0.5]);
    const out = mod.createModel().run({ [names.a]: x }, 1);
    expect(Object.keys(out)).toEqual([names.y]);
    expect(Array.from(out[names.y])).toEqual([2, 0, 0, 0, 2, 7]);
  });
});
