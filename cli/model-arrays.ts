// A user's arrays and weight file fitted to a module compiled in memory (kiln predict, kiln evaluate):
// shapes and dtypes checked against the model's input in one line naming both, weights read.
import { readFileSync } from 'node:fs';
import { axisLayout, takeSample, type AxisLayout } from '../runtime/batch-axis.ts';
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

/**
 * Where a model tensor's batch lies: `axis` (0, except for a per-sample model imported from ONNX
 * with PyTorch's sequence-first [T, N, F], Graph.batchAxes), one sample's sizes in order without
 * it, and the layout that slicing a batch along that axis uses.
 */
export interface BatchedTensor {
  readonly axis: number;
  readonly dims: number[];
  readonly layout: AxisLayout;
}

/** The batch of `t` (the one 'N' in its shape; every other size fixed), else a one-line error. */
export function batchedTensor(t: TensorInfo, what: string): BatchedTensor {
  const axis = t.shape.indexOf('N');
  const others = t.shape.filter((_, i) => i !== axis);
  if (axis < 0 || others.some((d) => typeof d !== 'number')) {
    throw new KilnError(`the model's ${what} '${t.name}' is ${describeTensor(t)}: kiln predict and evaluate need one batch dimension N and fixed sizes elsewhere`);
  }
  return { axis, dims: others as number[], layout: axisLayout(t.shape as readonly (number | 'N')[]) };
}

/** A tensor's shape at `count` samples (`count` where its N is). */
export const shapeAt = (t: TensorInfo, count: number) => t.shape.map((d) => (d === 'N' ? count : (d as number)));

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/**
 * `array` (read from `file`) as `count` samples of the model's input `info`, values converted to
 * the input's dtype (integers required for an int32 input). Batch first: shaped [count, ...dims]
 * or as rows of all of a sample's values (a CSV's only form). Batch elsewhere: in the model's
 * own layout, `count` at the batch's axis (e.g. [T, count, F]), as the compiled model takes it.
 */
export function fitToInput(array: NumericArray, info: TensorInfo, file: string, what = 'input'): { data: FedArray; count: number } {
  const { axis, dims: want } = batchedTensor(info, what);
  const count = array.shape.length === info.shape.length ? array.shape[axis] : array.shape[0];
  const expected = info.shape.map((d) => (d === 'N' ? 'count' : d));
  const same = array.shape.length === info.shape.length && info.shape.every((d, i) => d === 'N' || d === array.shape[i]);
  const per = product(want);
  const rest = array.shape.slice(1);
  const rows = axis === 0 && (rest.length === 1 ? rest[0] === per : rest.length === 0 && per === 1);
  if (!(count > 0) || !(same || rows)) {
    const alt = axis === 0 && want.length > 1 ? ` or rows of ${per} values` : '';
    const layout = axis === 0 ? '' : `: the batch on axis ${axis}, as the model takes it`;
    throw new KilnError(`${file}: shape ${dims(array.shape)} does not fit the model's ${what} '${info.name}' ${describeTensor(info)} (expected ${dims(expected)}${alt}${layout})`);
  }
  return { data: convert(array, info, file, what), count };
}

/** Samples `start` … `start + n − 1` of `data` (`count` samples laid out as `l` says), in that layout at batch `n`. */
export function batchSlice<A extends FedArray>(data: A, l: AxisLayout, count: number, start: number, n: number): A {
  if (l.outer === 1) return data.subarray(start * l.inner, (start + n) * l.inner) as A;
  const out = new (data.constructor as new (length: number) => A)(l.outer * n * l.inner);
  for (let o = 0; o < l.outer; o++) out.set(data.subarray((o * count + start) * l.inner, (o * count + start + n) * l.inner), o * n * l.inner);
  return out;
}

/** Writes `part` (`n` samples laid out as `l` says) into `into` (`count` samples, same layout) as samples `start` on. */
export function putBatchSlice(into: FedArray, part: FedArray, l: AxisLayout, count: number, start: number, n: number): void {
  for (let o = 0; o < l.outer; o++) into.set(part.subarray(o * n * l.inner, (o + 1) * n * l.inner), (o * count + start) * l.inner);
}

/** `data` (`count` samples laid out as `l` says) with the batch first: each sample's values together, in order. */
export function batchFirst<A extends FedArray>(data: A, l: AxisLayout, count: number): A {
  if (l.outer === 1) return data;
  const out = new (data.constructor as new (length: number) => A)(data.length);
  for (let n = 0; n < count; n++) out.set(takeSample(data, l, count, n), n * l.outer * l.inner);
  return out;
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

/**
 * The weights kiln predict and evaluate load: `file` when given, else the model's own (an ONNX
 * file carries its initializers); a model without weights of its own needs the flag.
 */
export function weightsFor(file: string | undefined, own: Readonly<Record<string, Float32Array>> | undefined, parameters: readonly ParameterInfo[], model: { modelName: string; graphHash: string }, command: string): WeightsSource {
  if (file !== undefined) return readModelWeights(file, parameters, model);
  if (own && parameters.every((p) => Object.prototype.hasOwnProperty.call(own, p.name))) return own;
  throw new KilnError(`${command} needs --weights <file>: model '${model.modelName}' carries no weights of its own (an ONNX file does; a model file's come from kiln compile or kiln train --save)`);
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
