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
    expect(() => decodeTensor({ name: 'h', dataType: T.COMPLEX64, dims: [1], rawData: new Uint8Array(8) })).toThrow(/COMPLEX64/);
  });

  it('widens 8/16-bit integers to int32, narrows UINT32/UINT64 like INT64, and widens FLOAT16/BFLOAT16 to float32', () => {
    const i8 = decodeTensor({ name: 'a', dataType: T.INT8, dims: [3], rawData: new Uint8Array([0x7f, 0x80, 0xff]) });
    expect(toKilnArray(i8)).toEqual({ dtype: 'int32', data: Int32Array.from([127, -128, -1]) });
    const u16 = decodeTensor({ name: 'b', dataType: T.UINT16, dims: [2], rawData: new Uint8Array([0xff, 0xff, 0x01, 0x00]) });
    expect(Array.from(u16.data)).toEqual([65535, 1]);
    const i16 = decodeTensor({ name: 'c', dataType: T.INT16, dims: [2], int32Data: [-300, 300] });
    expect(Array.from(i16.data)).toEqual([-300, 300]);
    const u64 = decodeTensor({ name: 'd', dataType: T.UINT64, dims: [2], uint64Data: [5, 2 ** 33] });
    expect(() => toKilnArray(u64)).toThrow(/does not fit in int32/);
    // FLOAT16 1.0 = 0x3c00, -2.5 = 0xc100, the smallest subnormal 0x0001, +inf 0x7c00.
    const h = decodeTensor({ name: 'h', dataType: T.FLOAT16, dims: [4], rawData: new Uint8Array([0x00, 0x3c, 0x00, 0xc1, 0x01, 0x00, 0x00, 0x7c]) });
    expect(toKilnArray(h).dtype).toBe('float32');
    expect(Array.from(h.data)).toEqual([1, -2.5, 2 ** -24, Infinity]);
    const bf = decodeTensor({ name: 'bf', dataType: T.BFLOAT16, dims: [2], int32Data: [0x3fc0, 0xc000] });
    expect(Array.from(bf.data)).toEqual([1.5, -2]);
  });

  it('unpacks INT4/UINT2 (low bits first) and decodes the FLOAT8 and FLOAT4 formats', () => {
    // INT4 [7, -8, -1]: nibbles 0x7, 0x8, 0xf → bytes 0x87, 0x0f.
    const i4 = decodeTensor({ name: 'a', dataType: 22 /* INT4 */, dims: [3], rawData: new Uint8Array([0x87, 0x0f]) });
    expect(toKilnArray(i4)).toEqual({ dtype: 'int32', data: Int32Array.from([7, -8, -1]) });
    const u2 = decodeTensor({ name: 'b', dataType: 25 /* UINT2 */, dims: [5], rawData: new Uint8Array([0b11100100, 0b10]) });
    expect(Array.from(u2.data)).toEqual([0, 1, 2, 3, 2]);
    // E4M3FN: 0x38 = 1, 0x7e = 448 (the largest), 0x7f = NaN, 0x01 = 2^-9; E5M2 0x7c = +inf.
    const f8 = decodeTensor({ name: 'c', dataType: 17 /* FLOAT8E4M3FN */, dims: [4], rawData: new Uint8Array([0x38, 0x7e, 0x7f, 0x01]) });
    expect(Array.from(f8.data)).toEqual([1, 448, NaN, 2 ** -9]);
    expect(Array.from(decodeTensor({ name: 'd', dataType: 19 /* FLOAT8E5M2 */, dims: [1], rawData: new Uint8Array([0x7c]) }).data)).toEqual([Infinity]);
    // E4M3FNUZ: 0x80 is NaN (no negative zero). FLOAT4E2M1: 0x7 = 6, 0xa = -1.
    expect(Array.from(decodeTensor({ name: 'e', dataType: 18 /* FLOAT8E4M3FNUZ */, dims: [1], rawData: new Uint8Array([0x80]) }).data)).toEqual([NaN]);
    expect(Array.from(decodeTensor({ name: 'f', dataType: 23 /* FLOAT4E2M1 */, dims: [2], rawData: new Uint8Array([0xa7]) }).data)).toEqual([6, -1]);
  });

  it('a Cast to FLOAT16 rounds to nearest even (overflow to ∞), and is the identity from a type it holds exactly', () => {
    const cast = (from: number, to: number) =>
      importOnnx(
        onnx.ModelProto.encode(
          onnx.ModelProto.create({
            opsetImport: [{ version: 21 }],
            graph: { input: [vi('x', [6], from)], output: [vi('y', [6], to)], node: [{ opType: 'Cast', input: ['x'], output: ['y'], attribute: [{ name: 'to', type: A.INT, i: to }] }] },
          }),
        ).finish(),
      );
    const g = cast(T.FLOAT, T.FLOAT16);
    const x = Float32Array.from([1 + 2 ** -12, 65519, 65520, 2 ** -25, 3 * 2 ** -25, -2.5]);
    expect(Array.from(interpret(g, { x }, {}, 1).y as Float32Array)).toEqual([1, 65504, Infinity, 0, 2 ** -23, -2.5]);
    expect(cast(22 /* INT4 */, T.FLOAT16).outputs[0].node.op).toBe('cast');
    expect(() => cast(T.INT32, T.FLOAT16)).toThrow(/cast to FLOAT16 is not supported/);
  });
});

