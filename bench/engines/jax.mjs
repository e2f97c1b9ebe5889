// @jax-js/jax on its WebAssembly device (single-threaded in Node), every function under jit().
// Adam is written out (jax-js's optimizers live in another package; jax-sequence.mjs's adamTrainer);
// the CNN runs NCHW/OIHW like Kiln; the LSTM and Transformer block are in jax-sequence.mjs.
import { init, defaultDevice, jit, lax, nn, numpy as np } from '@jax-js/jax';
import { load, main, sample, version as pkgVersion } from './common.mjs';
import { adamTrainer, sequenceWorkload } from './jax-sequence.mjs';

const version = pkgVersion('@jax-js/jax');

await init('wasm');
defaultDevice('wasm');

const arr = (key) => { const { data, shape } = load(key); return np.array(data).reshape(shape); };
/** Reads an array back (consuming it). */
const read = (a) => a.dataSync();

function logits(model, p, x) {
  if (model === 'mlp') {
    const [w1, b1, w2, b2] = p;
    return np.matmul(nn.relu(np.matmul(x, w1).add(b1)), w2).add(b2);
  }
  const [wc, bc, w1, b1, w2, b2] = p;
  const batch = x.shape[0];
  let h = nn.relu(lax.conv(x, wc, [1, 1], 'VALID').add(bc.reshape([1, 32, 1, 1])));
  h = np.max(h.reshape([batch, 32, 13, 2, 13, 2]), [3, 5]);
  h = nn.relu(np.matmul(h.reshape([batch, 5408]), w1).add(b1));
  return np.matmul(h, w2).add(b2);
}
const lossFn = (model) => (p, x, y) => np.mean(np.sum(y.mul(nn.logSoftmax(logits(model, p, x), -1)), -1)).neg();

const xAll = load('x').data;
const yAll = load('y').data;
await main({ name: 'jax', version }, async (w) => {
  if (w.kind === 'matmul') {
    const a = arr(`mmA${w.n}`), b = arr(`mmB${w.n}`);
    const f = jit((a, b) => np.matmul(a, b));
    const call = () => read(f(a.ref, b.ref));
    return { check: () => sample(call()), run: () => call()[0] };
  }
  if (w.model === 'lstm' || w.model === 'transformer') return sequenceWorkload(w);
  const keys = w.model === 'mlp' ? ['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'] : ['cnn.wc', 'cnn.bc', 'cnn.w1', 'cnn.b1', 'cnn.w2', 'cnn.b2'];
  const p = keys.map(arr);
  const shape = w.model === 'mlp' ? [w.batch, 784] : [w.batch, 1, 28, 28];
  const x = np.array(xAll.slice(0, w.batch * 784)).reshape(shape);
  if (w.kind === 'infer') {
    const f = jit((p, x) => nn.softmax(logits(w.model, p, x), -1));
    const call = () => read(f(p.map((a) => a.ref), x.ref));
    return { check: () => sample(call()), run: () => call()[0] };
  }
  const y = nn.oneHot(np.array(yAll.slice(0, w.batch), { dtype: np.int32 }), 10);
  const train = adamTrainer(lossFn(w.model), p, x, y);
  return { check: () => [train(), train(), train()], run: train };
});
