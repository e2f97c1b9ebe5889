// A model's blocked products read W from a copy packed once per weight set (simd-blocked.ts's
// Prepack; createModel's packWeights makes it). A stale copy would give wrong outputs silently, so
// each way weights reach a model or change in it is followed by a predict checked against a
// float64 reference computed by naive loops from the weights the model reports: seeded, a file's
// bytes, a file's path (read in place: the file is over 1 MiB), arrays by name, writes through
// `weightArrays` (before and after a predict), a trainer's steps (which mark the copies stale, so
// its predicts pack once per step, not per call), setWeights and load; on one
// thread, on two (ThreadPool), with SIMD off, and in the relaxed-SIMD variant.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { KC, MIN_ROWS, NC } from '../../compiler/codegen/wasm/simd-blocked.ts';
import { compileModel } from '../../compiler/compile.ts';
import { ThreadPool } from '../../runtime/parallel.ts';
import { encodeWeights } from '../../runtime/weights.ts';
import { dense, input, model as functionalModel } from '../../src/index.ts';
import { OUT, worstError } from './simd-edge-cases.ts';

// Layer 1: W [KC + 1, 2·NC + 1] (527 KB): 2 panels and a 1-column tail, a last block of 1 step.
// Layer 2: W [2·NC + 1, NC + 7] (540 KB): 3 blocks (the last of 1 step), 1 panel and a 7-column tail.
// Layer 3: W [NC + 7, 100] (105 KB) is not blocked.
// Layer 4: W [100, 2·NC + 8] (208 KB, rows 2080 bytes apart): under the plain kernels' 256 KiB,
// blocked in the relaxed-SIMD variant only (STRIDED_BYTES), so the plain kernels never read its copy.
// Layer 5 (10 columns, 20 KB) is not blocked.
const WIDTHS = [KC + 1, 2 * NC + 1, NC + 7, 100, 2 * NC + 8, 10];
const LAYERS = WIDTHS.length - 1;

type Weights = { name: string; shape: number[]; data: Float32Array }[];
interface Model {
  predict(x: Float32Array, batch: number): Float32Array;
  getWeights(): Weights;
  readonly weightArrays: readonly Float32Array[];
  memory?: object;
}
interface Trainer {
  step(x: Float32Array, labels: Float32Array, batch: number): number;
  predict(x: Float32Array, batch: number): Float32Array;
  getWeights(): Weights;
  setWeights(w: Record<string, Float32Array> | Uint8Array): void;
  save(): Uint8Array;
  load(bytes: Uint8Array): void;
}
interface Module {
  createModel(weights?: unknown, options?: { pool?: ThreadPool; simd?: boolean }): Model;
  createTrainer(options?: { seed?: number; lr?: number }): Trainer;
}

const pool = new ThreadPool({ threshold: 1, simdThreshold: 1 });
afterAll(() => pool.close());

let cached: { mod: Module; file: string; js: string } | undefined;
/** The three-layer MLP, compiled with an SGD trainer, written under test/.out and imported. */
async function compiled(): Promise<{ mod: Module; file: string; js: string }> {
  if (cached) return cached;
  const x = input([WIDTHS[0]], { name: 'x' });
  let h = x;
  for (let l = 1; l < LAYERS; l++) h = dense(h, WIDTHS[l], { name: `h${l}`, activation: 'relu' });
  const y = dense(h, WIDTHS[LAYERS], { name: 'out' });
  const graph = functionalModel({ name: 'prepacked', inputs: x, outputs: y }).graph;
  const { js } = compileModel(graph, { seed: 5, training: { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.05 } } });
  const dir = join(OUT, '..', 'wasm-pack');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'prepacked.js');
  writeFileSync(file, js);
  cached = { mod: (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Module, file, js };
  return cached;
}

/** Seeded values in [lo, hi): a 32-bit LCG. */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((hi - lo) * s) / 2 ** 32;
  });
}

