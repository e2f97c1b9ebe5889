// In the benchmark page: reads the run spec and the shared tensors from the server, checks or
// times each workload of one engine and leaves one JSON result on `globalThis.benchResult`
// (the driver, bench/browser/run.ts, waits for it). The browser counterpart of bench/engines/common.mjs.

export interface Workload { id: string; kind: 'matmul' | 'infer' | 'train'; model?: 'mlp' | 'cnn'; n?: number; batch: number }
export interface Spec {
  mode: 'check' | 'time';
  quick: boolean;
  workloads: Workload[];
  tensors: Record<string, { dtype: 'float32' | 'int32'; shape: number[] }>;
  paramKeys: Record<string, string[]>;
}
/** What an engine offers for one workload: both read their results back before returning. */
export interface Impl { check(): Promise<number[]> | number[]; run(): Promise<unknown> | unknown; dispose?(): unknown }
export interface Cell { check?: number[]; median?: number; samples?: number; unsupported?: string; error?: string }

const params = new URLSearchParams(location.search);
/** The engine variant the driver asked for (`?variant=webgl`). */
export const variant = params.get('variant') ?? '';
// Set by main() before any engine code runs (an iife bundle has no top-level await).
let spec: Spec;

/** A shared tensor by key (raw little-endian float32 or int32, written by bench/browser/data.ts). */
export async function load(key: string): Promise<{ data: Float32Array | Int32Array; shape: number[] }> {
  const t = spec.tensors[key];
  if (!t) throw new Error(`no tensor '${key}' in the spec`);
  const buf = await (await fetch(`data/${key}.bin`)).arrayBuffer();
  return { data: t.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf), shape: t.shape };
}
export const loadF32 = async (key: string) => (await load(key)).data as Float32Array;
export const paramKeys = (model: string): string[] => spec.paramKeys[model];

/** At most 256 evenly strided values of an output, as plain numbers (bench/engines/common.mjs's rule). */
export function sample(a: ArrayLike<number>): number[] {
  const arr = Array.from(a, Number);
  if (arr.length <= 640) return arr;
  const stride = Math.floor(arr.length / 256);
  return Array.from({ length: 256 }, (_, i) => arr[i * stride]);
}

/** Median seconds per call: warm-up, then samples of k calls each until the time budget is spent. */
async function time(fn: () => unknown): Promise<Cell> {
  const budget = spec.quick ? 0.3 : 1.0;
  const minSamples = spec.quick ? 3 : 5;
  let t0 = performance.now();
  await fn();
  let one = (performance.now() - t0) / 1000;
  // A second warm-up call unless the first was already long (shader compiles, wasm tier-up).
  if (one < 0.5) { t0 = performance.now(); await fn(); one = (performance.now() - t0) / 1000; }
  // Software GPUs can take seconds a call (matmul 1024 on SwiftShader): fewer samples then.
  const wanted = one > 1 ? 2 : minSamples;
  let k = Math.max(1, Math.ceil(0.005 / Math.max(one, 1e-7)));
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < wanted || ((performance.now() - start) / 1000 < budget && samples.length < 200)) {
    const s = performance.now();
    for (let i = 0; i < k; i++) await fn();
    const took = (performance.now() - s) / 1000;
    samples.push(took / k);
    // k doubles while a sample takes under 2.5 ms (bench/engines/common.mjs says why).
    if (took < 0.0025) k *= 2;
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], samples: samples.length };
}

// The message on one line: a shader compiler's own error is on the lines after the first.
const firstLine = (e: unknown) => String(e instanceof Error ? e.message : e).replace(/\s+/g, ' ').trim().slice(0, 240);

export interface Engine {
  /** Starts the engine's backend (once, before the first workload). */
  init?(): Promise<void>;
  /** An Impl for the workload, or a string saying why the engine cannot run it. */
  setup(w: Workload): Promise<Impl | string>;
  /** The engine, its version and the backend it really ran on (asked after the workloads). */
  info(): Promise<Record<string, string>> | Record<string, string>;
}

/** Runs the engine over the spec's workloads and leaves the result for the driver. */
export async function main(e: Engine): Promise<void> {
  const results: Record<string, Cell> = {};
  let engine: Record<string, string> = {};
  try {
    spec = await (await fetch(`${params.get('spec')}.json`)).json();
    await e.init?.();
    const setup = e.setup, info = e.info;
    for (const w of spec.workloads) {
      try {
        const impl = await setup(w);
        if (typeof impl === 'string') { results[w.id] = { unsupported: impl }; continue; }
        results[w.id] = spec.mode === 'check' ? { check: (await impl.check()).map(Number) } : await time(() => impl.run());
        await impl.dispose?.();
      } catch (e) {
        results[w.id] = { error: firstLine(e) };
      }
    }
    engine = await info();
  } catch (e) {
    engine = { error: firstLine(e) };
  }
  (globalThis as unknown as { benchResult: unknown }).benchResult = { engine, results };
}
