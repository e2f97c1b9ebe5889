// TensorFlow.js with the CPU backend (node engines/tfjs.mjs spec cpu) or the WebAssembly backend (… wasm).
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// The union package's bundle registers the gradient functions (tfjs-core's Node bundle has none).
import '@tensorflow/tfjs';
import { load, main, sample } from './common.mjs';
import { sequenceWorkload } from './tfjs-sequence.mjs';

const backend = process.argv[3];
if (backend === 'wasm') {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
} else {
  await import('@tensorflow/tfjs-backend-cpu');
}
await tf.setBackend(backend);
await tf.ready();

const t = (key) => { const { data, shape } = load(key); return tf.tensor(data, shape); };
/** Kiln flattens NCHW (rows c·169 + h·13 + w); TensorFlow.js flattens NHWC: permute the rows. */
function nhwcRows(key) {
  const { data, shape } = load(key);
  const [rows, cols] = shape, C = 32, HW = rows / C;
  const out = new Float32Array(data.length);
  for (let c = 0; c < C; c++) for (let p = 0; p < HW; p++) out.set(data.subarray((c * HW + p) * cols, (c * HW + p + 1) * cols), (p * C + c) * cols);
  return tf.tensor(out, shape);
}
/** Kiln's conv kernel is OIHW; TensorFlow.js wants HWIO. */
const hwio = (key) => tf.tidy(() => tf.transpose(t(key), [2, 3, 1, 0]));

function params(model) {
  if (model === 'mlp') return ['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'].map((k) => tf.variable(t(k)));
  return [hwio('cnn.wc'), t('cnn.bc'), nhwcRows('cnn.w1'), t('cnn.b1'), t('cnn.w2'), t('cnn.b2')].map((v) => tf.variable(v));
}
function logits(model, p, x) {
  if (model === 'mlp') return tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, p[0]), p[1])), p[2]), p[3]);
  let h = tf.relu(tf.add(tf.conv2d(x, p[0], 1, 'valid'), p[1]));
  h = tf.maxPool(h, 2, 2, 'valid');
  h = tf.reshape(h, [x.shape[0], -1]);
  h = tf.relu(tf.add(tf.matMul(h, p[2]), p[3]));
  return tf.add(tf.matMul(h, p[4]), p[5]);
}

const xAll = load('x').data;
const yAll = load('y').data;
await main({ name: `tfjs-${backend}`, version: tf.version_core }, async (w) => {
  if (w.kind === 'matmul') {
    const a = t(`mmA${w.n}`), b = t(`mmB${w.n}`);
    const f = () => { const c = tf.matMul(a, b); const d = c.dataSync(); c.dispose(); return d; };
    return { check: () => sample(f()), run: () => f()[0] };
  }
  if (w.model === 'lstm' || w.model === 'transformer') return sequenceWorkload(tf, w);
  const p = params(w.model);
  const shape = w.model === 'mlp' ? [w.batch, 784] : [w.batch, 28, 28, 1];
  const x = tf.tensor(xAll.subarray(0, w.batch * 784), shape);
  if (w.kind === 'infer') {
    const f = () => { const o = tf.tidy(() => tf.softmax(logits(w.model, p, x))); const d = o.dataSync(); o.dispose(); return d; };
    return { check: () => sample(f()), run: () => f()[0] };
  }
  const onehot = tf.oneHot(tf.tensor1d(yAll.subarray(0, w.batch), 'int32'), 10);
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const step = () => {
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(onehot, logits(w.model, p, x)), true, p);
    const v = loss.dataSync()[0];
    loss.dispose();
    return v;
  };
  return { check: () => [step(), step(), step()], run: step };
});