/** The MLP in float64 by naive loops, from weights in parameter order (kernel, bias per layer). */
function reference(weights: readonly Float32Array[], x: Float32Array, batch: number): Float64Array {
  let h = Float64Array.from(x);
  for (let l = 0; l < LAYERS; l++) {
    const [k, m] = [WIDTHS[l], WIDTHS[l + 1]];
    const [w, b] = [weights[2 * l], weights[2 * l + 1]];
    const next = new Float64Array(batch * m);
    for (let r = 0; r < batch; r++) {
      for (let j = 0; j < m; j++) {
        let s = b[j];
        for (let i = 0; i < k; i++) s += h[r * k + i] * w[i * m + j];
        next[r * m + j] = l < LAYERS - 1 ? Math.max(0, s) : s;
      }
    }
    h = next;
  }
  return h;
}

/** Fresh weights (by name, in the order getWeights reports them) drawn from `seed`, scaled so layers keep unit size. */
function freshWeights(names: Weights, seed: number): Record<string, Float32Array> {
  return Object.fromEntries(names.map((t, i) => [t.name, values(t.data.length, seed + i, -1, 1).map((v) => v / Math.sqrt(t.shape[0]))]));
}

/** predict at a blocked batch and a plain one, each within the float32 bound of the reference from `weights`. */
function expectAgrees(predict: (x: Float32Array, b: number) => Float32Array, weights: () => readonly Float32Array[], what: string): void {
  for (const batch of [MIN_ROWS + 5, 3]) {
    const x = values(batch * WIDTHS[0], 100 + batch);
    const got = predict(x, batch);
    expect(worstError(got, reference(weights(), x, batch), 1e-4, 1e-4), `${what}, batch ${batch}`).toBeLessThanOrEqual(1);
  }
}

const reported = (m: { getWeights(): Weights }) => () => m.getWeights().map((t) => t.data);

