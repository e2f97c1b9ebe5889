// A user's arrays and weight file fitted to a module compiled in memory (kiln predict, kiln evaluate):
// shapes and dtypes checked against the model's input in one line naming both, weights read.
import { readFileSync } from 'node:fs';
import { fileError } from '../runtime/file-errors.ts';
import type { ParameterInfo, TensorInfo, WeightsSource } from '../runtime/model-io.ts';
import { savedWeights } from '../runtime/trainer-shell.ts';
import { decodeWeights } from '../runtime/weights.ts';
import { checkWeightsIdentity } from '../runtime/weights-identity.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { NumericArray } from './data/arrays.ts';

/** Arrays the compiled model reads (its input's dtype decides which). */
export type FedArray = Float32Array | Float64Array | Int32Array;

const dims = (shape: readonly (number | string)[]) => `[${shape.join(', ')}]`;

/** A tensor as `float32[N, 28, 28, 1]`. */
export const describeTensor = (t: TensorInfo) => `${t.dtype}${dims(t.shape)}`;

/** The sample dimensions of a tensor with the batch first (`['N', 28, 28, 1]` → `[28, 28, 1]`). */
export function sampleDims(t: TensorInfo, what: string): number[] {
  if (t.shape[0] !== 'N' || t.shape.slice(1).some((d) => typeof d !== 'number')) {
    throw new KilnError(`the model's ${what} '${t.name}' is ${describeTensor(t)}: kiln predict and evaluate need the batch N first and fixed sizes after it`);
  }
  return t.shape.slice(1) as number[];
}

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * `array` (read from `file`) as `count` samples of the model's input `info`: shaped [count, ...dims]
 * or as rows of all of a sample's values (a CSV's only form), values converted to the input's
 * dtype; integers are required for an int32 input.
 */
export function fitToInput(array: NumericArray, info: TensorInfo, file: string, what = 'input'): { data: FedArray; count: number } {
  const want = sampleDims(info, what);
  const per = product(want);
  const [count, ...rest] = array.shape;
  const same = rest.length === want.length && rest.every((d, i) => d === want[i]);
  const rows = rest.length === 1 ? rest[0] === per : rest.length === 0 && per === 1;
  if (!(count > 0) || !(same || rows)) {
    const alt = want.length > 1 ? ` or rows of ${per} values` : '';
    throw new KilnError(`${file}: shape ${dims(array.shape)} does not fit the model's ${what} '${info.name}' ${describeTensor(info)} (expected [count, ${want.join(', ')}]${alt})`);
  }
  return { data: convert(array, info, file, what), count };
}

/** The values in the input's dtype. */
function convert(array: NumericArray, info: TensorInfo, file: string, what: string): FedArray {
  const { data } = array;
  if (info.dtype === 'float32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (info.dtype === 'float64') return Float64Array.from(data);
  if (info.dtype === 'int32') {
    if (data instanceof Int32Array) return data;
    const bad = data.findIndex((v) => !Number.isInteger(v));
    if (bad >= 0) throw new KilnError(`${file}: the model's ${what} '${info.name}' is ${describeTensor(info)} (integers), the file holds ${array.dtype} values such as ${data[bad]} at index ${bad}`);
    return Int32Array.from(data);
  }
  throw new KilnError(`${file}: the model's ${what} '${info.name}' is ${describeTensor(info)}; kiln predict and evaluate feed numeric inputs only`);
}

/**
 * The weights of `file` for createModel: a weight file as it is (createModel checks names,
 * shapes and which model it belongs to), or from a trainer's `save()` the weights only, after the
 * same check of its model.
 */
export function readModelWeights(file: string, parameters: readonly ParameterInfo[], model: { modelName: string; graphHash: string }): WeightsSource {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError('read', file, e);
  }
  return namingFile(file, () => {
    const { meta } = decodeWeights(bytes);
    if (typeof meta.steps !== 'number') return bytes;
    checkWeightsIdentity(meta, { name: model.modelName, graphHash: model.graphHash });
    return savedWeights(bytes, parameters);
  });
}

/** Runs `f`; a weight-file error it throws (a corrupt file, another model's, a mismatched tensor) names `file`. */
export function namingFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    // By name: the in-memory module's runtime (dist/) has its own copy of the class.
    if (e instanceof Error && e.name === 'WeightFileError') throw new KilnError(`${file}: ${e.message}`, { cause: e });
    throw e;
  }
}
