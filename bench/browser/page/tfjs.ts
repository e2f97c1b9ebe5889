// TensorFlow.js 4.22 in the benchmark page on its WebGPU, WebGL or WebAssembly backend
// (`?variant=webgpu|webgl|wasm`): the same models, weights and Adam as bench/engines/tfjs.mjs.
// @ts-ignore -- a peer, in bench/node_modules after `npm run bench:setup`: without it this page cannot be built, and the file still type-checks
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
// @ts-ignore -- as above
import { setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { load, loadF32, main, sample, variant, type Impl, type Workload } from './harness.ts';

const t = async (key: string) => { const { data, shape } = await load(key); return tf.tensor(data, shape); };
/** Kiln flattens NCHW (rows c·169 + h·13 + w); TensorFlow.js flattens NHWC: permute the rows. */
async function nhwcRows(key: string) {
  const { data, shape } = await load(key);
  const [rows, cols] = shape, C = 32, HW = rows / C;
  const out = new Float32Array(data.length);
  for (let c = 0; c < C; c++) for (let p = 0; p < HW; p++) out.set(data.subarray((c * HW + p) * cols, (c * HW + p + 1) * cols), (p * C + c) * cols);
  return tf.tensor(out, shape);
}
/** Kiln's conv kernel is OIHW; TensorFlow.js wants HWIO. */
const hwio = async (key: string) => { const k = await t(key); const r = tf.transpose(k, [2, 3, 1, 0]); k.dispose(); return r; };

async function params(model: string) {
  const ts = model === 'mlp'
    ? await Promise.all(['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'].map(t))
    : [await hwio('cnn.wc'), await t('cnn.bc'), await nhwcRows('cnn.w1'), await t('cnn.b1'), await t('cnn.w2'), await t('cnn.b2')];
  return ts.map((v: tf.Tensor) => tf.variable(v));
}
function logits(model: string, p: tf.Variable[], x: tf.Tensor): tf.Tensor2D {
  if (model === 'mlp') return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, p[0] as tf.Tensor2D), p[1])) as tf.Tensor2D, p[2] as tf.Tensor2D), p[3]);
  let h: tf.Tensor = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, p[0] as tf.Tensor4D, 1, 'valid'), p[1]));
  h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
  h = tf.reshape(h, [x.shape[0], -1]);
  h = tf.relu(tf.add(tf.matMul(h as tf.Tensor2D, p[2] as tf.Tensor2D), p[3]));
  return tf.add(tf.matMul(h as tf.Tensor2D, p[4] as tf.Tensor2D), p[5]);
}
/** Reads a tensor back (asynchronously: WebGPU has no cheap synchronous readback) and frees it. */
async function read(o: tf.Tensor): Promise<Float32Array> { const d = (await o.data()) as Float32Array; o.dispose(); return d; }

// Every call takes its inputs from JavaScript arrays, as Kiln's and onnxruntime-web's do (a model
// fed new data): tensors made inside the call go up to the device then, and are freed after it.
async function setup(w: Workload): Promise<Impl | string> {
  if (w.kind === 'matmul') {
    const a = await load(`mmA${w.n}`), b = await load(`mmB${w.n}`);
    const f = () => read(tf.tidy(() => tf.matMul(tf.tensor2d(a.data as Float32Array, a.shape as [number, number]), tf.tensor2d(b.data as Float32Array, b.shape as [number, number]))));
    return { check: async () => sample(await f()), run: f };
  }
  const model = w.model!;
  const p = await params(model);
  const shape = model === 'mlp' ? [w.batch, 784] : [w.batch, 28, 28, 1];
  const xs = (await loadF32('x')).subarray(0, w.batch * 784);
  const free = () => p.forEach((v: tf.Variable) => v.dispose());
  if (w.kind === 'infer') {
    const f = () => read(tf.tidy(() => tf.softmax(logits(model, p, tf.tensor(xs, shape)))));
    return { check: async () => sample(await f()), run: f, dispose: free };
  }
  const labels = ((await load('y')).data as Int32Array).subarray(0, w.batch);
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const loss = () => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), logits(model, p, tf.tensor(xs, shape))) as tf.Scalar;
  const step = async () => (await read(opt.minimize(loss, true, p)!))[0];
  return { check: async () => [await step(), await step(), await step()], run: step, dispose: () => { free(); opt.dispose(); } };
}

void main({
  async init() {
    if (variant === 'wasm') {
      setWasmPaths('wasm/tfjs/');
      setThreadsCount(1); // Kiln runs on one thread in the page: so does every peer that can say so
    }
    if (!(await tf.setBackend(variant))) throw new Error(`TensorFlow.js could not start its ${variant} backend`);
    await tf.ready();
  },
  setup,
  info: () => ({ name: `tfjs-${variant}`, version: tf.version_core, backend: tf.getBackend() }),
});
