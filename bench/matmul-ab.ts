// A/B timing of matrix products in ONE process: Kiln's emitted matmul modules (this tree's
// compiler, and any other set of modules emitted earlier, e.g. by an older commit's worktree)
// against tfjs-backend-wasm, interleaved round by round so that the load of a shared machine falls
// on every contender alike. `npm run bench` runs each engine in a process of its own, minutes
// apart; on a loaded 2-core machine its ratios move by ±30 %, too much to tell kernel variants
// apart. Here each round times every contender for a short slice, and the report gives the best
// and the median round of each, and the ratios of those.
//
//   npx tsx bench/matmul-ab.ts --emit build/ab/new          this tree's modules into a folder
//   npx tsx bench/matmul-ab.ts [--sizes 128,512] [--rounds 9] [--modules old=build/ab/old,...]
//   npx tsx bench/matmul-ab.ts --model bench/models/mlp.ts --batch 64 [--modules ...]
//     one model's predict instead (module model.mjs; figures are samples per second of CPU time)
//   node --experimental-wasm-relaxed-simd --import tsx bench/matmul-ab.ts --plain [--no-tfjs]
//     adds 'plain': this tree's modules with the relaxed-SIMD variant stripped from their wasm, so
//     that the relaxed and the plain kernels run in one process (kiln is relaxed under the flag)
//   npx tsx bench/matmul-ab.ts --model examples/cnn.ts --batch 64 --kernels [--rounds 200] [--plain] [--modules ...]
//     per kernel instead of per call: modules compiled with profile: true (--emit with --kernels
//     makes such a folder), one predict per contender per round, each kernel's own wall time; the
//     table gives each kernel's 10th percentile and median over the rounds (the 10th percentile is
//     the undisturbed time on a shared machine; whole calls there vary more than kernels differ)
//
// Modules are `mm<n>.mjs` as bench/run.ts compiles them (c = a·b, [n, n], one thread); they import
// kiln/runtime, which resolves to the dist/ of the tree they sit in (modules an older worktree
// emitted into this tree's build/ run on this tree's runtime: an A/B of kernels). Inputs are passed as arrays
// outside the model's memory, as in bench/engines/kiln.mjs (so each call copies them in).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { input, matmul, model as functionalModel } from '../src/index.ts';
import { readUleb } from '../runtime/simd.ts';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
/** A bad argument: one line on stderr, exit status 2. */
function fail(message: string): never {
  console.error(`matmul-ab: ${message}`);
  process.exit(2);
}
const sizes = (arg('--sizes') ?? '128,256,512,1024').split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) fail(`--sizes: positive integers separated by commas, not '${arg('--sizes')}'`);

/** A model file's default export (`--model`), compiled for inference beside the products. */
const modelFile = arg('--model');
const batch = Number(arg('--batch') ?? 64);
const kernelMode = argv.includes('--kernels');
if (kernelMode && !modelFile) fail('--kernels times the kernels of one --model');

async function emitModules(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  if (modelFile) {
    const m = (await import(pathToFileURL(path.resolve(modelFile)).href)).default as { graph: Parameters<typeof compileModel>[0] };
    writeFileSync(path.join(dir, 'model.mjs'), compileModel(m.graph, { seed: 1, profile: kernelMode }).js);
    return;
  }
  for (const n of sizes) {
    const a = input([n, n], { batched: false, name: 'a' });
    const b = input([n, n], { batched: false, name: 'b' });
    const m = functionalModel({ name: `mm${n}`, inputs: [a, b], outputs: { c: matmul(a, b) } });
    writeFileSync(path.join(dir, `mm${n}.mjs`), compileModel(m.graph, { seed: 1 }).js);
  }
}

/**
 * Module source `js` with the relaxed-SIMD custom section ('kiln.relaxed', the first section when
 * present: compiler/codegen/wasm/binary.ts) cut from each embedded wasm module: the runtime then
 * compiles the plain kernels even where relaxed SIMD validates.
 */
function stripRelaxed(js: string): string {
  return js.replace(/fromBase64\('([A-Za-z0-9+/=]+)'\)/g, (whole, b64: string) => {
    const b = new Uint8Array(Buffer.from(b64, 'base64'));
    if (b[8] !== 0) return whole;
    const [size, start] = readUleb(b, 9);
    const [length, nameAt] = readUleb(b, start);
    if (new TextDecoder().decode(b.subarray(nameAt, nameAt + length)) !== 'kiln.relaxed') return whole;
    const plain = new Uint8Array([...b.subarray(0, 8), ...b.subarray(start + size)]);
    return `fromBase64('${Buffer.from(plain).toString('base64')}')`;
  });
}

/** A copy of folder `dir`'s modules with the relaxed variant stripped, in `to`. */
function plainCopy(dir: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs'))) writeFileSync(path.join(to, f), stripRelaxed(readFileSync(path.join(dir, f), 'utf8')));
}

interface Contender {
  label: string;
  /** One product, its output read back (as the peers' runs do). */
  run(n: number): Promise<() => number>;
}

