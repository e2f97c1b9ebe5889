// TensorFlow.js's versions of the sequence workloads (bench/models/lstm-and-transformer.ts), with
// Kiln's weights: the LSTM is tfjs-layers' own LSTM layer (Keras's gate order i, f, c, o and
// [in, 4·units] kernels, as Kiln's default, so the weights go in unchanged; its default
// recurrentActivation is hardSigmoid, so sigmoid is set); tfjs-layers has no MultiHeadAttention,
// so the encoder block is written in tfjs-core ops as PyTorch's post-norm TransformerEncoderLayer.
// tfjs-layers through the union package (tfjs-core, which the engine imports, has no layers).
import * as tfl from '@tensorflow/tfjs';
import { load, sample, spec } from './common.mjs';

const HEADS = 4;
const EPSILON = 1e-5;

/** The model's weights in Kiln's order (bench/run.ts's paramKeys), as tensors. */
const weights = (tf, model) => spec.paramKeys[model].map((k) => { const { data, shape } = load(k); return tf.tensor(data, shape); });

function lstmModel(tf, p) {
  const [, T, F] = spec.tensors['lstm.x'].shape;
  const m = tfl.sequential();
  m.add(tfl.layers.lstm({ units: p[1].shape[0], inputShape: [T, F], recurrentActivation: 'sigmoid', activation: 'tanh' }));
  m.add(tfl.layers.dense({ units: p[3].shape[1] }));
  m.setWeights(p);
  return { logits: (x) => m.apply(x), variables: m.trainableWeights.map((w) => w.read()) };
}

function layerNorm(tf, x, gamma, beta) {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPSILON))), gamma), beta);
}

/** x [B, L, D] → the block's output; p in Kiln's order: q, k, v, o (kernel, bias), norm 1, ffn1, ffn2, norm 2. */
function encoderBlock(tf, p, x) {
  const [B, L, D] = x.shape;
  const d = D / HEADS;
  const [wq, bq, wk, bk, wv, bv, wo, bo, g1, b1, w1, c1, w2, c2, g2, b2] = p;
  const rows = tf.reshape(x, [B * L, D]);
  const heads = (w, b) => tf.transpose(tf.reshape(tf.add(tf.matMul(rows, w), b), [B, L, HEADS, d]), [0, 2, 1, 3]);
  const [q, k, v] = [heads(wq, bq), heads(wk, bk), heads(wv, bv)];
  const weightsOf = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d)));
  const context = tf.reshape(tf.transpose(tf.matMul(weightsOf, v), [0, 2, 1, 3]), [B * L, D]);
  const h = layerNorm(tf, tf.add(rows, tf.add(tf.matMul(context, wo), bo)), g1, b1);
  const ff = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(h, w1), c1)), w2), c2);
  return tf.reshape(layerNorm(tf, tf.add(h, ff), g2, b2), [B, L, D]);
}

/** The workload for `w` (model lstm or transformer): check() and run() read their results back. */
export function sequenceWorkload(tf, w) {
  const { data, shape } = load(`${w.model}.x`);
  const x = tf.tensor(data, shape);
  let forward, variables;
  if (w.model === 'lstm') ({ logits: forward, variables } = lstmModel(tf, weights(tf, 'lstm')));
  else {
    variables = weights(tf, 'transformer').map((t) => tf.variable(t));
    forward = (x) => encoderBlock(tf, variables, x);
  }
  if (w.kind === 'infer') {
    const f = () => { const o = tf.tidy(() => forward(x)); const r = o.dataSync(); o.dispose(); return r; };
    return { check: () => sample(f()), run: () => f()[0] };
  }
  const y = load(`${w.model}.y`);
  const target = w.model === 'lstm' ? tf.oneHot(tf.tensor1d(y.data, 'int32'), 10) : tf.tensor(y.data, y.shape);
  const loss = w.model === 'lstm' ? (o) => tf.losses.softmaxCrossEntropy(target, o) : (o) => tf.losses.meanSquaredError(target, o);
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  const step = () => {
    const l = opt.minimize(() => loss(forward(x)), true, variables);
    const v = l.dataSync()[0];
    l.dispose();
    return v;
  };
  return { check: () => [step(), step(), step()], run: step };
}
