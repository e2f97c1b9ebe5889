// Hostile ONNX files that used to crash the import or be silently misread: names that are
// JavaScript keywords or Object.prototype keys, two writers of one value, unknown opsets,
// attributes of the wrong type, constant Gather indices out of range.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { freshOutDir, importModule } from '../e2e/helpers.ts';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const vi = (name: string, dims: number[], elemType = T.FLOAT) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const encode = (graph: object, opset = 17) => onnx.ModelProto.encode(onnx.ModelProto.create({ opsetImport: [{ version: opset }], graph })).finish();

/** Names that must be plain keys everywhere: prototype keys and reserved words. */
const HOSTILE = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'class', 'function', 'return', 'this'];

describe('names that are JavaScript keywords or prototype keys', () => {
  const out = freshOutDir('hardening-onnx-names');

  // y_k = relu((x + w) * b) under rotating names, so every role (graph input, initializer,
  // node output, graph output, node name) holds each hostile name once.
  HOSTILE.forEach((x, k) => {
    const [w, t, y, b] = [1, 2, 3, 4].map((d) => HOSTILE[(k + d) % HOSTILE.length]);
    it(`'${x}' as an input, '${w}' an initializer, '${t}' a node output, '${y}' a graph output: import, compile, run`, async () => {
      const bytes = encode({
        input: [vi(x, [3]), vi(b, [3])],
        output: [vi(y, [3]), vi(t, [3])],
        initializer: [{ name: w, dataType: T.FLOAT, dims: [3], floatData: [1, -2, 0.5] }],
        node: [
          { name: x, opType: 'Add', input: [x, w], output: [t] },
          { name: w, opType: 'Mul', input: [t, b], output: ['m'] },
          { name: t, opType: 'Relu', input: ['m'], output: [y] },
        ],
      });
      const weights: Record<string, Float32Array> = {};
      const graph = importOnnxBatched(bytes, { weightsOut: weights, inputShapes: {} });
      expect(Object.keys(weights)).toEqual([w]);
      expect(Object.getPrototypeOf(weights)).toBe(Object.prototype);
      const compiled = compileModel(graph, { initialWeights: weights });
      const file = path.join(out, `m${k}.js`);
      writeFileSync(file, compiled.js);
      const mod = await importModule(file);
      const model = mod.createModel(compiled.weights);
      const feeds = Object.fromEntries([[x, new Float32Array([1, 2, 3])], [b, new Float32Array([2, 1, -1])]]);
      const result = model.run(feeds, 1);
      expect(Object.keys(result).sort()).toEqual([y, t].sort());
      // By hand: x + w = [2, 0, 3.5]; times b = [4, 0, -3.5]; relu = [4, 0, 0].
      expect(Array.from(result[t])).toEqual([2, 0, 3.5]);
      expect(Array.from(result[y])).toEqual([4, 0, 0]);
      // A feed the caller left out is reported by name, not read from Object.prototype.
      expect(() => model.run(Object.fromEntries([[b, new Float32Array(3)]]), 1)).toThrow(new RegExp(`input '${x}': expected a Float32Array .* got undefined`));
    });
  });

  it('inputShapes and inputValues are read by own property only', () => {
    const bytes = encode({ input: [{ name: 'constructor', type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimParam: 'n' }] } } } }], output: [vi('y', [4])], node: [{ opType: 'Relu', input: ['constructor'], output: ['y'] }] });
    // Object.prototype.constructor is not a shape: the symbolic dim is reported instead of a TypeError.
    expect(() => importOnnx(bytes, { inputShapes: {}, inputValues: {} })).toThrow(/graph input 'constructor': dimension 0 is symbolic/);
    const g = importOnnx(bytes, { inputShapes: Object.fromEntries([['constructor', [4]]]) });
    expect(g.inputs[0].type.shape).toEqual([4]);
  });
});

