// Kiln against its peers on the workloads of ../shared/PEERS.md, in one run.
//
//   npm run bench                 5 interleaved rounds, matmul n = 128…2048
//   npm run bench -- --quick      2 rounds, matmul n = 128, 256, 512 (a few minutes)
//   … --rounds N  --engines kiln,tfjs-cpu,…  --only lstm,transformer (workload ids starting so)
//
// The driver draws one set of seeded Glorot-uniform weights and inputs, writes them as raw
// float32 files to a temporary folder and compiles Kiln's modules into build/bench/. Every engine
// runs in a fresh `node` process (bench/engines/<engine>.mjs): first once in check mode, where its
// outputs are compared with Kiln's (an engine that disagrees on a workload is reported and not
// timed), then once per round, rounds interleaved and the engine order rotated each round (Kiln,
// its relaxed-SIMD row and the peers the aims name: once per workload, side by side, see the
// rounds below). Each
// process reports per workload the median time of several timed samples after a warm-up (results
// are read back on every call); the report gives the median over rounds, min–max and Kiln's ratio.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { input, matmul, model as functionalModel } from '../src/index.ts';
import type { Model } from '../src/dsl/model.ts';
import { cnnOnnx, matmulOnnx, mlpOnnx } from './onnx-models.ts';
import { exportOnnx } from '../src/onnx/export.ts';
import { sequenceData, sequenceWorkloads, SEQUENCE_MODELS } from './models/lstm-and-transformer.ts';
import { historySection, historyText, loadHistory, mergeHistory, type Figure } from './history.ts';
import { machineDescription } from './machine.ts';
import { writeFileAtomicSync } from '../runtime/atomic-write.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const quick = argv.includes('--quick');
const rounds = Number(arg('--rounds') ?? (quick ? 2 : 5));
const sizes = quick ? [128, 256, 512] : [128, 256, 512, 1024, 2048];
const tolerance = 1e-3;

interface Engine { id: string; label: string; file: string; args?: string[]; nodeArgs?: string[] }
const allEngines: Engine[] = [
  { id: 'kiln', label: 'Kiln (js backend)', file: 'kiln.mjs' },
  { id: 'kiln-2t', label: 'Kiln (js backend, 2 threads)', file: 'kiln.mjs', args: ['--threads'] },
  // The fused multiply-add variant of every contraction, which Node 20 runs only under this flag
  // (Node 22+ and Chrome always): the engine refuses to time it unless the module reports it ran.
  { id: 'kiln-relaxed', label: 'Kiln (js backend, relaxed SIMD: node --experimental-wasm-relaxed-simd)', file: 'kiln.mjs', nodeArgs: ['--experimental-wasm-relaxed-simd'] },
  { id: 'handwritten', label: 'hand-written JavaScript (Float32Array loops)', file: 'handwritten.mjs' },
  { id: 'tfjs-cpu', label: '@tensorflow/tfjs-backend-cpu', file: 'tfjs.mjs', args: ['cpu'] },
  { id: 'tfjs-wasm', label: '@tensorflow/tfjs-backend-wasm (1 thread)', file: 'tfjs.mjs', args: ['wasm'] },
  { id: 'jax', label: '@jax-js/jax (wasm, jit, 1 thread)', file: 'jax.mjs' },
  { id: 'onnxruntime', label: 'onnxruntime-node (CPU, 1 thread)', file: 'onnxruntime.mjs' },
  { id: 'brain', label: 'brain.js', file: 'brain.mjs' },
  // PyTorch CPU (bench/torch/engine.py under the Python that has torch), one thread and two.
  { id: 'torch', label: 'PyTorch (CPU, 1 thread)', file: 'torch.mjs' },
  { id: 'torch-2t', label: 'PyTorch (CPU, 2 threads)', file: 'torch.mjs', args: ['--threads', '2'] },
];
const only = arg('--engines')?.split(',');
const engines = allEngines.filter((e) => !only || e.id === 'kiln' || only.includes(e.id));