describe('weights packed once per weight set', () => {
  it('the three blocked layers read a prepacked copy (and a model without SIMD keeps plain arrays)', async () => {
    const { js, mod } = await compiled();
    for (const p of [0, 2, 6]) expect(js).toMatch(new RegExp(`k\\d+_pack\\(p${p}\\.byteOffset\\)`));
    for (const p of [4, 8]) expect(js).not.toContain(`_pack(p${p}.`);
    // The trainer says when it writes the weights (weightsWritten) rather than taking weightArrays,
    // which would make every predict repack.
    expect(js).not.toContain('model.weightArrays');
    expect(js).toContain('its copy packed once per weight set');
    const simd = mod.createModel();
    expect(simd.memory).toBeDefined();
    // The room lies after W in its allocation: W's array is a view of its own values only.
    expect(simd.weightArrays[0].length).toBe(WIDTHS[0] * WIDTHS[1]);
    expect(simd.weightArrays[0].buffer.byteLength).toBeGreaterThan(simd.weightArrays[0].byteOffset + 2 * simd.weightArrays[0].byteLength);
    const plain = mod.createModel(undefined, { simd: false });
    expect(plain.memory).toBeUndefined();
    expectAgrees(plain.predict, reported(plain), 'SIMD off');
  });

  it('seeded weights, a weight file as bytes and by path, arrays by name', async () => {
    const { mod } = await compiled();
    const seeded = mod.createModel();
    expectAgrees(seeded.predict, reported(seeded), 'seeded');
    const names = seeded.getWeights();
    const byName = freshWeights(names, 7);
    const arrays = () => names.map((t) => byName[t.name]);
    const fromRecord = mod.createModel(byName);
    expectAgrees(fromRecord.predict, arrays, 'arrays by name');
    const bytes = encodeWeights(names.map((t) => ({ name: t.name, dtype: 'float32', shape: t.shape, data: byName[t.name] })), { model: 'prepacked' });
    expect(bytes.length).toBeGreaterThan(1 << 20); // read in place from a path (runtime/model-io.ts)
    const fromBytes = mod.createModel(bytes);
    expectAgrees(fromBytes.predict, arrays, 'bytes');
    const path = resolve(tmpdir(), `kiln-wasm-pack-${process.pid}.weights.bin`);
    writeFileSync(path, bytes);
    const fromPath = mod.createModel(path);
    expectAgrees(fromPath.predict, arrays, 'path');
  });

  it('writes through weightArrays, before the first predict and after one (one thread and two)', async () => {
    const { mod } = await compiled();
    for (const options of [{}, { pool }]) {
      const m = mod.createModel(undefined, options);
      const label = options === undefined || !('pool' in options) ? 'one thread' : 'ThreadPool';
      expectAgrees(m.predict, reported(m), `${label}, before`);
      const w = m.weightArrays;
      const next = freshWeights(m.getWeights(), 31);
      w.forEach((a, i) => a.set(Object.values(next)[i]));
      expectAgrees(m.predict, reported(m), `${label}, after a first write`);
      // A second write of W alone, between two predicts that both packed.
      w[0].set(values(w[0].length, 77, -0.05, 0.05));
      w[2][5] = 3;
      expectAgrees(m.predict, reported(m), `${label}, after a second write`);
      // Written before any predict: taking weightArrays first.
      const fresh = mod.createModel(undefined, options);
      fresh.weightArrays[2].set(values(fresh.weightArrays[2].length, 78, -0.06, 0.06));
      expectAgrees(fresh.predict, reported(fresh), `${label}, written before any predict`);
    }
  });

  it("a trainer's steps, setWeights and load change what its predict uses", async () => {
    const { mod } = await compiled();
    const t = mod.createTrainer({ seed: 3 });
    const batch = MIN_ROWS + 2;
    const [x, labels] = [values(batch * WIDTHS[0], 11), values(batch * WIDTHS[LAYERS], 12)];
    expectAgrees(t.predict, reported(t), 'trainer, fresh');
    for (let s = 0; s < 3; s++) {
      t.step(x, labels, batch);
      expectAgrees(t.predict, reported(t), `trainer, after step ${s + 1}`);
      // Packed at the first predict after the step, read as packed at the second.
      expectAgrees(t.predict, reported(t), `trainer, after step ${s + 1}, predicting again`);
    }
    const saved = t.save();
    t.setWeights(freshWeights(t.getWeights(), 51));
    expectAgrees(t.predict, reported(t), 'trainer, after setWeights');
    t.load(saved);
    expectAgrees(t.predict, reported(t), 'trainer, after load');
  });

  it('the relaxed-SIMD variant (node --experimental-wasm-relaxed-simd) reads the same copy', async () => {
    const { file, mod } = await compiled();
    const batch = MIN_ROWS + 5;
    const x = values(batch * WIDTHS[0], 100 + batch);
    const script = [
      `const { createModel } = await import(${JSON.stringify(pathToFileURL(file).href)});`,
      `const m = createModel();`,
      `const x = Float32Array.from(${JSON.stringify(Array.from(x))});`,
      `const first = Array.from(m.predict(x, ${batch}));`,
      // A write after a packed predict: the second must see it.
      `m.weightArrays[0].fill(0.01);`,
      `m.weightArrays[6].fill(0.02);`,
      `process.stdout.write(JSON.stringify({ relaxed: m.memory?.relaxed === true, first, second: Array.from(m.predict(x, ${batch})) }));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { relaxed: boolean; first: number[]; second: number[] };
    expect(out.relaxed).toBe(true);
    const weights = mod.createModel().getWeights().map((t) => t.data);
    expect(worstError(out.first, reference(weights, x, batch), 1e-4, 1e-4)).toBeLessThanOrEqual(1);
    weights[0] = weights[0].map(() => 0.01);
    weights[6] = weights[6].map(() => 0.02);
    expect(worstError(out.second, reference(weights, x, batch), 1e-4, 1e-4)).toBeLessThanOrEqual(1);
  });
});
