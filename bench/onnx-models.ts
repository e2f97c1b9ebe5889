// Hand-built ONNX files for the onnxruntime peer, independent of Kiln's exporter (only the protobuf
// encoding is Kiln's: src/onnx/proto.ts). Same weights and layouts as Kiln's modules.
import { onnx } from '../src/onnx/proto.ts';

type Dim = number | string;
const FLOAT = 1;
const INT64 = 7;

const valueInfo = (name: string, dims: Dim[]) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
});
const tensor = (name: string, dims: number[], data: Float32Array) => ({
  name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});
const int64Tensor = (name: string, values: number[]) => ({ name, dims: [values.length], dataType: INT64, int64Data: values });
const ints = (name: string, values: number[]) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
const int = (name: string, value: number) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });

function encode(name: string, graph: Record<string, unknown>): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8, producerName: 'kiln-bench', opsetImport: [{ domain: '', version: 13 }],
    graph: onnx.GraphProto.create({ name, ...graph }),
  });
  return onnx.ModelProto.encode(model).finish();
}

/** C = A·B, both inputs n × n. */
export function matmulOnnx(n: number): Uint8Array {
  return encode(`mm${n}`, {
    node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'] }],
    input: [valueInfo('a', [n, n]), valueInfo('b', [n, n])],
    output: [valueInfo('c', [n, n])],
  });
}

/** Dense 784→256 ReLU → Dense 256→10 softmax; kernels [in, out]. */
export function mlpOnnx(w: Record<string, Float32Array>): Uint8Array {
  return encode('mlp', {
    node: [
      { opType: 'MatMul', input: ['x', 'w1'], output: ['h0'] }, { opType: 'Add', input: ['h0', 'b1'], output: ['h1'] },
      { opType: 'Relu', input: ['h1'], output: ['h2'] },
      { opType: 'MatMul', input: ['h2', 'w2'], output: ['z0'] }, { opType: 'Add', input: ['z0', 'b2'], output: ['z'] },
      { opType: 'Softmax', input: ['z'], output: ['y'], attribute: [int('axis', -1)] },
    ],
    initializer: [tensor('w1', [784, 256], w['mlp.w1']), tensor('b1', [256], w['mlp.b1']), tensor('w2', [256, 10], w['mlp.w2']), tensor('b2', [10], w['mlp.b2'])],
    input: [valueInfo('x', ['N', 784])],
    output: [valueInfo('y', ['N', 10])],
  });
}

/** The CNN on NHWC input: transposed to NCHW, conv OIHW, pooled, flattened NCHW like Kiln. */
export function cnnOnnx(w: Record<string, Float32Array>): Uint8Array {
  return encode('cnn', {
    node: [
      { opType: 'Transpose', input: ['x'], output: ['xt'], attribute: [ints('perm', [0, 3, 1, 2])] },
      { opType: 'Conv', input: ['xt', 'wc', 'bc'], output: ['c0'], attribute: [ints('kernel_shape', [3, 3])] },
      { opType: 'Relu', input: ['c0'], output: ['c1'] },
      { opType: 'MaxPool', input: ['c1'], output: ['p'], attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])] },
      { opType: 'Reshape', input: ['p', 'flat'], output: ['f'] },
      { opType: 'MatMul', input: ['f', 'w1'], output: ['h0'] }, { opType: 'Add', input: ['h0', 'b1'], output: ['h1'] },
      { opType: 'Relu', input: ['h1'], output: ['h2'] },
      { opType: 'MatMul', input: ['h2', 'w2'], output: ['z0'] }, { opType: 'Add', input: ['z0', 'b2'], output: ['z'] },
      { opType: 'Softmax', input: ['z'], output: ['y'], attribute: [int('axis', -1)] },
    ],
    initializer: [
      tensor('wc', [32, 1, 3, 3], w['cnn.wc']), tensor('bc', [32], w['cnn.bc']), int64Tensor('flat', [-1, 5408]),
      tensor('w1', [5408, 128], w['cnn.w1']), tensor('b1', [128], w['cnn.b1']), tensor('w2', [128, 10], w['cnn.w2']), tensor('b2', [10], w['cnn.b2']),
    ],
    input: [valueInfo('x', ['N', 28, 28, 1])],
    output: [valueInfo('y', ['N', 10])],
  });
}