interface Workload { id: string; title: string; kind: 'matmul' | 'infer' | 'train'; model?: string; n?: number; batch: number; unit: string }
const workloads: Workload[] = (<Workload[]>[
  ...sizes.map((n): Workload => ({ id: `mm${n}`, title: `matmul ${n}×${n}`, kind: 'matmul', n, batch: 1, unit: 'GFLOP/s' })),
  ...[1, 64, 1024].map((b): Workload => ({ id: `mlp-infer-b${b}`, title: `MLP 784-256-10 inference, batch ${b}`, kind: 'infer', model: 'mlp', batch: b, unit: 'samples/s' })),
  { id: 'mlp-train-b64', title: 'MLP 784-256-10 training step (Adam), batch 64', kind: 'train', model: 'mlp', batch: 64, unit: 'steps/s' },
  { id: 'cnn-infer-b64', title: 'CNN inference, batch 64', kind: 'infer', model: 'cnn', batch: 64, unit: 'samples/s' },
  { id: 'cnn-train-b64', title: 'CNN training step (Adam), batch 64', kind: 'train', model: 'cnn', batch: 64, unit: 'steps/s' },
  ...sequenceWorkloads,
]).filter((w) => !arg('--only') || arg('--only')!.split(',').some((p) => w.id.startsWith(p)));
const throughput = (w: Workload, seconds: number): number => (w.kind === 'matmul' ? (2 * w.n! ** 3) / seconds / 1e9 : w.kind === 'infer' ? w.batch / seconds : 1 / seconds);

// ---- shared weights and inputs -------------------------------------------------------------
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20261123);
const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-bench-'));
const tensors: Record<string, { dtype: 'float32' | 'int32'; shape: number[] }> = {};
const floats: Record<string, Float32Array> = {};
function put(key: string, shape: number[], fill: () => number, dtype: 'float32' | 'int32' = 'float32'): void {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = fill();
  writeFileSync(path.join(dir, `${key}.bin`), new Uint8Array(data.buffer));
  tensors[key] = { dtype, shape };
  if (data instanceof Float32Array) floats[key] = data;
}
const uniform = (limit: number) => () => (2 * rand() - 1) * limit;
const glorot = (key: string, shape: number[], fanIn: number, fanOut: number) => put(key, shape, uniform(Math.sqrt(6 / (fanIn + fanOut))));
// Kiln's layouts: dense kernels [in, out]; conv kernels OIHW; the CNN flattens NCHW.
glorot('mlp.w1', [784, 256], 784, 256); put('mlp.b1', [256], uniform(0.1));
glorot('mlp.w2', [256, 10], 256, 10); put('mlp.b2', [10], uniform(0.1));
glorot('cnn.wc', [32, 1, 3, 3], 9, 9 * 32); put('cnn.bc', [32], uniform(0.1));
glorot('cnn.w1', [5408, 128], 5408, 128); put('cnn.b1', [128], uniform(0.1));
glorot('cnn.w2', [128, 10], 128, 10); put('cnn.b2', [10], uniform(0.1));
put('x', [1024, 784], () => rand());
put('y', [64], () => Math.floor(rand() * 10), 'int32');
for (const n of sizes) { put(`mmA${n}`, [n, n], uniform(1)); put(`mmB${n}`, [n, n], uniform(1)); }
// The onnxruntime peer's models, hand-built with the same weights.
writeFileSync(path.join(dir, 'mlp.onnx'), mlpOnnx(floats));
writeFileSync(path.join(dir, 'cnn.onnx'), cnnOnnx(floats));
for (const n of sizes) writeFileSync(path.join(dir, `mm${n}.onnx`), matmulOnnx(n));
const paramKeys: Record<string, string[]> = { mlp: ['mlp.w1', 'mlp.b1', 'mlp.w2', 'mlp.b2'], cnn: ['cnn.wc', 'cnn.bc', 'cnn.w1', 'cnn.b1', 'cnn.w2', 'cnn.b2'] };
// The sequence models (LSTM, Transformer block): their weights, inputs and targets, and their ONNX
// files from Kiln's own exporter (the onnxruntime peer runs what Kiln exports).
const sequenceModels: Record<string, Model> = {};
for (const [name, file] of Object.entries(SEQUENCE_MODELS)) {
  const m = (await import(file)).default as Model;
  sequenceModels[name] = m;
  const { keys, weights } = sequenceData(name, m, { put, glorot, uniform, floats });
  paramKeys[name] = keys;
  writeFileSync(path.join(dir, `${name}.onnx`), exportOnnx(m.graph, weights));
}

