// kiln train's one call for its data: the model file's data() export when there is no --data, else --data; checked, split, described.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LossSpec } from '../../compiler/train/losses.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { prepareTrainingData, resolveRaw, type DataOptions, type ModuleData, type TrainingData } from './prepare.ts';

export type { DataOptions, TrainingData } from './prepare.ts';

const SCRIPT = /\.(ts|mts|cts|js|mjs|cjs)$/;

/**
 * The model file's `data` export, if it has one. The file was imported by loadModel already:
 * importing the same URL again returns the cached module (nothing runs twice).
 */
export async function moduleDataExport(file: string): Promise<((options: { seed: number }) => ModuleData) | undefined> {
  if (!SCRIPT.test(file)) return undefined;
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { data?: unknown };
  if (mod.data === undefined) return undefined;
  if (typeof mod.data !== 'function') throw new KilnError(`${file}: its 'data' export must be a function ({ seed }) => { train: { x, y, count }, validation?, test? }, got a ${typeof mod.data}`);
  return mod.data as (options: { seed: number }) => ModuleData;
}

/** Loads, checks and splits the data of `kiln train file` for `graph` under `loss`. */
export async function loadTrainingData(file: string, graph: Graph, loss: LossSpec, o: DataOptions, seed: number): Promise<TrainingData> {
  const data = o.data === undefined || o.data === '' ? await moduleDataExport(file) : undefined;
  return prepareTrainingData(graph, loss, o, resolveRaw(o, { file, data }, seed));
}

/** The run's line about its data, e.g. `training on 900 samples of x.npy (read in chunks), validating on the last 100 (--validation-split 0.1)`. */
export function describeTraining(d: TrainingData): string {
  const val = d.validation ? `, validating on ${d.validationNote ?? `${d.validation.count} samples`}` : '';
  return `training on ${d.train.count} samples of ${d.description}${d.streamed ? ' (read in chunks)' : ''}${val}`;
}
