// `kiln train`'s data: resolves --data (mnist, an IDX or CIFAR-10 folder, array files, the model file's data()), checks it against the model, normalises, splits off validation, and streams or loads it.
import { existsSync, statSync } from 'node:fs';
import type { LossSpec } from '../../compiler/train/losses.ts';
import { materialize, rowsSource, sliceRows } from '../../runtime/data/rows.ts';
import { datasetSource, type SampleSource } from '../../runtime/sample-source.ts';
import type { Dataset } from '../../runtime/train-loop.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { checkClassIds, inputPlan, labelPlan, labelWidth, modelInput, type LabelPlan } from './fit-shapes.ts';
import { isCifarFolder, isIdxFolder, readCifarFolder, readIdxFolder, readMnist } from './image-formats.ts';
import { chain, chwToHwc, parseNormalize, parseScale, scaleNormalize } from './normalize.ts';
import type { RawData, RawSplit } from './raw.ts';
import { codeSplit, readArraySplit, type CodeSplit } from './user-arrays.ts';

/** The data flags of `kiln train`. */
export interface DataOptions {
  data?: string;
  labels?: string;
  testData?: string;
  testLabels?: string;
  validation?: number;
  validationSplit?: number;
  validationData?: string;
  validationLabels?: string;
  scale?: string | number;
  normalize?: string;
  stream?: boolean;
  limit?: number;
}

/** What a model file's `data()` export returns. */
export interface ModuleData {
  train: CodeSplit;
  validation?: CodeSplit;
  test?: CodeSplit;
}

/** The data a run trains, validates and tests on, in the forms fit and evaluate read. */
export interface TrainingData {
  readonly description: string;
  /** Training samples; `trainDataset` too when they are in memory. */
  readonly train: SampleSource;
  readonly trainDataset?: Dataset;
  readonly validation?: Dataset;
  readonly test?: Dataset;
  /** The test inputs before normalisation and their class ids, when they are 28×28 digits (for the predictions picture). */
  readonly digits?: { pixels: Float32Array; labels: Int32Array };
  readonly inputWidth: number;
  readonly labelWidth: number;
  /** Class ids per sample when the model classifies every position of a sequence (e.g. per token); 1 otherwise. */
  readonly positions: number;
  readonly streamed: boolean;
  /** What the run validates on, for its line: `the last 100 (--validation-split 0.1)`, `the 100 samples of val.npy`. */
  readonly validationNote?: string;
}

/** Finds the data set `o.data` names (or the module's data(), or MNIST). */
export function resolveRaw(o: DataOptions, model: { file: string; data?: (options: { seed: number }) => ModuleData }, seed: number): RawData {
  if (o.data === undefined || o.data === '') {
    if (model.data) return moduleRaw(model.data({ seed }), model.file);
    return readMnist();
  }
  if (o.data === 'mnist') return readMnist();
  if (!existsSync(o.data)) {
    const known = /^(cifar-?10|fashion-?mnist)$/i.test(o.data) ? ` (${o.data} is not bundled: download its files and pass their folder)` : '';
    throw new KilnError(`--data ${o.data}: no such file or folder${known}; --data takes mnist, an IDX folder, a CIFAR-10 binary folder, or a .npy/.csv/.json file with --labels`);
  }
  if (statSync(o.data).isDirectory()) {
    if (isCifarFolder(o.data)) return readCifarFolder(o.data);
    if (isIdxFolder(o.data)) return readIdxFolder(o.data);
    throw new KilnError(`--data ${o.data}: the folder holds neither CIFAR-10 binary files (data_batch_1.bin, …) nor MNIST-layout IDX files (train-images-idx3-ubyte, …)`);
  }
  const train = readArraySplit(o.data, o.labels, { stream: o.stream });
  const test = o.testData === undefined ? undefined : readArraySplit(o.testData, o.testLabels, { flag: '--test-labels' });
  return { description: o.data, train, test };
}

function moduleRaw(d: ModuleData, file: string): RawData {
  if (!d || typeof d !== 'object' || !d.train) throw new KilnError(`${file}: data() must return { train: { x, y, count }, validation?, test? }`);
  return {
    description: `${file}'s data()`,
    train: codeSplit(d.train, file, 'train'),
    validation: d.validation && codeSplit(d.validation, file, 'validation'),
    test: d.test && codeSplit(d.test, file, 'test'),
  };
}