// ---- Kiln's modules ------------------------------------------------------------------------
const buildDir = path.join(root, 'build/bench');
mkdirSync(buildDir, { recursive: true });
const kiln: Record<string, string> = {};
function emit(name: string, m: Model, training: boolean, loss?: { kind: 'mse' }): void {
  const output = m.graph.outputs[0].node.op;
  const compiled = compileModel(m.graph, {
    seed: 1,
    ...(training ? { training: { loss: loss ?? { kind: 'sparseCategoricalCrossEntropy', fromLogits: output !== 'softmax' }, optimizer: { kind: 'adam', lr: 1e-3 } } } : {}),
  } as Parameters<typeof compileModel>[1]);
  const file = path.join(buildDir, `${name}.mjs`);
  writeFileSync(file, compiled.js);
  kiln[name] = file;
}
const t0 = performance.now();
emit('mlp', (await import('./models/mlp.ts')).default as Model, true);
emit('cnn', (await import('../examples/cnn.ts')).default as Model, true);
for (const [name, m] of Object.entries(sequenceModels)) emit(name, m, true, name === 'transformer' ? { kind: 'mse' } : undefined);
for (const n of sizes) {
  const a = input([n, n], { batched: false, name: 'a' });
  const b = input([n, n], { batched: false, name: 'b' });
  emit(`mm${n}`, functionalModel({ name: `mm${n}`, inputs: [a, b], outputs: { c: matmul(a, b) } }), false);
}
console.error(`compiled Kiln's modules in ${((performance.now() - t0) / 1000).toFixed(1)} s; data in ${dir}`);

