// The three fuzz targets behind one interface: an arbitrary of mutants and a function that judges one.
import fc from 'fast-check';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { applyOnnxMutant, onnxMutant, type OnnxMutant } from './onnx-mutate.ts';
import { classifyThrow, failed, pwned, resetPwned, type Outcome } from './oracle.ts';
import { compileRunCompare } from './pipeline.ts';
import { allOnnxSeeds } from './seeds.ts';
import { jsonTarget } from './json-target.ts';
import { weightsTarget } from './weights-target.ts';

/** A fuzz target: mutants, how to judge one, and how to write one out for a reproducer. */
export interface Target<M> {
  name: 'onnx' | 'json' | 'weights';
  arbitrary: fc.Arbitrary<M>;
  run(m: M): Promise<Outcome>;
  /** The mutant as a file (bytes or JSON text) and its extension, for the minimised reproducer. */
  artifact(m: M): { data: Uint8Array | string; ext: string };
}

export async function onnxTarget(): Promise<Target<OnnxMutant>> {
  const seeds = await allOnnxSeeds();
  const run = async (m: OnnxMutant): Promise<Outcome> => {
    const seed = seeds[m.seed];
    let bytes: Uint8Array;
    try {
      bytes = applyOnnxMutant(seed.bytes, m);
    } catch {
      return { kind: 'skipped', why: 'mutant cannot be encoded as protobuf' };
    }
    resetPwned();
    const weights: Record<string, Float32Array> = {};
    let graph;
    try {
      graph = importOnnxBatched(bytes, { weightsOut: weights, inputValues: seed.inputValues });
    } catch (e) {
      return pwned() ? failed('import', 'payload ran while importing', 'globalThis.__pwned was set') : classifyThrow('import', e);
    }
    return compileRunCompare(graph, { weights, known: seed.known, seed: m.seed + 1 });
  };
  return {
    name: 'onnx',
    arbitrary: onnxMutant(seeds.length),
    run,
    artifact: (m) => ({ data: applyOnnxMutant(seeds[m.seed].bytes, m), ext: 'onnx' }),
  };
}

export type AnyTarget = Target<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const TARGET_NAMES = ['onnx', 'json', 'weights'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export function makeTarget(name: TargetName): Promise<AnyTarget> {
  return name === 'onnx' ? onnxTarget() : name === 'json' ? jsonTarget() : weightsTarget();
}
