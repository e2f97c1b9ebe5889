// kiln predict: a model compiled in memory, its weights, a user's input file in; outputs written
// (.npy, .csv, .json, atomically) or printed, with the top-k classes of a classifier.
import path from 'node:path';
import { compile } from '../api/compile.ts';
import type { CompiledModelInstance } from '../api/types.ts';
import { KilnError } from '../src/ir/errors.ts';
import { readArray, writeArray } from './data/arrays.ts';
import { parseNormalize, parseScale, scaleNormalize } from './data/normalize.ts';
import { shortFloat32 } from './data/numeric.ts';
import { loadModel } from './load.ts';
import { putSample, takeSample } from '../runtime/batch-axis.ts';
import { batchedTensor, batchFirst, batchSlice, describeTensor, fitToInput, namingFile, putBatchSlice, shapeAt, weightsFor, type BatchedTensor, type FedArray } from './model-arrays.ts';

export interface PredictOptions {
  /** A weight file; an ONNX model's own initializers when absent. */
  weights?: string;
  input: string;
  output?: string;
  topK?: number;
  batchSize?: number;
  /** As kiln train: inputs multiplied by `scale`, then `(x - mean) / std` (`mean,std` or `m1,…/s1,…`). */
  scale?: string;
  normalize?: string;
}

/** One sample's best classes, most probable first. */
export interface TopK {
  readonly classes: number[];
  readonly probabilities: number[];
}

/** What `kiln predict` did (its `--json` output, less `ok` and `command`). */
export interface PredictReport {
  readonly model: string;
  readonly count: number;
  readonly input: { readonly file: string; readonly shape: number[] };
  readonly output: { readonly name: string; readonly dtype: string; readonly shape: number[]; readonly file?: string };
  /** Each sample's output values (flattened), when no --output file took them. */
  readonly values?: number[][];
  /** With --top-k: each sample's best classes; `probabilities` says how they were read off the output. */
  readonly topK?: TopK[];
  readonly probabilities?: 'softmax output' | 'exp of logSoftmax output' | 'softmax of logits';
}

/** Samples per model call unless --batch-size says otherwise. */
export const DEFAULT_PREDICT_BATCH = 64;

/** Where the input's and the output's batch lie (the first axis, or the axis a per-sample model says). */
interface Batches {
  readonly input: BatchedTensor;
  readonly output: BatchedTensor;
}

/**
 * Runs the model over `count` samples, `batchSize` at a time; returns the first output for all of
 * them, in the model's layout (each call's slice taken and put back along the batch's axis).
 */
function predictAll(model: CompiledModelInstance, inputName: string, outputName: string, data: FedArray, count: number, batchSize: number, b: Batches): FedArray {
  let out: FedArray | undefined;
  for (let i = 0; i < count; i += batchSize) {
    const n = Math.min(batchSize, count - i);
    const y = model.run({ [inputName]: batchSlice(data, b.input.layout, count, i, n) }, n)[outputName];
    out ??= new (y.constructor as new (length: number) => FedArray)((y.length / n) * count);
    putBatchSlice(out, y, b.output.layout, count, i, n);
  }
  return out!;
}