/** Throws unless at most one validation choice is given and each is in range. */
function validationChoice(o: DataOptions, count: number): { start: number; note: string } | undefined {
  const given = [o.validation ? '--validation' : '', o.validationSplit !== undefined ? '--validation-split' : '', o.validationData !== undefined ? '--validation-data' : ''].filter(Boolean);
  if (given.length > 1) throw new KilnError(`${given.join(' and ')} both choose validation data: give one`);
  if (o.validationSplit !== undefined) {
    if (!(o.validationSplit > 0 && o.validationSplit < 1)) throw new KilnError(`--validation-split must be a fraction in (0, 1), got ${o.validationSplit}`);
    const k = Math.round(count * o.validationSplit);
    if (k < 1 || k >= count) throw new KilnError(`--validation-split ${o.validationSplit} of ${count} samples leaves ${k} for validation and ${count - k} for training`);
    return { start: count - k, note: `the last ${k} (--validation-split ${o.validationSplit})` };
  }
  const v = o.validation ?? 0;
  if (!Number.isInteger(v) || v < 0 || v >= count) throw new KilnError(`--validation must be an integer in [0, ${count}), got ${v}`);
  return v > 0 ? { start: count - v, note: `the last ${v} (--validation ${v})` } : undefined;
}

/** Resolves, checks, normalises and splits the data of a run. */
export function prepareTrainingData(graph: Graph, loss: LossSpec, o: DataOptions, raw: RawData): TrainingData {
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) throw new KilnError(`--limit must be a positive integer, got ${o.limit}`);
  const { dims, dtype: inputDtype } = modelInput(graph);
  const inputs = inputDtype === 'int32' ? 'int32' : 'float32';
  if (inputs === 'int32' && (o.normalize !== undefined || (o.scale !== undefined && parseScale(o.scale) !== 1))) throw new KilnError(`model '${graph.name}' takes int32 inputs (integer ids): --scale and --normalize apply to float inputs only`);
  const plan = labelPlan(graph, loss, raw.train);
  const ms = o.normalize === undefined ? undefined : parseNormalize(o.normalize);
  const scale = o.scale === undefined ? (raw.defaultScale ?? 1) : parseScale(o.scale);
  const source = (split: RawSplit, start = 0, count = split.x.count): SampleSource => {
    const { transpose } = inputPlan(graph, split, !!raw.channelsFirst);
    const p = labelPlan(graph, loss, split);
    if (p.kind !== plan.kind || labelWidth(p) !== labelWidth(plan)) throw new KilnError(`${split.yName}'s labels differ in form from ${raw.train.yName}'s`);
    if (p.kind !== 'rows') checkClassIds(split, p.classes);
    const transform = chain(transpose && chwToHwc(...transpose), scaleNormalize(dims, scale, ms));
    return rowsSource(sliceRows(split.x, start, count), sliceRows(split.y, start, count), { transform, ...labelOptions(plan) });
  };
  const inputWidth = modelInput(graph).size;
  const width = labelWidth(plan);
  const all = raw.train.x.count;
  const choice = raw.validation || o.validationData !== undefined ? (validationChoice(o, all), undefined) : validationChoice(o, all);
  const trainEnd = choice?.start ?? all;
  const trainCount = Math.min(o.limit ?? trainEnd, trainEnd);
  const streamed = !!raw.train.streamed && (o.stream === true || inputWidth * trainCount * 4 > STREAM_FLOAT_BYTES);
  const train = source(raw.train, 0, trainCount);
  const trainDataset = streamed ? undefined : materialize(train, inputWidth, width, inputs);
  const valSplit = o.validationData !== undefined ? readArraySplit(o.validationData, o.validationLabels, { flag: '--validation-labels' }) : raw.validation;
  const validation = valSplit ? materialize(source(valSplit), inputWidth, width, inputs) : choice ? materialize(source(raw.train, choice.start, all - choice.start), inputWidth, width, inputs) : undefined;
  const test = raw.test ? materialize(source(raw.test), inputWidth, width, inputs) : undefined;
  return {
    description: raw.description,
    train: trainDataset ? datasetSource(trainDataset) : train,
    trainDataset,
    validation,
    test,
    digits: raw.digits && raw.test ? digitsOf(raw.test) : undefined,
    inputWidth,
    labelWidth: width,
    positions: plan.kind === 'ids' ? plan.positions : 1,
    streamed,
    validationNote: valSplit ? `the ${valSplit.x.count} samples of ${o.validationData ?? `${raw.description}.validation`}` : choice?.note,
  };
}

/** Above this many bytes of float32 inputs a file-backed training set is read in chunks, not loaded (also with --stream). */
export const STREAM_FLOAT_BYTES = 1 << 30;

const labelOptions = (p: LabelPlan) => (p.kind === 'ids' ? { classIds: true } : p.kind === 'oneHot' ? { oneHot: p.classes } : {});

/** The first test digits as pixels in [0, 1] with their labels (the predictions picture draws them). */
function digitsOf(split: RawSplit): { pixels: Float32Array; labels: Int32Array } {
  const n = Math.min(10, split.x.count);
  const pixels = new Float32Array(n * split.x.width);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    split.x.readRow(i, pixels, i * split.x.width);
    split.y.readRow(i, labels, i);
  }
  for (let i = 0; i < pixels.length; i++) pixels[i] /= 255;
  return { pixels, labels };
}
