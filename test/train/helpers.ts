// Shared helpers for the training tests: compile a model with a training spec, write the
// emitted module under test/.out/train-<name>/ and import it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileModel } from '../../compiler/compile.ts';
import type { TrainingSpec } from '../../compiler/train/step.ts';
import type { Graph } from '../../src/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const outRoot = resolve(here, '..', '.out');

export interface WeightTensorLike {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TrainerLike {
  step(x: Float32Array, labels: Float32Array | Int32Array, batch: number): number;
  predict(x: Float32Array, batch: number): Float32Array;
  getWeights(): WeightTensorLike[];
  getState(): WeightTensorLike[];
  setWeights(w: Record<string, Float32Array> | Uint8Array): void;
  setState(s: Record<string, Float32Array> | Uint8Array): void;
  steps: number;
  lr: number;
}

export interface TrainingModule {
  createTrainer(options?: { weights?: Record<string, Float32Array> | Uint8Array; state?: Record<string, Float32Array> | Uint8Array; seed?: number; lr?: number }): TrainerLike;
}

/** Compiles `graph` for training and imports the emitted module (one file per `name`). */
export async function compileTrainer(name: string, graph: Graph, training: TrainingSpec, seed = 1): Promise<TrainingModule> {
  const c = compileModel(graph, { seed, training });
  const dir = join(outRoot, `train-${name}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${graph.name}.js`);
  writeFileSync(file, c.js);
  writeFileSync(join(dir, `${graph.name}.ts`), c.ts);
  return (await import(pathToFileURL(file).href + `?v=${Date.now()}`)) as TrainingModule;
}
