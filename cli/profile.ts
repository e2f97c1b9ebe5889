// `kiln profile`: compiles a model with per-kernel timing, runs warm calls on seeded inputs and
// reports where the time goes, per kernel and per layer (compiler/inspect/profile.ts).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { formatProfile, profileReport, type ProfiledEntry, type ProfileReport } from '../compiler/inspect/profile.ts';
import { buildGraphDoc } from '../compiler/inspect/graph-doc.ts';
import { compileGraph } from '../compiler/pipeline.ts';
import { unrollScans } from '../compiler/passes/unroll-scans.ts';
import { buildTrainingGraph, type TrainingSpec } from '../compiler/train/step.ts';
import { writeFileAtomicSync } from '../runtime/atomic-write.ts';
import { resolveOptional } from '../runtime/optional-package.ts';
import { TIMED_GPU_MODES } from '../compiler/emit/gpujs/profile.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';
import { loadModel } from './load.ts';
import { writeReport } from './report/html.ts';
import { resolveLoss, resolveOptimizer } from './training-spec.ts';

export interface ProfileCliOptions {
  train?: boolean;
  batch?: number;
  backend?: string;
  /** With --backend gpujs: GPU.js's mode, cpu or webasm (default: GPU.js's choice). */
  gpuMode?: string;
  runs?: number;
  warmup?: number;
  optimizer?: string;
  loss?: string;
}

type Arrays = Float32Array | Float64Array | Int32Array;
interface Info {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly (number | string)[];
}
/** The exports of a module compiled with `profile: true` that profiling uses. */
interface ProfiledModule {
  inputs: readonly Info[];
  labelInfo?: Info;
  kernelTimes: Record<string, { ms: number; calls: number }>;
  resetKernelTimes(): void;
  createModel(weights: Uint8Array, options?: { mode?: string }): { run(feeds: Record<string, Arrays>, batch: number): unknown };
  createTrainer?(options: { weights: Uint8Array; seed: number; mode?: string }): { step(x: Arrays, labels: Arrays, batch: number): number };
}

/** A seeded array for one tensor at `batch`: floats in [0, 1), integers 0 (a valid index and class id). */
function sampleArray(info: Info, batch: number, seed: number): Arrays {
  const n = info.shape.reduce<number>((s, d) => s * (typeof d === 'number' ? d : batch), 1);
  if (info.dtype === 'int32') return new Int32Array(n);
  if (info.dtype === 'string') throw new KilnError(`kiln profile: input '${info.name}' holds strings; profile needs numeric inputs`);
  const a = info.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    // xorshift32: cheap, seeded, independent of the model.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = (s >>> 0) / 4294967296;
  }
  return a;
}

function positive(name: string, v: number | undefined, fallback: number): number {
  const n = v ?? fallback;
  if (!Number.isInteger(n) || n < 1) throw new KilnError(`kiln profile: ${name} must be a positive integer (got ${n})`);
  return n;
}

/** Times `calls` calls of `f` after `warmup` untimed ones; the module's kernel table is reset in between. */
function measure(mod: ProfiledModule, f: () => void, warmup: number, calls: number): number {
  for (let i = 0; i < warmup; i++) f();
  mod.resetKernelTimes();
  let total = 0;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    f();
    total += performance.now() - t0;
  }
  return total / calls;
}

/** Each entry point's program (kernels and loops), rebuilt as compileModel builds it (same prefixes; GPU.js: scans unrolled). */
function entries(graph: Graph, training: TrainingSpec | undefined, backend: string): ProfiledEntry[] {
  const of = (entry: string, g: Graph, prefix: string): ProfiledEntry => ({ entry, program: compileGraph(backend === 'gpujs' ? unrollScans(g) : g, prefix).program });
  if (!training) return [of('model', graph, 'k')];
  const t = buildTrainingGraph(graph, training);
  return [of('step', t.graph, 't')];
}

/** The GPU.js mode to demand: only cpu and webasm run a kernel to its end before the call returns. */
function gpuMode(backend: string, mode: string | undefined): string | undefined {
  if (mode === undefined) return undefined;
  if (backend !== 'gpujs') throw new KilnError(`kiln profile: --gpu-mode applies to --backend gpujs only (got --backend ${backend})`);
  if (!(TIMED_GPU_MODES as readonly string[]).includes(mode)) {
    throw new KilnError(`kiln profile: --gpu-mode must be ${TIMED_GPU_MODES.join(' or ')} (got '${mode}'): on WebGL, GPU.js runs kernels pipelined on the GPU, so a kernel call returns before its work is done and its time cannot be attributed`);
  }
  return mode;
}

