// @jax-js/jax's versions of the sequence workloads (bench/models/lstm-and-transformer.ts), with
// Kiln's weights, each whole forward pass (and training step) under one jit(). jax-js 0.1.25 has
// no lax.scan or fori_loop, so the LSTM's 50 steps are a JavaScript loop that jit traces and
// unrolls into one program (as jax.jit does a Python loop); the input projection of all steps is
// one product before the loop. The encoder block is PyTorch's post-norm TransformerEncoderLayer in
// jax-js ops, as tfjs-sequence.mjs writes it. jax-js arrays are reference-counted: every use but
// the last of an array takes `.ref` (README "Reference counting").
import { jit, nn, numpy as np, valueAndGrad } from '@jax-js/jax';
import { load, sample, spec } from './common.mjs';

const HEADS = 4;
const EPSILON = 1e-5;

const arr = (key) => { const { data, shape } = load(key); return np.array(data).reshape(shape); };

/** LSTM (Keras gate order i, f, c, o; zero initial state) → dense logits. p: kernel [F, 4U], recurrent [U, 4U], bias [4U], dense W, b. */
function lstmLogits(p, x) {
  const [w, u, b, wd, bd] = p;
  const [batch, steps, features] = x.shape;
  const units = u.shape[0];
  const xw = np.matmul(x.reshape([batch * steps, features]), w).add(b).reshape([batch, steps, 4 * units]);
  let h = np.zeros([batch, units]);
  let c = np.zeros([batch, units]);
  for (let t = 0; t < steps; t++) {
    const [zi, zf, zg, zo] = np.split(xw.ref.slice([], t).add(np.matmul(h, u.ref)), 4, -1);
    c = nn.sigmoid(zf).mul(c).add(nn.sigmoid(zi).mul(np.tanh(zg)));
    h = nn.sigmoid(zo).mul(np.tanh(c.ref));
  }
  xw.dispose();
  u.dispose();
  c.dispose();
  return np.matmul(h, wd).add(bd);
}

/** Layer norm over the last axis: (x − μ) / √(σ² + ε) · γ + β. */
function layerNorm(x, gamma, beta) {
  const mean = np.mean(x.ref, -1, { keepdims: true });
  const d = x.sub(mean);
  const variance = np.mean(d.ref.mul(d.ref), -1, { keepdims: true });
  return d.div(np.sqrt(variance.add(EPSILON))).mul(gamma).add(beta);
}

/** x [B, L, D] → the block's output; p in Kiln's order: q, k, v, o (kernel, bias), norm 1, ffn1, ffn2, norm 2. */
function encoderBlock(p, x) {
  const [wq, bq, wk, bk, wv, bv, wo, bo, g1, b1, w1, c1, w2, c2, g2, b2] = p;
  const [batch, tokens, width] = x.shape;
  const d = width / HEADS;
  const rows = x.reshape([batch * tokens, width]);
  const heads = (w, b) => np.matmul(rows.ref, w).add(b).reshape([batch, tokens, HEADS, d]).transpose([0, 2, 1, 3]);
  const [q, k, v] = [heads(wq, bq), heads(wk, bk), heads(wv, bv)];
  const weights = nn.softmax(np.matmul(q, k.transpose([0, 1, 3, 2])).mul(1 / Math.sqrt(d)), -1);
  const context = np.matmul(weights, v).transpose([0, 2, 1, 3]).reshape([batch * tokens, width]);
  const h = layerNorm(rows.add(np.matmul(context, wo).add(bo)), g1, b1);
  const ff = np.matmul(nn.relu(np.matmul(h.ref, w1).add(c1)), w2).add(c2);
  return layerNorm(h.add(ff), g2, b2).reshape([batch, tokens, width]);
}

const forwardOf = (model) => (model === 'lstm' ? lstmLogits : encoderBlock);

/** The losses of bench/engines/tfjs-sequence.mjs: mean cross-entropy from logits (LSTM), mean squared error (block). */
function lossOf(model) {
  if (model === 'lstm') return (p, x, y) => np.mean(np.sum(y.mul(nn.logSoftmax(lstmLogits(p, x), -1)), -1)).neg();
  return (p, x, y) => {
    const e = encoderBlock(p, x).sub(y);
    return np.mean(e.ref.mul(e));
  };
}

/**
 * A jitted Adam step as PyTorch writes it (w −= lr/(1−β1ᵗ) · m / (√(v/(1−β2ᵗ)) + ε); the
 * corrections come in as scalars), over `p`; returns `train()`, which steps and reads the loss back.
 */
export function adamTrainer(loss, p, x, y) {
  const b1 = 0.9, b2 = 0.999, lr = 1e-3, eps = 1e-8;
  const vg = valueAndGrad(loss);
  const step = jit((p, m, v, c1, c2, x, y) => {
    const [l, g] = vg(p.map((a) => a.ref), x, y);
    const m2 = m.map((mi, i) => mi.mul(b1).add(g[i].ref.mul(1 - b1)));
    const v2 = v.map((vi, i) => vi.mul(b2).add(g[i].ref.mul(g[i].ref).mul(1 - b2)));
    g.forEach((gi) => gi.dispose());
    const p2 = p.map((pi, i) => pi.sub(m2[i].ref.mul(c1.ref).div(np.sqrt(v2[i].ref.mul(c2.ref)).add(eps))));
    c1.dispose(); c2.dispose();
    return [l, p2, m2, v2];
  });
  let m = p.map((a) => np.zerosLike(a.ref));
  let v = p.map((a) => np.zerosLike(a.ref));
  let t = 0;
  return () => {
    t++;
    const [l, p2, m2, v2] = step(p, m, v, np.array(lr / (1 - b1 ** t)), np.array(1 / (1 - b2 ** t)), x.ref, y.ref);
    p = p2; m = m2; v = v2;
    return l.dataSync()[0];
  };
}

/** The workload for `w` (model lstm or transformer): check() and run() read their results back. */
export function sequenceWorkload(w) {
  const p = spec.paramKeys[w.model].map(arr);
  const x = arr(`${w.model}.x`);
  if (w.kind === 'infer') {
    const f = jit((p, x) => forwardOf(w.model)(p, x));
    const call = () => f(p.map((a) => a.ref), x.ref).dataSync();
    return { check: () => sample(call()), run: () => call()[0] };
  }
  const t = load(`${w.model}.y`);
  const y = w.model === 'lstm' ? nn.oneHot(np.array(t.data, { dtype: np.int32 }), 10) : np.array(t.data).reshape(t.shape);
  const train = adamTrainer(lossOf(w.model), p, x, y);
  return { check: () => [train(), train(), train()], run: train };
}
