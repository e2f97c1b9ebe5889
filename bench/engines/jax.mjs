// @jax-js/jax on its WebAssembly device (single-threaded in Node), every function under jit().
// Adam is written out (jax-js's optimizers live in another package); the CNN runs NCHW/OIHW like Kiln.
import { init, defaultDevice, jit, valueAndGrad, lax, nn, numpy as np } from '@jax-js/jax';
import { load, main, sample, version as pkgVersion } from './common.mjs';

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
  if (w.model === 'lstm' || w.model === 'transformer') return 'not written yet: jax-js could express it (matmul, sigmoid, tanh, softmax, var_), but every use of an array consumes it (explicit .ref), and a 50-step LSTM and an attention block with Adam need that bookkeeping done and checked';
  const keys = w.model === 'mlp' ? ['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'] : ['cnn.wc', 'cnn.bc', 'cnn.w1', 'cnn.b1', 'cnn.w2', 'cnn.b2'];
  let p = keys.map(arr);
  const shape = w.model === 'mlp' ? [w.batch, 784] : [w.batch, 1, 28, 28];
  const x = np.array(xAll.slice(0, w.batch * 784)).reshape(shape);
  if (w.kind === 'infer') {
    const f = jit((p, x) => nn.softmax(logits(w.model, p, x), -1));
    const call = () => read(f(p.map((a) => a.ref), x.ref));
    return { check: () => sample(call()), run: () => call()[0] };
  }
  const y = nn.oneHot(np.array(yAll.slice(0, w.batch), { dtype: np.int32 }), 10);
  const b1 = 0.9, b2 = 0.999, lr = 1e-3, eps = 1e-8;
  const vg = valueAndGrad(lossFn(w.model));
  // Adam as PyTorch writes it: w −= lr/(1−β1ᵗ) · m / (√(v/(1−β2ᵗ)) + ε); the corrections come in as scalars.
  const step = jit((p, m, v, c1, c2, x, y) => {
    const [loss, g] = vg(p.map((a) => a.ref), x, y);
    const m2 = m.map((mi, i) => mi.mul(b1).add(g[i].ref.mul(1 - b1)));
    const v2 = v.map((vi, i) => vi.mul(b2).add(g[i].ref.mul(g[i].ref).mul(1 - b2)));
    g.forEach((gi) => gi.dispose());
    const p2 = p.map((pi, i) => pi.sub(m2[i].ref.mul(c1.ref).div(np.sqrt(v2[i].ref.mul(c2.ref)).add(eps))));
    c1.dispose(); c2.dispose();
    return [loss, p2, m2, v2];
  });
  let m = p.map((a) => np.zerosLike(a.ref));
  let v = p.map((a) => np.zerosLike(a.ref));
  let t = 0;
  const train = () => {
    t++;
    const [loss, p2, m2, v2] = step(p, m, v, np.array(lr / (1 - b1 ** t)), np.array(1 / (1 - b2 ** t)), x.ref, y.ref);
    p = p2; m = m2; v = v2;
    return read(loss)[0];
  };
  return { check: () => [train(), train(), train()], run: train };
});