// ---- engine processes ----------------------------------------------------------------------
interface Cell { check?: number[]; median?: number; unsupported?: string; error?: string }
interface Report { engine: { name: string; version?: string }; results: Record<string, Cell> }
function spawnEngine(e: Engine, mode: 'check' | 'time', list: Workload[]): Report | string {
  const specFile = path.join(dir, `spec-${e.id}-${mode}.json`);
  writeFileSync(specFile, JSON.stringify({ dir, tensors, paramKeys, kiln, quick, mode, workloads: list }));
  const r = spawnSync(process.execPath, [...(e.nodeArgs ?? []), path.join(here, 'engines', e.file), specFile, ...(e.args ?? [])], {
    cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000, // tfjs-cpu's check of every workload passed 240 s on a loaded machine
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  const line = r.stdout?.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (line) return JSON.parse(line.slice(9)) as Report;
  const why = (r.error?.message ?? r.stderr ?? '').split('\n').filter((l) => /Error|error|Cannot/.test(l))[0] ?? `exit ${r.status}`;
  return why.trim().slice(0, 200);
}

/** max |a − b| / max |kiln|, over the compared values. */
function disagreement(ref: number[], got: number[]): number {
  if (ref.length !== got.length) return Infinity;
  let scale = 1e-6, err = 0;
  for (let i = 0; i < ref.length; i++) { scale = Math.max(scale, Math.abs(ref[i])); err = Math.max(err, Math.abs(ref[i] - got[i])); }
  return Number.isNaN(err) ? Infinity : err / scale;
}

const status = new Map<string, Map<string, string>>(); // engine → workload → why not timed
const versions = new Map<string, string>();
const checks = new Map<string, Report | string>();
for (const e of engines) {
  const s = performance.now();
  checks.set(e.id, spawnEngine(e, 'check', workloads));
  console.error(`check ${e.id}: ${((performance.now() - s) / 1000).toFixed(1)} s`);
}
const kilnCheck = checks.get('kiln');
if (kilnCheck === undefined || typeof kilnCheck === 'string') throw new Error(`Kiln's engine failed: ${kilnCheck}`);
const agreement = new Map<string, Map<string, number>>();
for (const e of engines) {
  const rep = checks.get(e.id)!;
  const st = new Map<string, string>();
  const ag = new Map<string, number>();
  status.set(e.id, st);
  agreement.set(e.id, ag);
  if (typeof rep === 'string') { for (const w of workloads) st.set(w.id, `cannot run: ${rep}`); continue; }
  if (rep.engine.version) versions.set(e.id, rep.engine.version);
  for (const w of workloads) {
    const c = rep.results[w.id];
    const ref = kilnCheck.results[w.id]?.check;
    if (!c) st.set(w.id, 'no result');
    else if (c.unsupported) st.set(w.id, c.unsupported);
    else if (c.error) st.set(w.id, `fails: ${c.error}`);
    else if (!ref) st.set(w.id, 'Kiln has no reference output');
    else {
      const d = disagreement(ref, c.check!);
      ag.set(w.id, d);
      if (!(d <= tolerance)) st.set(w.id, `disagrees with Kiln (max error ${d.toExponential(1)} of the output's scale)`);
    }
  }
}

/** Kiln's figures in the run issue 19's table quotes (one thread; GFLOP/s and samples/s), by workload id. */
const ISSUE_19_QUOTED: Readonly<Record<string, number>> = { mm1024: 17.9, mm512: 39.6, 'cnn-infer-b64': 6273, 'mlp-infer-b64': 90241 };

const times = new Map<string, Map<string, number[]>>();
/** Times engine `e` on `list` in one process and records each workload's throughput (or why not). */
function timeEngine(e: Engine, list: Workload[], r: number): void {
  if (list.length === 0) return;
  const s = performance.now();
  const rep = spawnEngine(e, 'time', list);
  console.error(`round ${r + 1}/${rounds} ${e.id}${list.length === 1 ? ` ${list[0].id}` : ''}: ${((performance.now() - s) / 1000).toFixed(1)} s`);
  if (typeof rep === 'string') { for (const w of list) status.get(e.id)!.set(w.id, `failed while timed: ${rep}`); return; }
  const m = times.get(e.id) ?? new Map<string, number[]>();
  times.set(e.id, m);
  for (const w of list) {
    const c = rep.results[w.id];
    if (c?.median) m.set(w.id, [...(m.get(w.id) ?? []), throughput(w, c.median)]);
    else status.get(e.id)!.set(w.id, `failed while timed: ${c?.error ?? 'no result'}`);
  }
}
const untimed = (e: Engine) => workloads.filter((w) => !status.get(e.id)!.has(w.id));
/**
 * The engines the aims compare Kiln with (issue 19: tfjs-backend-wasm, jax-js, onnxruntime), and
 * Kiln's relaxed-SIMD row, are timed with plain Kiln workload by workload: each workload in a fresh
 * process of each, seconds apart, their order rotated by round. One process per engine for every
 * workload put Kiln's and a peer's runs of a workload half a minute or more apart, and on the
 * shared machine a process's slow or fast spell carries over all its workloads: Kiln ÷ tfjs-wasm
 * on matmul 256 came out 0.94× in one 3-round run (Kiln 20.6–31.3 GFLOP/s across its rounds) while
 * both in one process measured 1.2–1.5×; the relaxed row came out 7-12 % behind plain on the LSTM
 * and the Transformer in one run, ahead by 11-21 % in another (same modules), and within 1 % in
 * processes of one workload each. The other engines run one process a round, as before.
 */
const ALONGSIDE = new Set(['kiln', 'kiln-relaxed', 'tfjs-wasm', 'jax', 'onnxruntime']);
for (let r = 0; r < rounds; r++) {
  const rotate = <T>(list: T[]) => list.map((_, i) => list[(i + r) % list.length]);
  for (const e of rotate(engines.filter((e) => !ALONGSIDE.has(e.id)))) timeEngine(e, untimed(e), r);
  const alongside = rotate(engines.filter((e) => ALONGSIDE.has(e.id)));
  for (const w of workloads) for (const e of alongside) timeEngine(e, untimed(e).filter((u) => u === w), r);
}

// ---- report --------------------------------------------------------------------------------
const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const fmt = (v: number) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));