/** Probabilities from one output row: as they are after a softmax, exp after a logSoftmax, else a softmax of logits. */
function probabilities(row: ArrayLike<number>, op: string): number[] {
  const v = Array.from(row);
  if (op === 'softmax') return v;
  if (op === 'logSoftmax') return v.map(Math.exp);
  const max = Math.max(...v);
  const e = v.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The k most probable classes of each sample (ties: the lower class first). */
export function topKClasses(values: ArrayLike<number>, count: number, classes: number, k: number, op: string): TopK[] {
  return Array.from({ length: count }, (_, i) => {
    const p = probabilities(Array.prototype.slice.call(values, i * classes, (i + 1) * classes) as number[], op);
    const order = p.map((_, c) => c).sort((a, b) => p[b] - p[a] || a - b).slice(0, k);
    return { classes: order, probabilities: order.map((c) => Number(shortFloat32(Math.fround(p[c])))) };
  });
}

const PROBABILITIES = { softmax: 'softmax output', logSoftmax: 'exp of logSoftmax output' } as const;

function positive(name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new KilnError(`${name} must be a positive integer, got ${v}`);
}

/**
 * The samples scaled and normalised in place as kiln train feeds them (a float32 input only), one
 * sample at a time: its values gathered along the batch's axis, transformed, put back.
 */
function scaleInputs(data: FedArray, count: number, input: BatchedTensor, o: PredictOptions, file: string): void {
  if (o.scale === undefined && o.normalize === undefined) return;
  if (!(data instanceof Float32Array)) throw new KilnError(`${file}: --scale and --normalize apply to a float32 input, the model's input is not`);
  const transform = scaleNormalize(input.dims, o.scale === undefined ? 1 : parseScale(o.scale), o.normalize === undefined ? undefined : parseNormalize(o.normalize));
  if (!transform) return;
  for (let i = 0; i < count; i++) {
    const sample = takeSample(data, input.layout, count, i);
    transform(sample);
    putSample(data, sample, input.layout, count, i);
  }
}

/** Compiles `file` in memory, loads `o.weights`, predicts `o.input` and writes `o.output` (or returns the values). */
export async function predictCommand(file: string, o: PredictOptions): Promise<PredictReport> {
  positive('--batch-size', o.batchSize);
  positive('--top-k', o.topK);
  const source = await loadModel(file);
  const m = await compile(source);
  if (m.inputs.length !== 1) throw new KilnError(`kiln predict feeds one input; model '${m.modelName}' has ${m.inputs.length} (${m.inputs.map((i) => i.name).join(', ')})`);
  const [inputInfo, outputInfo] = [m.inputs[0], m.outputs[0]];
  const batches: Batches = { input: batchedTensor(inputInfo, 'input'), output: batchedTensor(outputInfo, 'output') };
  const outDims = batches.output.dims;
  const op = source.graph.outputs[0].node.op;
  if (o.topK !== undefined) {
    if (outDims.length !== 1 || outDims[0] < 2) throw new KilnError(`--top-k needs a classifier: an output [N, classes] with 2 or more classes; '${outputInfo.name}' is ${describeTensor(outputInfo)}`);
    if (o.topK > outDims[0]) throw new KilnError(`--top-k ${o.topK} is more than the model's ${outDims[0]} classes`);
  }
  const weights = weightsFor(o.weights, source.weights, m.parameters, m, 'kiln predict');
  const model = namingFile(o.weights ?? file, () => m.createModel(weights));
  const array = readArray(o.input);
  const { data, count } = fitToInput(array, inputInfo, o.input);
  scaleInputs(data, count, batches.input, o, o.input);
  const out = predictAll(model, inputInfo.name, outputInfo.name, data, count, o.batchSize ?? DEFAULT_PREDICT_BATCH, batches);
  // The file keeps the model's layout (batch where its N is); printed values and top-k go by sample.
  const shape = shapeAt(outputInfo, count);
  if (o.output) writeArray(o.output, out instanceof Float64Array ? Float32Array.from(out) : out, shape);
  const rows = o.output && o.topK === undefined ? out : batchFirst(out, batches.output.layout, count);
  const per = out.length / count;
  const values = o.output ? undefined : Array.from({ length: count }, (_, i) => Array.from(rows.subarray(i * per, (i + 1) * per), (v) => Number(shortFloat32(v))));
  const topK = o.topK === undefined ? undefined : topKClasses(rows, count, outDims[0], o.topK, op);
  return {
    model: m.modelName,
    count,
    input: { file: o.input, shape: array.shape },
    output: { name: outputInfo.name, dtype: outputInfo.dtype, shape, ...(o.output ? { file: o.output } : {}) },
    ...(values ? { values } : {}),
    ...(topK ? { topK, probabilities: op in PROBABILITIES ? PROBABILITIES[op as keyof typeof PROBABILITIES] : 'softmax of logits' } : {}),
  };
}

/** Text for a terminal: top-k lines, else the values one sample a line, and the file written. */
export function formatPredictReport(r: PredictReport): string {
  const lines: string[] = [];
  if (r.topK) r.topK.forEach((t, i) => lines.push(`${i}: ${t.classes.map((c, j) => `${c} (${t.probabilities[j].toFixed(4)})`).join(', ')}`));
  else if (r.values) r.values.forEach((v) => lines.push(v.join(' ')));
  if (r.output.file) lines.push(`wrote ${r.output.file}: ${r.output.name} ${r.output.dtype}[${r.output.shape.join(', ')}] for ${r.count} samples of ${path.basename(r.input.file)}`);
  return lines.join('\n');
}