type Run = (feeds: Record<string, Float32Array>, batch: number) => Record<string, Float32Array>;
const rand = (length: number) => Float32Array.from({ length }, (_, i) => Math.sin(i * 0.77) * 0.05);
const data = (n: number, seed: number) => Float32Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37 + seed));

function kilnContender(label: string, dir: string): Contender {
  return {
    label,
    async run(n) {
      if (modelFile) {
        // `n` is unused: one model at one batch size; its FLOPs are counted as those of an n³ product.
        const m = (await import(pathToFileURL(path.resolve(dir, 'model.mjs')).href)) as { createModel(): { predict(x: Float32Array, b: number): Float32Array }; inputs: { shape: (number | string)[] }[] };
        const model = m.createModel();
        const per = m.inputs[0].shape.slice(1).reduce((a: number, d) => a * Number(d), 1);
        const x = Float32Array.from({ length: batch * per }, (_, i) => Math.abs(Math.sin(i * 0.37)));
        return () => model.predict(x, batch)[0];
      }
      const m = (await import(pathToFileURL(path.resolve(dir, `mm${n}.mjs`)).href)) as { createModel(): { run: Run } };
      const model = m.createModel();
      const feeds = { a: data(n, 1), b: data(n, 2) };
      return () => model.run(feeds, 1).c[0];
    },
  };
}

/**
 * What this file uses of @tensorflow/tfjs-core, typed here: it is a peer of the benchmark only
 * (`npm run bench:setup`), so a fresh checkout type-checks without it.
 */
interface TfTensor {
  dataSync(): Float32Array;
  dispose(): void;
}
interface TfCore {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor(values: Float32Array, shape: number[]): TfTensor;
  tidy<T extends TfTensor>(f: () => T): T;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
  add(a: TfTensor, b: TfTensor): TfTensor;
  relu(x: TfTensor): TfTensor;
  softmax(x: TfTensor): TfTensor;
}

async function tfjsContender(): Promise<Contender> {
  const { createRequire } = await import('node:module');
  const require = createRequire(path.resolve('bench/engines/tfjs.mjs'));
  const tf = require('@tensorflow/tfjs-core') as TfCore;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void };
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    label: 'tfjs-wasm',
    async run(n) {
      if (modelFile) {
        // Only the benchmark's MLP (bench/models/mlp.ts: 784-256 ReLU-10 softmax), as bench/engines/tfjs.mjs runs it.
        if (!modelFile.endsWith('models/mlp.ts')) fail(`tfjs-wasm runs only bench/models/mlp.ts here, not ${modelFile} (add --no-tfjs)`);
        const p = [tf.tensor(rand(784 * 256), [784, 256]), tf.tensor(rand(256), [256]), tf.tensor(rand(2560), [256, 10]), tf.tensor(rand(10), [10])];
        const x = tf.tensor(rand(batch * 784).map(Math.abs), [batch, 784]);
        return () => {
          const o = tf.tidy(() => tf.softmax(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, p[0]), p[1])), p[2]), p[3])));
          const d = o.dataSync();
          o.dispose();
          return d[0];
        };
      }
      const a = tf.tensor(data(n, 1), [n, n]);
      const b = tf.tensor(data(n, 2), [n, n]);
      return () => {
        const c = tf.matMul(a, b);
        const d = c.dataSync();
        c.dispose();
        return d[0];
      };
    },
  };
}

/**
 * Work per second in one slice (`work` per call: 2n³ flops of a product, or a model's batch of
 * samples): calls for about `seconds` of this process's CPU time (process.cpuUsage:
 * steadier than the wall clock on a shared machine, where other processes take turns on the
 * cores), after one call outside the clock.
 */
function slice(f: () => number, work: number, seconds: number): number {
  f();
  let calls = 0;
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const t0 = cpu();
  let t = t0;
  while (t - t0 < seconds) {
    f();
    calls++;
    t = cpu();
  }
  return (work * calls) / (t - t0);
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const p10 = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 10)];

/** A profile build of the model in `dir`: predict, and its per-kernel times. */
interface Profiled {
  readonly label: string;
  readonly predict: () => void;
  readonly times: () => Record<string, { ms: number }>;
  readonly reset: () => void;
}

async function profiled(label: string, dir: string): Promise<Profiled> {
  type Mod = { createModel(): { predict(x: Float32Array, b: number): Float32Array }; inputs: { shape: (number | string)[] }[]; kernelTimes?: Record<string, { ms: number }>; resetKernelTimes?(): void };
  const m = (await import(pathToFileURL(path.resolve(dir, 'model.mjs')).href)) as Mod;
  if (!m.kernelTimes || !m.resetKernelTimes) fail(`--kernels: ${dir}/model.mjs is no profile build (emit it with --emit ${dir} --model ... --kernels)`);
  const model = m.createModel();
  const per = m.inputs[0].shape.slice(1).reduce((a: number, d) => a * Number(d), 1);
  const x = Float32Array.from({ length: batch * per }, (_, i) => Math.abs(Math.sin(i * 0.37)));
  return { label, predict: () => model.predict(x, batch), times: () => m.kernelTimes!, reset: () => m.resetKernelTimes!() };
}

