// Support for the mode-* and trainer-* tests: the full emitted trainer interface (fit, evaluate,
// save, load on top of helpers.ts's TrainerLike), deterministic data, and float64 references.
import type { TrainingSpec } from '../../compiler/train/step.ts';
import type { SampleSource } from '../../runtime/sample-source.ts';
import type { Dataset, Evaluation, FitOptions, History } from '../../runtime/train-loop.ts';
import type { Graph } from '../../src/index.ts';
import { compileTrainer, type TrainerLike } from './helpers.ts';

export interface FullTrainer extends TrainerLike {
  fit(data: Dataset | SampleSource, options: FitOptions): History;
  fitAsync(data: Dataset | SampleSource, options: FitOptions): Promise<History>;
  evaluate(data: Dataset | SampleSource, batchSize?: number, metrics?: readonly string[]): Evaluation;
  epochs: number;
  epochBatch: number;
  save(): Uint8Array;
  load(bytes: Uint8Array | ArrayBuffer): void;
}

export type TrainerOptions = { weights?: Record<string, Float32Array> | Uint8Array; state?: Record<string, Float32Array> | Uint8Array; seed?: number; lr?: number };

/** Compiles `graph` for training; returns its `createTrainer`, typed with the whole trainer API. */
export async function trainerFactory(name: string, graph: Graph, spec: TrainingSpec, seed = 1): Promise<(options?: TrainerOptions) => FullTrainer> {
  const mod = await compileTrainer(name, graph, spec, seed);
  return (options) => mod.createTrainer(options) as FullTrainer;
}

/** A 32-bit LCG (Numerical Recipes constants) giving floats in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `n` float32 values uniform in [lo, hi) from an LCG seeded with `seed`. */
export function uniformArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const u = lcg(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

/** The trainer's weights by name (copies). */
export function weightRecord(t: TrainerLike): Record<string, Float32Array> {
  return Object.fromEntries(t.getWeights().map((w) => [w.name, w.data.slice()]));
}

/**
 * A fresh copy of a weight record. createTrainer({ weights }) keeps the record's arrays as its
 * own storage (training writes into them), so each trainer gets its own copy.
 */
export function copyRecord(r: Record<string, Float32Array>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.slice()]));
}

/** y = x·W + b in float64; x is [rows, inF], W is [inF, outF] (Keras layout), b is [outF] or absent. */
export function denseRef(x: ArrayLike<number>, rows: number, inF: number, kernel: ArrayLike<number>, outF: number, bias?: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let v = bias ? bias[o] : 0;
      for (let i = 0; i < inF; i++) v += x[r * inF + i] * kernel[i * outF + o];
      y[r * outF + o] = v;
    }
  return y;
}

/** mean((y - t)²) in float64. */
export function mseRef(y: ArrayLike<number>, t: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] - t[i]) ** 2;
  return s / y.length;
}