const lines: string[] = [];
lines.push('# Kiln against its peers', '');
lines.push(`- Command: \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\``);
lines.push(`- Date: ${new Date().toISOString()}`);
lines.push(`- Machine: ${machineDescription()}, Node ${process.version}`);
lines.push(`- ${rounds} interleaved round${rounds === 1 ? '' : 's'} (engine order rotated each round); Kiln, its relaxed-SIMD row, tfjs-backend-wasm, jax-js and onnxruntime timed workload by workload, each workload in a fresh process of each, seconds apart, their order rotated by round; every other engine in a fresh process per round for all its workloads; per round the median of several timed samples after warm-up, results read back on every call. Cells: median over rounds (min–max). Ratios = Kiln's throughput (one thread, and two threads with a \`ThreadPool\`) / the engine's (> 1: Kiln faster).`);
lines.push(`- Same seeded Glorot-uniform weights and inputs in every engine; before timing, each engine's outputs (inference outputs, matmul products, the losses of three consecutive training steps) are compared with Kiln's: max |difference| ≤ ${tolerance} × the largest |value| or the workload is not timed for that engine.`);
lines.push('');
// Kiln's figures beside those of the previous full run (bench/history.json), which a full run updates.
const historyFile = path.join(here, 'history.json');
const history = loadHistory(historyFile);
const figures: Figure[] = workloads.flatMap((w) => ['kiln', 'kiln-2t'].flatMap((engine): Figure[] => {
  const v = times.get(engine)?.get(w.id);
  return v && !status.get(engine)?.get(w.id) ? [{ engine, workload: w.id, title: w.title, unit: w.unit, value: median(v) }] : [];
}));
lines.push(...historySection(history, figures, workloads, fmt));
lines.push(...goalSection());
for (const w of workloads) {
  lines.push(`## ${w.title} (${w.unit})`, '');
  lines.push('| engine | median | min–max | Kiln ÷ engine | Kiln 2 threads ÷ engine | agreement with Kiln |', '|---|---:|---:|---:|---:|---|');
  const medianOf = (id: string) => {
    const v = times.get(id)?.get(w.id);
    return v && !status.get(id)?.get(w.id) ? median(v) : undefined;
  };
  const [km, k2] = [medianOf('kiln'), medianOf('kiln-2t')];
  for (const e of engines) {
    const v = times.get(e.id)?.get(w.id);
    const why = status.get(e.id)!.get(w.id);
    const ag = agreement.get(e.id)!.get(w.id);
    const agText = e.id === 'kiln' ? 'reference' : ag === undefined ? '' : `${ag.toExponential(1)}`;
    const name = `${e.label}${versions.get(e.id) ? ` ${versions.get(e.id)}` : ''}`;
    if (!v || why) { lines.push(`| ${name} | — | — | — | — | ${why ?? 'not timed'} |`); continue; }
    const m = median(v);
    const ratio = (k: number | undefined, self: string) => (e.id === self || k === undefined ? '' : `${(k / m).toFixed(2)}×`);
    lines.push(`| ${name} | ${fmt(m)} | ${fmt(Math.min(...v))}–${fmt(Math.max(...v))} | ${ratio(km, 'kiln')} | ${ratio(k2, 'kiln-2t')} | ${agText} |`);
  }
  lines.push('');
}
const notes = readNotes();
if (notes) lines.push('## Notes', '', notes, '');
const text = lines.join('\n');
// A partial run (--only) leaves the full report alone: its tables go to results-partial.md.
writeFileSync(path.join(here, arg('--only') ? 'results-partial.md' : 'results.md'), text);
if (!arg('--only')) writeFileAtomicSync(historyFile, historyText(mergeHistory(history, figures, new Date().toISOString(), `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`)));
console.log(text);
rmSync(dir, { recursive: true, force: true });
// Start-up costs (compile time, import → first predict) in fresh processes: bench/startup.md.
if (!arg('--only')) spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'startup.ts')], { stdio: 'inherit' });

/** Issue 19's ratios in one table, each from this run's medians (one thread each). */
function goalSection(): string[] {
  const medianOf = (id: string, w: Workload) => {
    const v = times.get(id)?.get(w.id);
    return v && !status.get(id)?.get(w.id) ? median(v) : undefined;
  };
  const ratio = (a: string, b: string, w: Workload) => {
    const [x, y] = [medianOf(a, w), medianOf(b, w)];
    return x === undefined || y === undefined ? '—' : `${(x / y).toFixed(2)}×`;
  };
  return [
    '## Ratios against the aims (medians of this run, one thread each)', '',
    'Aims (issue 19): Kiln ≥ 1.0× tfjs-backend-wasm and jax-js everywhere (matmul 1024 ≥ 1.3×, CNN inference ≥ 1.2×); with relaxed SIMD, every inference cell ≥ 0.25× onnxruntime.', '',
    'Kiln ÷ the run issue 19 quotes: this run\'s Kiln median over the Kiln figure of the four workloads the issue\'s table gives ("no workload slower than in the run quoted").', '',
    '| workload | Kiln ÷ tfjs-wasm | Kiln ÷ jax-js | Kiln relaxed SIMD ÷ onnxruntime | Kiln ÷ onnxruntime | Kiln ÷ the run issue 19 quotes |', '|---|---:|---:|---:|---:|---:|',
    ...workloads.map((w) => {
      const quoted = ISSUE_19_QUOTED[w.id];
      const today = medianOf('kiln', w);
      const sinceQuoted = quoted === undefined || today === undefined ? '—' : `${(today / quoted).toFixed(2)}×`;
      return `| ${w.title} | ${ratio('kiln', 'tfjs-wasm', w)} | ${ratio('kiln', 'jax', w)} | ${ratio('kiln-relaxed', 'onnxruntime', w)} | ${ratio('kiln', 'onnxruntime', w)} | ${sinceQuoted} |`;
    }),
    '',
  ];
}

