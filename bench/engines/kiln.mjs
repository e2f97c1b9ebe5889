// Kiln: imports the modules that bench/run.ts compiled into build/bench/ and feeds them the shared weights.
import { pathToFileURL } from 'node:url';
import { load, main, sample, spec } from './common.mjs';
import { ThreadPool } from '../../dist/runtime/bundle/node.js';

// `--threads`: both cores, large kernels split between this thread and a worker (ThreadPool).
const pool = process.argv.includes('--threads') ? new ThreadPool() : undefined;
// Started with --experimental-wasm-relaxed-simd (the kiln-relaxed engine): the fused multiply-add kernels must be the ones that run.
const relaxed = process.execArgv.includes('--experimental-wasm-relaxed-simd');
const checked = (model) => {
  if (relaxed && !model.memory?.relaxed) throw new Error('relaxed SIMD was asked for but the module runs its plain kernels');
  return model;
};

const mods = {};
const mod = async (name) => (mods[name] ??= await import(pathToFileURL(spec.kiln[name]).href));
/** The shared weights of `prefix` as arrays by Kiln's parameter names (weight-file order). */
function weights(m, keys) {
  const out = {};
  m.parameters.forEach((p, i) => {
    const t = load(keys[i]);
    if (t.data.length !== p.shape.reduce((a, b) => a * b, 1)) throw new Error(`${p.name}: shape mismatch`);
    out[p.name] = t.data;
  });
  return out;
}
/**
 * `data` copied once into the model's memory, where the kernels read it in place: the peers' inputs
 * are likewise tensors made before the clock (docs/emitted-module.md, "Inputs without a copy").
 * An array outside the memory would be copied into it on every call.
 */
function resident(model, data) {
  if (!model.memory) return data;
  const a = model.memory.alloc(data.constructor, data.length);
  a.set(data);
  return a;
}
const x = load('x').data;
const y = load('y').data;

await main({ name: pool ? 'kiln-2t' : relaxed ? 'kiln-relaxed' : 'kiln' }, async (w) => {
  if (w.kind === 'matmul') {
    const m = await mod(`mm${w.n}`);
    const model = checked(m.createModel(undefined, { pool }));
    const feeds = { a: resident(model, load(`mmA${w.n}`).data), b: resident(model, load(`mmB${w.n}`).data) };
    return { check: () => sample(model.run(feeds, 1).c), run: () => model.run(feeds, 1).c[0] };
  }
  const name = w.model;
  const m = await mod(name);
  const ws = weights(m, spec.paramKeys[name]);
  // The sequence models have inputs and targets of their own (bench/models/lstm-and-transformer.ts).
  const own = spec.tensors[`${name}.x`] !== undefined;
  const xb = own ? load(`${name}.x`).data : x.subarray(0, w.batch * 784);
  if (w.kind === 'infer') {
    const model = checked(m.createModel(ws, { pool }));
    const xr = resident(model, xb);
    return { check: () => sample(model.predict(xr, w.batch)), run: () => model.predict(xr, w.batch)[0] };
  }
  const trainer = m.createTrainer({ weights: ws, seed: 1, pool });
  if (relaxed) checked(m.createModel(ws));
  const yb = own ? load(`${name}.y`).data : y.subarray(0, w.batch);
  return {
    check: () => [0, 1, 2].map(() => trainer.step(xb, yb, w.batch)),
    run: () => trainer.step(xb, yb, w.batch),
  };
});
