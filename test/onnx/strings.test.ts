// ONNX string tensors: interned to int32 ids at the model boundary, strings again on the way out.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { stringLiteral } from '../../compiler/codegen/names.ts';
import { REPO_ROOT } from '../../cli/conformance/run.ts';
import { KilnError, UnsupportedError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';

const T = onnx.TensorProto.DataType;
const valueInfo = (name: string, elemType: number, dims: number[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const strings = (name: string, dims: number[], values: string[]) => ({ name, dataType: T.STRING, dims, stringData: values.map((s) => new TextEncoder().encode(s)) });

type Node = { name?: string; opType: string; input: string[]; output: string[] };
type Info = ReturnType<typeof valueInfo>;

function modelBytes(input: Info[], output: Info[], node: Node[], initializer: object[] = []): Uint8Array {
  const model = onnx.ModelProto.create({ irVersion: 9, opsetImport: [{ domain: '', version: 19 }], graph: { name: 'strings', input, output, node, initializer } });
  return onnx.ModelProto.encode(model).finish();
}

interface Loaded {
  source: { ts: string; js: string };
  inputs: readonly { name: string; dtype: string }[];
  outputs: readonly { name: string; dtype: string }[];
  model: { run(feeds: Record<string, unknown>, batch: number): Record<string, unknown>; predict(x: unknown, batch: number): unknown };
}

/** Imports, compiles and loads a model (in test/.out, so `kiln/runtime` resolves). */
async function load(model: Uint8Array | Graph, name: string): Promise<Loaded> {
  const compiled = compileModel(model instanceof Uint8Array ? importOnnx(model) : model);
  const dir = path.join(REPO_ROOT, 'test', '.out', 'onnx-strings', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.js');
  writeFileSync(file, compiled.js);
  writeFileSync(path.join(dir, 'model.ts'), compiled.ts);
  const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Omit<Loaded, 'source' | 'model'> & { createModel(): Loaded['model'] };
  return { source: { ts: compiled.ts, js: compiled.js }, inputs: mod.inputs, outputs: mod.outputs, model: mod.createModel() };
}

describe('ONNX string tensors', () => {
  it('equal strings compare equal across two inputs', async () => {
    const bytes = modelBytes([valueInfo('x', T.STRING, [4]), valueInfo('y', T.STRING, [4])], [valueInfo('z', T.BOOL, [4])], [{ opType: 'Equal', input: ['x', 'y'], output: ['z'] }]);
    const { inputs, model } = await load(bytes, 'equal');
    expect(inputs.map((i) => i.dtype)).toEqual(['string', 'string']);
    expect(Array.from(model.run({ x: ['cat', 'dog', 'cat', 'é🙂'], y: ['cat', 'cat', 'dog', 'é🙂'] }, 1).z as Int32Array)).toEqual([1, 0, 0, 1]);
    // A fresh dictionary per call: ids from the last call mean nothing in this one.
    expect(Array.from(model.run({ x: ['dog', 'a', 'b', ''], y: ['dog', 'b', 'b', ''] }, 1).z as Int32Array)).toEqual([1, 0, 1, 1]);
  });

  it('string outputs come back as strings (moved, picked and selected on ids)', async () => {
    const bytes = modelBytes(
      [valueInfo('x', T.STRING, [3]), valueInfo('c', T.BOOL, [3])],
      [valueInfo('same', T.STRING, [3]), valueInfo('picked', T.STRING, [2]), valueInfo('chosen', T.STRING, [3]), valueInfo('both', T.STRING, [2, 3])],
      [
        { opType: 'Identity', input: ['x'], output: ['same'] },
        { opType: 'Gather', input: ['x', 'idx'], output: ['picked'] },
        { opType: 'Where', input: ['c', 'x', 'none'], output: ['chosen'] },
        { opType: 'Concat', input: ['x', 'chosen'], output: ['flat'] },
        { opType: 'Reshape', input: ['flat', 'shape'], output: ['both'] },
      ].map((n) => ({ ...n, attribute: n.opType === 'Concat' ? [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }] : [] })),
      [
        strings('none', [1], ['none']),
        { name: 'idx', dataType: T.INT64, dims: [2], int64Data: [2, 0] },
        { name: 'shape', dataType: T.INT64, dims: [2], int64Data: [2, 3] },
      ],
    );
    const { outputs, model } = await load(bytes, 'outputs');
    expect(outputs.map((o) => o.dtype)).toEqual(['string', 'string', 'string', 'string']);
    const x = ['a', 'none', 'ü\n"'];
    const out = model.run({ x, c: Int32Array.from([1, 0, 1]) }, 1);
    expect(out.same).toEqual(x);
    expect(out.picked).toEqual(['ü\n"', 'a']);
    expect(out.chosen).toEqual(['a', 'none', 'ü\n"']);
    expect(out.both).toEqual([...x, 'a', 'none', 'ü\n"']);
  });

  it('a hostile string stays out of the generated source', async () => {
    const hostile = '*/ `${process.exit(1)}` "\n\u2028 /*';
    const bytes = modelBytes(
      [valueInfo('x', T.STRING, [2])],
      [valueInfo('eq', T.BOOL, [2]), valueInfo('y', T.STRING, [2])],
      [
        { opType: 'Equal', input: ['x', 'bad'], output: ['eq'] },
        { opType: 'Where', input: ['eq', 'bad', 'x'], output: ['y'] },
      ],
      [strings('bad', [], [hostile])],
    );
    const { source, model } = await load(bytes, 'hostile');
    for (const text of [source.ts, source.js]) {
      expect(text).not.toContain(hostile);
      expect(text).not.toContain('${process.exit(1)}` "'); // only ever inside the escaped literal
      expect(text).toContain(stringLiteral(hostile));
    }
    const out = model.run({ x: ['ok', hostile] }, 1);
    expect(Array.from(out.eq as Int32Array)).toEqual([0, 1]);
    expect(out.y).toEqual(['ok', hostile]);
  });

  it('arithmetic, ordering or casts on strings are clear errors naming the op, the node and STRING', () => {
    for (const opType of ['Add', 'Less', 'ReduceMax', 'Cast']) {
      const bytes = modelBytes([valueInfo('x', T.STRING, [2]), valueInfo('y', T.STRING, [2])], [valueInfo('z', T.STRING, [2])], [{ name: 'my_node', opType, input: opType === 'Add' || opType === 'Less' ? ['x', 'y'] : ['x'], output: ['z'] }]);
      expect(() => importOnnx(bytes)).toThrow(UnsupportedError);
      expect(() => importOnnx(bytes)).toThrow(new RegExp(`"my_node" \\(${opType}, opset 19\\): ${opType} cannot take input 0 of element type STRING`));
    }
  });

  it('checks string inputs: an array of strings, nothing else', async () => {
    const bytes = modelBytes([valueInfo('x', T.STRING, [2])], [valueInfo('y', T.STRING, [2])], [{ opType: 'Identity', input: ['x'], output: ['y'] }]);
    const { model } = await load(bytes, 'check');
    expect(model.predict(['p', 'q'], 1)).toEqual(['p', 'q']);
    expect(() => model.run({ x: Int32Array.from([1, 2]) }, 1)).toThrow(/input 'x': expected an array of strings of string \[2\] \(2 values\), got Int32Array/);
    expect(() => model.run({ x: ['p', 2] }, 1)).toThrow(/element 1 is number/);
    expect(() => model.run({ x: ['p'] }, 1)).toThrow(/expected string \[2\] \(2 values\), got 1 values/);
  });

  it('the gpujs backend and ONNX export refuse string tensors rather than lose them', () => {
    const bytes = modelBytes([valueInfo('x', T.STRING, [2]), valueInfo('y', T.STRING, [2])], [valueInfo('z', T.BOOL, [2])], [{ opType: 'Equal', input: ['x', 'y'], output: ['z'] }]);
    expect(() => compileModel(importOnnx(bytes), { backend: 'gpujs' })).toThrow(/string tensors: only the js backend/);
    expect(() => exportOnnx(importOnnx(bytes), {})).toThrow(/cannot export to ONNX: graph 'strings' has string tensors/);
  });

  it('leaves models without strings as they were', () => {
    const bytes = modelBytes([valueInfo('x', T.FLOAT, [2])], [valueInfo('y', T.FLOAT, [2])], [{ opType: 'Identity', input: ['x'], output: ['y'] }]);
    const graph = importOnnx(bytes);
    expect(graph.strings).toBeUndefined();
    expect(graphToJson(graph)).not.toHaveProperty('strings');
    expect(compileModel(graph).ts).not.toContain('stringDictionary');
  });

  it('are a field of the graph, not an attribute of a node, and survive the graph JSON round trip', async () => {
    const bytes = modelBytes(
      [valueInfo('x', T.STRING, [2]), valueInfo('y', T.STRING, [2])],
      [valueInfo('eq', T.BOOL, [2]), valueInfo('z', T.STRING, [2])],
      [
        { opType: 'Equal', input: ['x', 'k'], output: ['eq'] },
        { opType: 'Where', input: ['eq', 'y', 'x'], output: ['z'] },
      ],
      [strings('k', [2], ['cat', 'dog'])],
    );
    const graph = importOnnx(bytes);
    expect(graph.strings).toEqual({ inputs: ['x', 'y'], outputs: ['z'], table: ['cat', 'dog'] });
    for (const n of graph.inputs) expect(n.attrs).not.toHaveProperty('strings');
    const json = JSON.parse(JSON.stringify(graphToJson(graph)));
    expect(json.strings).toEqual({ inputs: ['x', 'y'], outputs: ['z'], table: ['cat', 'dog'] });
    const back = graphFromJson(json);
    expect(back.strings).toEqual(graph.strings);
    const { model } = await load(back, 'json');
    // x = [cat, bird]: the first matches the constant 'cat', so z takes y there and x elsewhere.
    const out = model.run({ x: ['cat', 'bird'], y: ['p', 'q'] }, 1);
    expect(Array.from(out.eq as Int32Array)).toEqual([1, 0]);
    expect(out.z).toEqual(['p', 'bird']);
  });

  it('graph JSON: reads the boundary a file of the first version kept on the first input, and rejects a bad one', () => {
    const bytes = modelBytes([valueInfo('x', T.STRING, [2])], [valueInfo('y', T.STRING, [2])], [{ opType: 'Identity', input: ['x'], output: ['y'] }]);
    const json = graphToJson(importOnnx(bytes));
    const boundary = json.strings!;
    const legacy = JSON.parse(JSON.stringify({ ...json, strings: undefined }));
    legacy.nodes[json.inputs[0]].attrs.strings = boundary;
    expect(graphFromJson(legacy).strings).toEqual(boundary);
    expect(graphFromJson(legacy).inputs[0].attrs).not.toHaveProperty('strings');
    const bad = (strings: unknown) => () => graphFromJson({ ...json, strings });
    expect(bad({ ...boundary, inputs: ['nope'] })).toThrow(/strings\.inputs" names 'nope', which is not a graph input/);
    expect(bad({ ...boundary, outputs: ['x'] })).toThrow(/strings\.outputs" names 'x', which is not a graph output/);
    expect(bad({ ...boundary, table: [1] })).toThrow(/strings\.table\[0\]" must be a string, got number 1/);
    expect(bad({ ...boundary, extra: [] })).toThrow(/unknown field 'extra'/);
    expect(bad('x')).toThrow(KilnError);
  });
});