function readNotes(): string {
  return [
    "- Kiln: the emitted module (`bench/engines/kiln.mjs`); inference inputs and the products' operands are copied once into the model's memory before the clock (`model.memory.alloc`, docs/emitted-module.md), as the peers' are tensors made before it; an array outside that memory would be copied in on every call (2–3 % of the MLP's prediction at batch 1024). Training steps take plain arrays.",
    "- Kiln (relaxed SIMD): the same module in a process started with `--experimental-wasm-relaxed-simd` (Node 20 has relaxed SIMD only behind it; Node 22+ and Chrome always), where it runs the fused multiply-add variant of every contraction (the engine checks `model.memory.relaxed`); results agree with the plain kernels to rounding, not bit for bit (docs/emitted-module.md). Issue 19's 0.25× onnxruntime aim is read from this row.",
    '- onnxruntime-node: inference only (no training step); `bench/onnx-models.ts` builds the .onnx files by hand with the same weights, independently of Kiln\'s own exporter (encoded with Kiln\'s protobuf codec, src/onnx/proto.ts); CPU execution provider, 1 intra-op thread, all graph optimisations.',
    '- Kiln (2 threads): the same module with a `ThreadPool` (runtime/parallel.ts); results are bit-identical to one thread.',
    '- hand-written JavaScript: `bench/engines/handwritten.mjs`, what a careful engineer writes by hand without a compiler: plain loops over Float32Array buffers allocated once per workload; every matrix product a 4×4 register tile (16 scalar accumulators, k innermost); in the forward products the weights are packed into 4-column panels (once, for inference), k is blocked by 256 and bias and ReLU are applied as each tile is stored; the backward products read their transposed operands through strides; conv + bias + ReLU + 2×2 max-pool fused in one pass; the backward passes (max-pool gradient to the winning window, ReLU masks, conv filter and bias gradients) and Adam written out by hand. One thread, no WebAssembly or SIMD.',
    "- brain.js: MLP inference only. Its `NeuralNetwork` applies the hidden activation to the output layer too, so the engine adds 100 to the output biases (ReLU is then the identity on the logits) and applies the softmax in JavaScript; softmax is shift-invariant, so the outputs are the same. Its training (per-sample SGD with momentum on MSE, no Adam or cross-entropy) is not the same workload and is not timed.",
    '- TensorFlow.js: `@tensorflow/tfjs-core` with the CPU or WebAssembly backend (1 thread in Node); the union package `@tensorflow/tfjs` is loaded only because it registers the gradient functions that training needs. Adam with ε = 1e-8 as in Kiln. tfjs-backend-wasm has no `Conv2DBackpropFilter` kernel, so its CNN training step fails.',
    '- @jax-js/jax: wasm device, every function under `jit()`; Adam is written out in jax-js ops (its optimizers are in another package); max pooling as a reshape and max. Sequence workloads (`bench/engines/jax-sequence.mjs`): jax-js 0.1.25 has no `lax.scan` or `fori_loop`, so the LSTM\'s steps are a JavaScript loop that `jit` unrolls; the encoder block in jax-js ops as tfjs-sequence.mjs writes it.',
    "- PyTorch: `bench/torch/engine.py` under the first python3 that imports torch (`KILN_BENCH_PYTHON`, else /usr/bin/python3, Debian's python3-torch: `npm run bench:setup -- --torch`; without it the rows say so and are skipped), CPU, `torch.set_num_threads` 1 or 2 (OpenMP workers waiting passively). The same weights and inputs in Kiln's layouts: `torch.addmm` and `F.conv2d`/`F.max_pool2d` for the MLP and CNN, PyTorch's own `nn.LSTM` (its second bias held at zero and out of the optimizer) and `nn.TransformerEncoderLayer` (post-norm, no dropout) for the sequence workloads; inference under `torch.inference_mode()`, training with `torch.optim.Adam` (ε = 1e-8). Its version cell names the BLAS that `torch.mm` loaded: Debian's python3-torch links the generic libblas.so.3, which is the unoptimised reference BLAS unless OpenBLAS is installed (bench:setup --torch installs libopenblas0-openmp).",
  ].join('\n');
}
