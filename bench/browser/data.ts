// The browser benchmark's shared data: seeded Glorot-uniform weights and inputs (the generator,
// seed and draw order of bench/run.ts, so the values are the Node benchmark's), written as raw
// float32/int32 files under the served folder, and the onnxruntime peer's ONNX files built from them.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { cnnOnnx, matmulOnnx, mlpOnnx } from '../onnx-models.ts';

export interface TensorSpec { dtype: 'float32' | 'int32'; shape: number[] }
export interface SharedData {
  tensors: Record<string, TensorSpec>;
  /** Each model's parameter tensors in Kiln's weight-file order. */
  paramKeys: Record<string, string[]>;
  /** Float tensors by key, in the driver's memory too (Kiln's weights at compile time). */
  floats: Record<string, Float32Array>;
}

/** mulberry32: a small seeded generator, bench/run.ts's. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes the tensors for matmul sizes `sizes` into `<site>/data/`; returns their descriptions. */
export function writeSharedData(site: string, sizes: readonly number[]): SharedData {
  const dir = path.join(site, 'data');
  mkdirSync(dir, { recursive: true });
  const rand = mulberry32(20261123);
  const out: SharedData = { tensors: {}, floats: {}, paramKeys: { mlp: ['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'], cnn: ['cnn.wc', 'cnn.bc', 'cnn.w1', 'cnn.b1', 'cnn.w2', 'cnn.b2'] } };
  const put = (key: string, shape: number[], fill: () => number, dtype: TensorSpec['dtype'] = 'float32') => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = fill();
    writeFileAtomicSync(path.join(dir, `${key}.bin`), new Uint8Array(data.buffer));
    out.tensors[key] = { dtype, shape };
    if (data instanceof Float32Array) out.floats[key] = data;
  };
  const uniform = (limit: number) => () => (2 * rand() - 1) * limit;
  const glorot = (key: string, shape: number[], fanIn: number, fanOut: number) => put(key, shape, uniform(Math.sqrt(6 / (fanIn + fanOut))));
  // Kiln's layouts: dense kernels [in, out]; conv kernels OIHW; the CNN flattens NCHW.
  glorot('mlp.w1', [784, 256], 784, 256); put('mlp.b1', [256], uniform(0.1));
  glorot('mlp.w2', [256, 10], 256, 10); put('mlp.b2', [10], uniform(0.1));
  glorot('cnn.wc', [32, 1, 3, 3], 9, 9 * 32); put('cnn.bc', [32], uniform(0.1));
  glorot('cnn.w1', [5408, 128], 5408, 128); put('cnn.b1', [128], uniform(0.1));
  glorot('cnn.w2', [128, 10], 128, 10); put('cnn.b2', [10], uniform(0.1));
  put('x', [1024, 784], () => rand());
  put('y', [64], () => Math.floor(rand() * 10), 'int32');
  for (const n of sizes) { put(`mmA${n}`, [n, n], uniform(1)); put(`mmB${n}`, [n, n], uniform(1)); }
  writeFileAtomicSync(path.join(dir, 'mlp.onnx'), mlpOnnx(out.floats));
  writeFileAtomicSync(path.join(dir, 'cnn.onnx'), cnnOnnx(out.floats));
  for (const n of sizes) writeFileAtomicSync(path.join(dir, `mm${n}.onnx`), matmulOnnx(n));
  return out;
}
