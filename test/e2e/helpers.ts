// End-to-end helpers: output folders under test/.out, importing emitted modules, seeded inputs and weights.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Graph } from '../../src/ir/graph.ts';
import { decodeWeights, encodeWeights } from '../../runtime/weights.ts';
import { Lcg } from '../reference/lcg.ts';

/** The repository root (where package.json and bin/ live). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A fresh, empty folder `test/.out/<name>` (inside the package, so `kiln/runtime` resolves). */
export function freshOutDir(name: string): string {
  const dir = path.join(ROOT, 'test', '.out', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export type Arrays = Float32Array | Float64Array | Int32Array;

/** What an emitted module exports (the parts the tests use). */
export interface EmittedModule {
  modelName: string;
  inputs: readonly { name: string; dtype: string; shape: readonly (number | 'N')[] }[];
  outputs: readonly { name: string; dtype: string; shape: readonly (number | 'N')[] }[];
  parameters: readonly { name: string; shape: readonly number[] }[];
  createModel(weights?: unknown, options?: { seed?: number }): {
    predict(input: unknown, batch: number): Float32Array;
    run(feeds: Record<string, unknown>, batch: number): Record<string, Arrays>;
    getWeights(): { name: string; data: Float32Array }[];
  };
}

/** Imports an emitted `.js` module by absolute path. */
export async function importModule(file: string): Promise<EmittedModule> {
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as EmittedModule;
}

/** The default export's graph of `examples/<name>.ts`. */
export async function loadExampleGraph(name: string): Promise<Graph> {
  const mod = (await import(`../../examples/${name}.ts`)) as { default: { graph: Graph } };
  return mod.default.graph;
}

export function randomFloats(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = new Lcg(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/**
 * A weight file like `initial` but with every all-zero tensor (Keras-style biases) filled with
 * small seeded values, so that biases take part in the comparison; also the arrays by name.
 */
export function randomizeZeroTensors(initial: Uint8Array, seed: number): { bytes: Uint8Array; byName: Record<string, Float32Array> } {
  const { tensors, meta } = decodeWeights(initial);
  const rng = new Lcg(seed);
  const out = tensors.map((t) => {
    const data = t.data as Float32Array;
    if (!data.every((v) => v === 0)) return t;
    return { ...t, data: Float32Array.from(data, () => rng.uniform(-0.1, 0.1)) };
  });
  return { bytes: encodeWeights(out, meta), byName: Object.fromEntries(out.map((t) => [t.name, t.data as Float32Array])) };
}

/** Elements per sample of a (possibly batched) shape. */
export const perSample = (shape: readonly (number | 'N')[]): number => shape.reduce<number>((p, d) => p * (d === 'N' ? 1 : d), 1);

/** What a `kiln` process printed and how it exited. */
export interface KilnRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/kiln.js ...args` in the repository root. Each call is one process (~1 s). */
export function kiln(...args: string[]): Promise<KilnRun> {
  return kilnIn(ROOT, ...args);
}

/** Runs `node <repo>/bin/kiln.js ...args` with `cwd` as the working folder. */
export function kilnIn(cwd: string, ...args: string[]): Promise<KilnRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'kiln.js'), ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A run's exit code and output, for assertion messages. */
export const showRun = (r: KilnRun) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