describe('loss, GatherElements and recurrent ops', () => {
  const model = (opset: number, inputs: object[], outputs: object[], nodes: object[], initializer: object[] = []) =>
    importOnnx(onnx.ModelProto.encode(onnx.ModelProto.create({ opsetImport: [{ version: opset }], graph: { input: inputs, output: outputs, node: nodes, initializer } })).finish());

  it('NegativeLogLikelihoodLoss with weights and ignore_index (mean) on [N, C, d]', () => {
    const g = model(
      13,
      [vi('x', [2, 3, 2]), vi('t', [2, 2], T.INT64), vi('w', [3])],
      [vi('y', [])],
      [{ opType: 'NegativeLogLikelihoodLoss', input: ['x', 't', 'w'], output: ['y'], attribute: [{ name: 'ignore_index', type: A.INT, i: -1 }] }],
    );
    const x = Float32Array.from({ length: 12 }, (_, i) => i - 6);
    const t = Int32Array.from([2, -1, 0, 1]);
    const w = Float32Array.from([0.5, 1, 2]);
    const y = interpret(g, { x, t, w }, {}, 1).y as Float32Array;
    // x[n, c, d] = (n*6 + c*2 + d) - 6; picks (0,2,0) = -2 with w 2, (1,0,0) = 0 with w 0.5, (1,1,1) = 3 with w 1.
    const expected = -(-2 * 2 + 0 * 0.5 + 3 * 1) / (2 + 0.5 + 1);
    expect(y[0]).toBeCloseTo(expected, 5);
  });

  it('SoftmaxCrossEntropyLoss gives the loss per element (none) and the log-probabilities', () => {
    const g = model(
      13,
      [vi('x', [2, 3]), vi('t', [2], T.INT64)],
      [vi('y', [2]), vi('lp', [2, 3])],
      [{ opType: 'SoftmaxCrossEntropyLoss', input: ['x', 't'], output: ['y', 'lp'], attribute: [{ name: 'reduction', type: A.STRING, s: new TextEncoder().encode('none') }] }],
    );
    const x = Float32Array.from([1, 2, 3, 0, 0, 1]);
    const out = interpret(g, { x, t: Int32Array.from([0, 2]) }, {}, 1);
    const lse = (a: number[]) => Math.log(a.reduce((s, v) => s + Math.exp(v), 0));
    const y = Array.from(out.y as Float32Array);
    expect(y[0]).toBeCloseTo(lse([1, 2, 3]) - 1, 5);
    expect(y[1]).toBeCloseTo(lse([0, 0, 1]) - 1, 5);
    expect((out.lp as Float32Array)[2]).toBeCloseTo(3 - lse([1, 2, 3]), 5);
  });

  it('GatherElements picks along an axis, negative indices counting from the end', () => {
    const g = model(
      13,
      [vi('x', [2, 3]), vi('i', [2, 2], T.INT64)],
      [vi('y', [2, 2])],
      [{ opType: 'GatherElements', input: ['x', 'i'], output: ['y'], attribute: [{ name: 'axis', type: A.INT, i: 1 }] }],
    );
    const y = interpret(g, { x: Float32Array.from([1, 2, 3, 4, 5, 6]), i: Int32Array.from([0, -1, 1, 0]) }, {}, 1).y as Float32Array;
    expect(Array.from(y)).toEqual([1, 3, 5, 4]);
  });

  it('MaxPool gives the Indices output as flat input positions, row- or column-major (storage_order)', () => {
    const pool = (storageOrder: number) =>
      model(
        13,
        [vi('x', [1, 1, 2, 4])],
        [vi('y', [1, 1, 1, 2]), vi('i', [1, 1, 1, 2], T.INT64)],
        [
          {
            opType: 'MaxPool',
            input: ['x'],
            output: ['y', 'i'],
            attribute: [
              { name: 'kernel_shape', type: A.INTS, ints: [2, 2] },
              { name: 'strides', type: A.INTS, ints: [2, 2] },
              { name: 'storage_order', type: A.INT, i: storageOrder },
            ],
          },
        ],
      );
    const x = Float32Array.from([1, 9, 3, 2, 5, 0, 4, 8]);
    const rowMajor = interpret(pool(0), { x }, {}, 1);
    expect(Array.from(rowMajor.y as Float32Array)).toEqual([9, 8]);
    expect(Array.from(rowMajor.i as Int32Array)).toEqual([1, 7]);
    // Column-major: (h, w) → w·H + h.
    expect(Array.from(interpret(pool(1), { x }, {}, 1).i as Int32Array)).toEqual([2, 7]);
  });

  it('RNN unrolls the time loop: h_t = tanh(x_t W^T + h_{t-1} R^T + Wb + Rb)', () => {
    const W = { name: 'W', dataType: T.FLOAT, dims: [1, 1, 1], floatData: [0.5] };
    const R = { name: 'R', dataType: T.FLOAT, dims: [1, 1, 1], floatData: [-0.25] };
    const B = { name: 'B', dataType: T.FLOAT, dims: [1, 2], floatData: [0.1, 0.2] };
    const g = model(
      14,
      [vi('x', [3, 1, 1])],
      [vi('y', [3, 1, 1, 1]), vi('h', [1, 1, 1])],
      [{ opType: 'RNN', input: ['x', 'W', 'R', 'B'], output: ['y', 'h'], attribute: [{ name: 'hidden_size', type: A.INT, i: 1 }] }],
      [W, R, B],
    );
    const xs = [1, -2, 0.5];
    const out = interpret(g, { x: Float32Array.from(xs) }, {}, 1);
    let h = 0;
    const want = xs.map((x) => (h = Math.tanh(0.5 * x - 0.25 * h + 0.3)));
    Array.from(out.y as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect((out.h as Float32Array)[0]).toBeCloseTo(want[2], 5);
  });
});
