// ONNX import details: opset-dependent semantics and TensorProto decoding.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/ir/interpret.ts';
import { KilnError, UnsupportedError } from '../../src/ir/errors.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { decodeTensor, decodeTensorBytes, toKilnArray } from '../../src/onnx/tensor.ts';

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const vi = (name: string, dims: number[], elemType = T.FLOAT) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

function oneNode(opset: number, node: object, shape: number[], outShape = shape, initializer: object[] = []) {
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({ opsetImport: [{ version: opset }], graph: { input: [vi('x', shape)], output: [vi('y', outShape)], initializer, node: [{ input: ['x'], output: ['y'], ...node }] } }),
  ).finish();
  return importOnnx(bytes);
}

const run = (g: ReturnType<typeof importOnnx>, x: Float32Array) => Array.from(interpret(g, { x }, {}, 1).y as Float32Array);
const softmax = (xs: number[]) => {
  const e = xs.map((v) => Math.exp(v - Math.max(...xs)));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('opset semantics', () => {
  const x = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 2);

  it('Softmax before opset 13 normalises over the input flattened at axis (default 1)', () => {
    const g = oneNode(11, { opType: 'Softmax' }, [2, 2, 3]);
    const expected = [...softmax(Array.from(x.slice(0, 6))), ...softmax(Array.from(x.slice(6)))];
    run(g, x).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('Softmax since opset 13 normalises along axis (default -1)', () => {
    const g = oneNode(13, { opType: 'Softmax' }, [2, 2, 3]);
    const expected = [0, 3, 6, 9].flatMap((o) => softmax(Array.from(x.slice(o, o + 3))));
    run(g, x).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });

  it('Clip takes min/max attributes before opset 11', () => {
    const g = oneNode(6, { opType: 'Clip', attribute: [{ name: 'min', type: A.FLOAT, f: -0.5 }, { name: 'max', type: A.FLOAT, f: 0.5 }] }, [12]);
    expect(run(g, x)).toEqual(Array.from(x, (v) => Math.min(Math.max(v, -0.5), 0.5)));
  });

  it('Reshape reads its shape from an int64 initializer; 0 copies a dim, -1 is inferred', () => {
    const shape = { name: 's', dataType: T.INT64, dims: [3], int64Data: [0, -1, 2] };
    const g = oneNode(14, { opType: 'Reshape', input: ['x', 's'] }, [2, 6], [2, 3, 2], [shape]);
    expect(g.outputs[0].node.type.shape).toEqual([2, 3, 2]);
  });

  it('an input an op needs at compile time and no value for it is an UnsupportedError', () => {
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        opsetImport: [{ version: 14 }],
        graph: { input: [vi('x', [2, 6]), vi('s', [2], T.INT64)], output: [vi('y', [12])], node: [{ name: 'r', opType: 'Reshape', input: ['x', 's'], output: ['y'] }] },
      }),
    ).finish();
    expect(() => importOnnx(bytes)).toThrow(UnsupportedError);
    expect(() => importOnnx(bytes)).toThrow(/"r".*Reshape.*opset 14/);
  });
});

describe('TensorProto decoding', () => {
  it('reads raw_data little-endian and the typed fields alike', () => {
    const raw = new Uint8Array(new Float32Array([1.5, -2, 3]).buffer);
    const a = decodeTensor({ name: 'a', dataType: T.FLOAT, dims: [3], rawData: raw });
    const b = decodeTensor({ name: 'b', dataType: T.FLOAT, dims: [3], floatData: [1.5, -2, 3] });
    expect(Array.from(a.data as Float32Array)).toEqual([1.5, -2, 3]);
    expect(Array.from(b.data as Float32Array)).toEqual([1.5, -2, 3]);
    const d = decodeTensor({ name: 'd', dataType: T.DOUBLE, dims: [1], doubleData: [0.1] });
    expect((d.data as Float64Array)[0]).toBe(0.1);
  });

  it('narrows int64 to int32 when the values fit, and refuses when not', () => {
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigInt64(0, 7n, true);
    new DataView(big.buffer).setBigInt64(8, -(2n ** 40n), true);
    const t = decodeTensor({ name: 'i', dataType: T.INT64, dims: [2], rawData: big });
    expect(t.data).toEqual([7, -(2 ** 40)]);
    expect(() => toKilnArray(t)).toThrow(/does not fit in int32/);
    expect(toKilnArray(decodeTensor({ name: 'j', dataType: T.INT64, dims: [2], int64Data: [3, -4] })).data).toEqual(Int32Array.from([3, -4]));
  });

  it('a raw_data length that does not match the dims, and corrupt .pb bytes, are KilnErrors', () => {
    expect(() => decodeTensor({ name: 'a', dataType: T.FLOAT, dims: [4], rawData: new Uint8Array(8) })).toThrow(KilnError);
    expect(() => decodeTensorBytes(new Uint8Array([0x0a, 0xff]))).toThrow(KilnError);
    expect(() => decodeTensor({ name: 'h', dataType: T.FLOAT16, dims: [1], rawData: new Uint8Array(2) })).toThrow(/FLOAT16/);
  });
});