/** A profiled GPU.js module refuses WebGL modes (GPU.js's choice when none is given): said as a CLI error. */
function timedMode<T>(mode: string | undefined, create: () => T): T {
  try {
    return create();
  } catch (e) {
    const message = (e as Error).message;
    if (mode === undefined && /needs GPU\.js's cpu or webasm mode/.test(message)) {
      throw new KilnError(`kiln profile --backend gpujs: ${message.replace(/; create it with .*$/, '')}; give --gpu-mode cpu or webasm`);
    }
    throw e;
  }
}

/** `dir/node_modules/gpu.js` → the gpu.js Kiln resolves, so the standalone module's one import resolves from `dir`. */
function linkGpuJs(dir: string) {
  const pkg = path.dirname(resolveOptional('gpu.js/package.json', 'kiln profile --backend gpujs'));
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(pkg, path.join(dir, 'node_modules', 'gpu.js'), 'dir');
}

/** Compiles `file` with timing, runs it and returns the report. */
export async function profileModel(file: string, o: ProfileCliOptions): Promise<ProfileReport> {
  return (await profileRun(file, o)).report;
}

/** The report, and the graph and training spec it was measured on (for the HTML report's document). */
async function profileRun(file: string, o: ProfileCliOptions): Promise<{ report: ProfileReport; graph: Graph; training?: TrainingSpec }> {
  const backend = o.backend ?? 'js';
  if (backend !== 'js' && backend !== 'gpujs') throw new KilnError(`kiln profile: unknown --backend '${backend}' (expected js or gpujs)`);
  const mode = gpuMode(backend, o.gpuMode);
  const batch = positive('--batch', o.batch, 32);
  const runs = positive('--runs', o.runs, 10);
  const warmup = o.warmup ?? 2;
  const { graph, weights: initialWeights } = await loadModel(file);
  const training = o.train ? { loss: resolveLoss(graph, o.loss ?? 'auto'), optimizer: resolveOptimizer(o.optimizer ?? 'adam', 1e-3) } : undefined;
  const c = compileModel(graph, { training, initialWeights, profile: true, standalone: true, backend });
  // Standalone, the module imports nothing (GPU.js's: only gpu.js), so it runs from a temporary folder anywhere.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-profile-'));
  try {
    if (backend === 'gpujs') linkGpuJs(dir);
    const js = path.join(dir, 'model.mjs');
    writeFileAtomicSync(js, c.js);
    const mod = (await import(pathToFileURL(js).href)) as ProfiledModule;
    let callMs: number;
    if (training) {
      const trainer = timedMode(mode, () => mod.createTrainer!({ weights: c.weights, seed: 0, mode }));
      const x = sampleArray(mod.inputs[0], batch, 1);
      const labels = sampleArray(mod.labelInfo!, batch, 2);
      callMs = measure(mod, () => void trainer.step(x, labels, batch), warmup, runs);
    } else {
      const model = timedMode(mode, () => mod.createModel(c.weights, { mode }));
      const feeds = Object.fromEntries(mod.inputs.map((info, i) => [info.name, sampleArray(info, batch, i + 1)]));
      callMs = measure(mod, () => void model.run(feeds, batch), warmup, runs);
    }
    const report = profileReport({ model: c.name, backend, batch, runs, train: !!training, callMs }, entries(graph, training, backend), mod.kernelTimes);
    return { report, graph, training };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `kiln profile` as text, JSON, or the HTML report with the times (`--format html --out <file>`). */
export async function profileCommand(file: string, o: ProfileCliOptions & { json?: boolean; format?: string; out?: string }): Promise<string> {
  const format = o.json ? 'json' : (o.format ?? 'text');
  if (!['text', 'json', 'html'].includes(format)) throw new KilnError(`kiln profile: unknown format '${format}' (available: text, json, html)`);
  if (format === 'html' && !o.out) throw new KilnError('kiln profile --format html writes a file: give it with --out <file>');
  const { report, graph, training } = await profileRun(file, o);
  if (format === 'html') {
    writeReport(o.out!, buildGraphDoc(graph, { sources: true, training, batch: report.batch }), report);
    return `wrote ${o.out}`;
  }
  const text = format === 'json' ? JSON.stringify(report, null, 2) : formatProfile(report);
  if (!o.out) return text;
  writeFileAtomicSync(o.out, text + '\n');
  return `wrote ${o.out}`;
}