describe('malformed graphs are errors, not the last writer winning', () => {
  it('two nodes writing one output: an error naming both', () => {
    const bytes = encode({
      input: [vi('x', [2])],
      output: [vi('y', [2])],
      node: [
        { name: 'first', opType: 'Relu', input: ['x'], output: ['y'] },
        { name: 'second', opType: 'Neg', input: ['x'], output: ['y'] },
      ],
    });
    expect(() => importOnnx(bytes)).toThrow(KilnError);
    expect(() => importOnnx(bytes)).toThrow(/node "second" \(Neg.*writes "y", which node "first" \(Relu/);
  });

  it('a node writing a graph input or an initializer: an error naming both', () => {
    const onInput = encode({ input: [vi('x', [2])], output: [vi('x2', [2])], node: [{ name: 'n', opType: 'Relu', input: ['x'], output: ['x'] }, { opType: 'Neg', input: ['x'], output: ['x2'] }] });
    expect(() => importOnnx(onInput)).toThrow(/node "n" \(Relu.*writes "x", which graph input "x" already defines/);
    const onInit = encode({ input: [vi('x', [2])], output: [vi('y', [2])], initializer: [{ name: 'w', dataType: T.FLOAT, dims: [2], floatData: [1, 2] }], node: [{ name: 'n', opType: 'Relu', input: ['x'], output: ['w'] }, { opType: 'Add', input: ['x', 'w'], output: ['y'] }] });
    expect(() => importOnnx(onInit)).toThrow(/node "n" \(Relu.*writes "w", which initializer "w" already defines/);
  });

  it('two graph inputs, initializers or outputs of one name: an error naming it', () => {
    const inputs = encode({ input: [vi('x', [2]), vi('x', [2])], output: [vi('y', [2])], node: [{ opType: 'Relu', input: ['x'], output: ['y'] }] });
    expect(() => importOnnx(inputs)).toThrow(/two graph inputs are named "x"/);
    const init = { name: 'w', dataType: T.FLOAT, dims: [2], floatData: [1, 2] };
    const inits = encode({ input: [vi('x', [2])], output: [vi('y', [2])], initializer: [init, { ...init, floatData: [3, 4] }], node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }] });
    expect(() => importOnnx(inits)).toThrow(/two initializers are named "w"/);
    const outs = encode({ input: [vi('x', [2])], output: [vi('y', [2]), vi('y', [2])], node: [{ opType: 'Relu', input: ['x'], output: ['y'] }] });
    expect(() => importOnnx(outs)).toThrow(/two graph outputs are named "y"/);
  });

  it('opset 99 (or 0) is an error listing the supported range', () => {
    const graph = { input: [vi('x', [2])], output: [vi('y', [2])], node: [{ opType: 'Relu', input: ['x'], output: ['y'] }] };
    expect(() => importOnnx(encode(graph, 99))).toThrow(/opset 99 is not supported: Kiln imports opsets 1 to 25/);
    expect(() => importOnnx(encode(graph, 0))).toThrow(/opset 0 is not supported: Kiln imports opsets 1 to 25/);
    expect(importOnnx(encode(graph, 25)).outputs[0].name).toBe('y');
  });

  const oneNode = (node: object, shape: number[], outShape: number[]) => encode({ input: [vi('x', shape)], output: [vi('y', outShape)], node: [{ name: 'bad', input: ['x'], output: ['y'], ...node }] });

  it('a FLOAT perm is an error naming node, attribute, expected and found type', () => {
    const bytes = oneNode({ opType: 'Transpose', attribute: [{ name: 'perm', type: A.FLOAT, f: 1 }] }, [2, 3], [3, 2]);
    expect(() => importOnnx(bytes)).toThrow(KilnError);
    expect(() => importOnnx(bytes)).toThrow(/node "bad" \(Transpose, opset 17\): attribute "perm" must be INTS, found FLOAT/);
  });

  it('INTS where INT is expected (Softmax axis), STRING where FLOAT is (LeakyRelu alpha), INT for a STRING (RNN direction)', () => {
    const softmax = oneNode({ opType: 'Softmax', attribute: [{ name: 'axis', type: A.INTS, ints: [0] }] }, [2, 3], [2, 3]);
    expect(() => importOnnx(softmax)).toThrow(/node "bad" \(Softmax, opset 17\): attribute "axis" must be INT, found INTS/);
    const leaky = oneNode({ opType: 'LeakyRelu', attribute: [{ name: 'alpha', type: A.STRING, s: new TextEncoder().encode('0.5') }] }, [2], [2]);
    expect(() => importOnnx(leaky)).toThrow(/attribute "alpha" must be FLOAT, found STRING/);
    const rnn = encode({
      input: [vi('x', [1, 1, 2])],
      output: [vi('y', [1, 1, 1, 2])],
      initializer: [
        { name: 'W', dataType: T.FLOAT, dims: [1, 2, 2], floatData: [1, 0, 0, 1] },
        { name: 'R', dataType: T.FLOAT, dims: [1, 2, 2], floatData: [0, 0, 0, 0] },
      ],
      node: [{ name: 'bad', opType: 'RNN', input: ['x', 'W', 'R'], output: ['y'], attribute: [{ name: 'hidden_size', type: A.INT, i: 2 }, { name: 'direction', type: A.INT, i: 1 }] }],
    });
    expect(() => importOnnx(rnn)).toThrow(/node "bad" \(RNN, opset 17\): attribute "direction" must be STRING, found INT/);
  });

  it('attributes of the first IR versions (type unset) are read by the field that holds them, not ignored', () => {
    // Ignored, the perm would default to the reversal [2, 1, 0].
    const transpose = importOnnx(oneNode({ opType: 'Transpose', attribute: [{ name: 'perm', ints: [0, 2, 1] }] }, [2, 3, 4], [2, 4, 3]));
    expect(transpose.outputs[0].node.type.shape).toEqual([2, 4, 3]);
    const leaky = importOnnx(oneNode({ opType: 'LeakyRelu', attribute: [{ name: 'alpha', f: 0.25 }] }, [2], [2]));
    expect(leaky.outputs[0].node.attrs.alpha).toBe(0.25);
  });

  it('Gather with constant indices out of [-n, n) is an error; [-n, 0) counts from the end', () => {
    const gather = (indices: number[]) =>
      encode({
        input: [vi('x', [3, 2])],
        output: [vi('y', [indices.length, 2])],
        initializer: [{ name: 'i', dataType: T.INT64, dims: [indices.length], int64Data: indices }],
        node: [{ name: 'g', opType: 'Gather', input: ['x', 'i'], output: ['y'] }],
      });
    expect(() => importOnnx(gather([0, 3]))).toThrow(/node "g" \(Gather, opset 17\): index 3 \(element 1 of the indices\) is out of range for axis 0 of size 3/);
    expect(() => importOnnx(gather([-4]))).toThrow(/index -4 .* out of range/);
    expect(importOnnx(gather([-3, 2])).outputs[0].node.type.shape).toEqual([2, 2]);
    const elements = encode({
      input: [vi('x', [2, 2])],
      output: [vi('y', [2, 2])],
      initializer: [{ name: 'i', dataType: T.INT64, dims: [2, 2], int64Data: [0, 1, 2, 0] }],
      node: [{ name: 'ge', opType: 'GatherElements', input: ['x', 'i'], output: ['y'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] }],
    });
    expect(() => importOnnx(elements)).toThrow(/node "ge" \(GatherElements, opset 17\): index 2 \(element 2 of the indices\) is out of range for axis 1 of size 2/);
  });
});
