// Shared by every engine process: reads the run spec and the shared weights/inputs, checks or
// times each workload and prints one JSON line to stdout. Usage: node <engine>.mjs <spec.json>
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

export const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));

/** A shared tensor by key, as written by bench/run.ts (raw little-endian float32 or int32). */
export function load(key) {
  const t = spec.tensors[key];
  const buf = readFileSync(path.join(spec.dir, `${key}.bin`));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return { data: t.dtype === 'int32' ? new Int32Array(ab) : new Float32Array(ab), shape: t.shape };
}

/** At most 256 evenly strided values of an output, as plain numbers. */
export function sample(a) {
  const arr = Array.from(a);
  if (arr.length <= 640) return arr;
  const stride = Math.floor(arr.length / 256);
  const out = [];
  for (let i = 0; i < 256; i++) out.push(arr[i * stride]);
  return out;
}

/** Seconds a sample aims at: k calls of the workload, k grown until a sample takes at least half of it. */
const SAMPLE = 0.005;

/**
 * Median seconds per call: warm-up, then samples of k calls each until the time budget is spent
 * (or 200 samples). k starts from the second call's time and doubles while a sample takes under
 * half of SAMPLE: the first calls of a fast workload still run in an engine's baseline tier, and
 * a k taken from them alone made 200 samples fill 0.2-0.7 s of the 1.2 s budget.
 */
async function time(fn) {
  const budget = spec.quick ? 0.4 : 1.2;
  const minSamples = spec.quick ? 3 : 5;
  let t0 = performance.now();
  await fn();
  let one = (performance.now() - t0) / 1000;
  if (one < 0.5) { t0 = performance.now(); await fn(); one = (performance.now() - t0) / 1000; }
  let k = Math.max(1, Math.ceil(SAMPLE / Math.max(one, 1e-7)));
  const samples = [];
  const start = performance.now();
  while (samples.length < minSamples || ((performance.now() - start) / 1000 < budget && samples.length < 200)) {
    const s = performance.now();
    for (let i = 0; i < k; i++) await fn();
    const took = (performance.now() - s) / 1000;
    samples.push(took / k);
    if (took < SAMPLE / 2) k *= 2;
  }
  samples.sort((a, b) => a - b);
  return { median: samples[samples.length >> 1], samples: samples.length, callsPerSample: k };
}

/**
 * Runs the engine. `setup(workload)` returns `{ check(): number[], run(): void }` (both read their
 * results back) or throws / returns a string saying why the engine cannot run that workload.
 */
export async function main(engine, setup) {
  const out = { engine, version: engine.version, results: {} };
  for (const w of spec.workloads) {
    try {
      const impl = await setup(w);
      if (typeof impl === 'string') { out.results[w.id] = { unsupported: impl }; continue; }
      if (spec.mode === 'check') out.results[w.id] = { check: (await impl.check()).map(Number) };
      else out.results[w.id] = await time(impl.run);
      if (impl.dispose) await impl.dispose();
    } catch (e) {
      out.results[w.id] = { error: String(e && e.message ? e.message : e).split('\n')[0].slice(0, 200) };
    }
  }
  process.stdout.write(`\n@@RESULT ${JSON.stringify(out)}\n`);
  process.exit(0);
}

/** The installed version of a peer package (read from bench/node_modules, whatever its "exports"). */
export function version(pkg) {
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'node_modules', pkg, 'package.json');
  return JSON.parse(readFileSync(file, 'utf8')).version;
}
