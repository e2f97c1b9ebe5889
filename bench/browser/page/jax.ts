// @jax-js/jax 0.1.25 in the benchmark page on its WebGPU or WebAssembly device
// (`?variant=webgpu|wasm`), every function under jit(): bench/engines/jax.mjs's models and Adam.
// @ts-ignore -- a peer, in bench/node_modules after `npm run bench:setup`: without it this page cannot be built, and the file still type-checks
import { init, defaultDevice, jit, valueAndGrad, lax, nn, numpy as np } from '@jax-js/jax';
import { load, loadF32, main, sample, variant, type Impl, type Workload } from './harness.ts';

type A = np.Array;
const arr = async (key: string): Promise<A> => { const { data, shape } = await load(key); return np.array(data as Float32Array).reshape(shape); };
/** Reads an array back (consuming it); asynchronous, as WebGPU's readback is. */
const read = async (a: A) => (await a.data()) as Float32Array;

function logits(model: string, p: A[], x: A): A {
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
const lossFn = (model: string) => (p: A[], x: A, y: A) => np.mean(np.sum(y.mul(nn.logSoftmax(logits(model, p, x), -1)), -1)).neg();

async function setup(w: Workload): Promise<Impl | string> {
  // Every call takes its inputs from JavaScript arrays, as Kiln's and onnxruntime-web's do (a
  // model fed new data): arrays made inside the call go up to the device then.
  if (w.kind === 'matmul') {
    const a = await load(`mmA${w.n}`), b = await load(`mmB${w.n}`);
    const f = jit((a: A, b: A) => np.matmul(a, b));
    const call = () => read(f(np.array(a.data as Float32Array).reshape(a.shape), np.array(b.data as Float32Array).reshape(b.shape)));
    return { check: async () => sample(await call()), run: call };
  }
  const model = w.model!;
  const keys = model === 'mlp' ? ['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'] : ['cnn.wc', 'cnn.bc', 'cnn.w1', 'cnn.b1', 'cnn.w2', 'cnn.b2'];
  let p = await Promise.all(keys.map(arr));
  const shape = model === 'mlp' ? [w.batch, 784] : [w.batch, 1, 28, 28];
  const xs = (await loadF32('x')).slice(0, w.batch * 784);
  const x = () => np.array(xs).reshape(shape);
  if (w.kind === 'infer') {
    const f = jit((p: A[], x: A) => nn.softmax(logits(model, p, x), -1));
    const call = () => read(f(p.map((a: A) => a.ref), x()));
    return { check: async () => sample(await call()), run: call };
  }
  const labels = ((await load('y')).data as Int32Array).slice(0, w.batch);
  const y = () => nn.oneHot(np.array(labels, { dtype: np.int32 }), 10);
  const b1 = 0.9, b2 = 0.999, lr = 1e-3, eps = 1e-8;
  const vg = valueAndGrad(lossFn(model));
  // Adam as PyTorch writes it: w −= lr/(1−β1ᵗ) · m / (√(v/(1−β2ᵗ)) + ε); the corrections come in as scalars.
  const step = jit((p: A[], m: A[], v: A[], c1: A, c2: A, x: A, y: A) => {
    const [loss, g] = vg(p.map((a) => a.ref), x, y) as unknown as [A, A[]];
    const m2 = m.map((mi, i) => mi.mul(b1).add(g[i].ref.mul(1 - b1)));
    const v2 = v.map((vi, i) => vi.mul(b2).add(g[i].ref.mul(g[i].ref).mul(1 - b2)));
    g.forEach((gi) => gi.dispose());
    const p2 = p.map((pi, i) => pi.sub(m2[i].ref.mul(c1.ref).div(np.sqrt(v2[i].ref.mul(c2.ref)).add(eps))));
    c1.dispose(); c2.dispose();
    return [loss, p2, m2, v2];
  });
  let m = p.map((a: A) => np.zerosLike(a.ref));
  let v = p.map((a: A) => np.zerosLike(a.ref));
  let t = 0;
  const train = async () => {
    t++;
    const [loss, p2, m2, v2] = step(p, m, v, np.array(lr / (1 - b1 ** t)), np.array(1 / (1 - b2 ** t)), x(), y()) as unknown as [A, A[], A[], A[]];
    p = p2; m = m2; v = v2;
    return (await read(loss))[0];
  };
  return { check: async () => [await train(), await train(), await train()], run: train };
}

void main({
  async init() {
    const devices = await init(variant as 'webgpu' | 'wasm');
    if (!devices.includes(variant as 'webgpu' | 'wasm')) throw new Error(`jax-js offers ${devices.join(', ') || 'no device'}, not ${variant}`);
    defaultDevice(variant as 'webgpu' | 'wasm');
  },
  setup,
  info: () => ({ name: `jax-${variant}`, backend: variant }),
});
