// brain.js NeuralNetwork, MLP inference only. Its output layer uses the hidden activation (ReLU):
// 100 is added to the output biases so ReLU passes the logits through (shifted), and the softmax,
// which ignores the shift, is applied here in JavaScript.
import brain from 'brain.js';
import { load, main, sample, version as pkgVersion } from './common.mjs';

const version = pkgVersion('brain.js');

const x = load('x').data;
let net;
function build() {
  net = new brain.NeuralNetwork({ inputSize: 784, hiddenLayers: [256], outputSize: 10, activation: 'relu' });
  net.initialize();
  const layers = [[load('mlp.w1').data, load('mlp.b1').data, 0], [load('mlp.w2').data, load('mlp.b2').data, 100]];
  layers.forEach(([w, b, shift], l) => {
    const outs = b.length, ins = w.length / outs;
    for (let j = 0; j < outs; j++) {
      for (let i = 0; i < ins; i++) net.weights[l + 1][j][i] = w[i * outs + j];
      net.biases[l + 1][j] = b[j] + shift;
    }
  });
}
function softmax(z, out, at) {
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  for (let k = 0; k < z.length; k++) s += (out[at + k] = Math.exp(z[k] - m));
  for (let k = 0; k < z.length; k++) out[at + k] /= s;
}

await main({ name: 'brain', version }, async (w) => {
  if (w.kind !== 'infer' || w.model !== 'mlp') return w.kind === 'train' && w.model === 'mlp'
    ? 'not the same workload: brain.js trains per sample with SGD + momentum on MSE (no Adam, no cross-entropy)'
    : 'not supported by brain.js';
  if (!net) build();
  const out = new Float32Array(w.batch * 10);
  const f = () => {
    for (let s = 0; s < w.batch; s++) softmax(net.run(x.subarray(s * 784, (s + 1) * 784)), out, s * 10);
    return out;
  };
  return { check: () => sample(f()), run: () => f()[0] };
});