/** `--kernels`: each kernel's 10th percentile and median per contender over the rounds, one predict each per round. */
async function kernelTable(dirs: readonly [string, string][], rounds: number): Promise<void> {
  const all = await Promise.all(dirs.map(([label, dir]) => profiled(label, dir)));
  for (let i = 0; i < 30; i++) for (const c of all) c.predict();
  const got = all.map(() => new Map<string, number[]>());
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < all.length; j++) {
      const i = (j + r) % all.length;
      all[i].reset();
      all[i].predict();
      for (const [k, t] of Object.entries(all[i].times())) {
        let samples = got[i].get(k);
        if (!samples) got[i].set(k, (samples = []));
        samples.push(t.ms);
      }
    }
  }
  const ms = (v: number) => v.toFixed(3);
  console.log(`| kernel | ${all.map((c) => `${c.label} p10 / median (ms)`).join(' | ')} | ${all.slice(1).map((c) => `${all[0].label} ÷ ${c.label} p10 / median`).join(' | ')} |`);
  console.log(`|---|${all.map(() => '---:|').join('')}${all.slice(1).map(() => '---:|').join('')}`);
  const sum = all.map(() => ({ p10: 0, median: 0 }));
  for (const k of got[0].keys()) {
    // A loop's entry (kloop0...) holds its body's kernels, which have entries of their own.
    const counted = !k.startsWith('kloop');
    const stats = got.map((g, i) => {
      const v = g.get(k) ?? [NaN];
      const st = { p10: p10(v), median: median(v) };
      if (counted) sum[i].p10 += st.p10;
      if (counted) sum[i].median += st.median;
      return st;
    });
    console.log(`| ${k} | ${stats.map((st) => `${ms(st.p10)} / ${ms(st.median)}`).join(' | ')} | ${stats.slice(1).map((st) => `${(stats[0].p10 / st.p10).toFixed(2)}× / ${(stats[0].median / st.median).toFixed(2)}×`).join(' | ')} |`);
  }
  console.log(`| all kernels | ${sum.map((st) => `${ms(st.p10)} / ${ms(st.median)}`).join(' | ')} | ${sum.slice(1).map((st) => `${(sum[0].p10 / st.p10).toFixed(2)}× / ${(sum[0].median / st.median).toFixed(2)}×`).join(' | ')} |`);
}

async function main(): Promise<void> {
  const emit = arg('--emit');
  if (emit) return emitModules(emit);
  const rounds = Number(arg('--rounds') ?? 9);
  const tmp = path.resolve('build/ab/this-tree');
  await emitModules(tmp);
  const dirs: [string, string][] = [['kiln', tmp]];
  if (argv.includes('--plain')) {
    plainCopy(tmp, `${tmp}-plain`);
    dirs.push(['plain', `${tmp}-plain`]);
  }
  for (const spec of (arg('--modules') ?? '').split(',').filter(Boolean)) {
    const [label, dir] = spec.split('=');
    if (!label || !dir) fail(`--modules: label=folder pairs separated by commas, not '${spec}'`);
    dirs.push([label, dir]);
  }
  if (kernelMode) return kernelTable(dirs, Number(arg('--rounds') ?? 200));
  const contenders: Contender[] = dirs.map(([label, dir]) => kilnContender(label, dir));
  if (!argv.includes('--no-tfjs')) contenders.push(await tfjsContender());
  const unit = modelFile ? `samples/s at batch ${batch}` : 'GFLOP/s';
  console.log(`| ${modelFile ? 'model' : 'n'} | ${contenders.map((c) => `${c.label} best / median (${unit})`).join(' | ')} | ${contenders.slice(1).map((c) => `kiln ÷ ${c.label} best / median`).join(' | ')} |`);
  console.log(`|---:|${contenders.map(() => '---:|').join('')}${contenders.slice(1).map(() => '---:|').join('')}`);
  for (const n of modelFile ? [sizes[0]] : sizes) {
    const fns = await Promise.all(contenders.map((c) => c.run(n)));
    const seconds = n >= 1024 ? 0.4 : 0.2;
    const got = contenders.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      // Rotate the order each round: no contender always runs first after the previous size.
      for (let i = 0; i < fns.length; i++) {
        const j = (i + r) % fns.length;
        got[j].push(slice(fns[j], modelFile ? batch : (2 * n ** 3) / 1e9, seconds));
      }
    }
    const best = got.map((g) => Math.max(...g));
    const mid = got.map(median);
    const fmt = (v: number) => (modelFile ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
    const cells = contenders.map((_, i) => `${fmt(best[i])} / ${fmt(mid[i])}`);
    const ratios = contenders.slice(1).map((_, i) => `${(best[0] / best[i + 1]).toFixed(2)}× / ${(mid[0] / mid[i + 1]).toFixed(2)}×`);
    console.log(`| ${modelFile ? path.basename(modelFile) : n} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
}

await main();
