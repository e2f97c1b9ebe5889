// kiln evaluate: the loss and metrics of a model with given weights on a user's data, through the
// compiled evaluation step (inference form: no dropout, running statistics) and the trainer's evaluate.
import { existsSync, statSync } from 'node:fs';
import { compile } from '../api/compile.ts';
import { KilnError } from '../src/ir/errors.ts';
import type { Graph } from '../src/ir/graph.ts';
import { prepareTrainingData, resolveRaw } from './data/prepare.ts';
import { loadModel } from './load.ts';
import { namingFile, weightsFor } from './model-arrays.ts';
import { resolveLoss } from './training-spec.ts';

export interface EvaluateOptions {
  /** A weight file; an ONNX model's own initializers when absent. */
  weights?: string;
  /** mnist, an IDX or CIFAR-10 folder (their test split), or a .npy/.csv/.json file with `labels`. */
  data: string;
  labels?: string;
  /** As kiln train: the factor inputs are multiplied by (default 1, 1/255 for image formats) and `mean,std` or `m1,…/s1,…`. */
  scale?: string;
  normalize?: string;
  loss?: string;
  fromLogits?: boolean;
  /** Metric names, e.g. ['accuracy', 'top5Accuracy', 'mse']. */
  metrics?: string[];
  batchSize?: number;
}

/** What `kiln evaluate` measured (its `--json` output, less `ok` and `command`). */
export interface EvaluateReport {
  readonly model: string;
  readonly count: number;
  readonly loss: number;
  /** The loss as compiled, e.g. `sparseCategoricalCrossEntropy (from logits)`. */
  readonly lossKind: string;
  /** For a classifier (class-id labels or several outputs). */
  readonly accuracy?: number;
  readonly metrics: Readonly<Record<string, number>>;
  /** What was evaluated, e.g. `MNIST (test split)` or `x.npy`. */
  readonly data: string;
}

/** Samples per evaluation call unless --batch-size says otherwise. */
export const DEFAULT_EVALUATE_BATCH = 256;

/** Metric names from `--metrics a,b --metrics c`. */
export function metricList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * A model whose batch is not its first axis (imported from ONNX per sample, e.g. PyTorch's
 * [T, N, F]) compiles for inference only: evaluation runs through the trainer's compiled loss,
 * which such a model does not have.
 */
function refusePerSample(graph: Graph): void {
  if (!graph.batchAxes) return;
  const axes = [...new Set([...graph.batchAxes.inputs, ...graph.batchAxes.outputs].filter((a) => a !== null))].join(' / ');
  throw new KilnError(`kiln evaluate needs the batch first; model '${graph.name}' has its batch on axis ${axes} (compiled per sample, for inference only): run kiln predict and score its outputs, or export the model batch-first`);
}

/** Compiles `file` with its evaluation step in memory, loads `o.weights` and evaluates on `o.data` (against `o.labels` for files). */
export async function evaluateCommand(file: string, o: EvaluateOptions): Promise<EvaluateReport> {
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new KilnError(`--batch-size must be a positive integer, got ${o.batchSize}`);
  const isFile = existsSync(o.data) && statSync(o.data).isFile();
  if (isFile && !o.labels) throw new KilnError(`kiln evaluate needs the labels of ${o.data}: --labels <file> (.npy, .csv or .json)`);
  const source = await loadModel(file);
  refusePerSample(source.graph);
  const loss = resolveLoss(source.graph, o.loss ?? 'auto', o.fromLogits);
  // Only the evaluation step is used; the optimizer is a placeholder the trainer needs to exist.
  const m = await compile(source, { train: { optimizer: { kind: 'sgd', lr: 1 }, loss } });
  if (m.inputs.length !== 1) throw new KilnError(`kiln evaluate feeds one input; model '${m.modelName}' has ${m.inputs.length} (${m.inputs.map((i) => i.name).join(', ')})`);
  const weights = weightsFor(o.weights, source.weights, m.parameters, m, 'kiln evaluate');
  const trainer = namingFile(o.weights ?? file, () => m.createTrainer({ weights }));
  // kiln train's data pipeline (formats, shape and label checks, scale and normalisation), with
  // the split to evaluate as its only one: a data set's test split, else the file given.
  const raw = resolveRaw({ data: o.data, labels: o.labels }, { file }, 0);
  const split = raw.test ?? raw.train;
  const data = prepareTrainingData(source.graph, loss, { scale: o.scale, normalize: o.normalize }, { ...raw, train: split, test: undefined, validation: undefined });
  const description = raw.test ? `${raw.description} (test split)` : raw.description;
  const metrics = metricList(o.metrics);
  let result;
  try {
    result = trainer.evaluate(data.trainDataset ?? data.train, o.batchSize ?? DEFAULT_EVALUATE_BATCH, metrics);
  } catch (e) {
    // The runtime's argument checks (an unknown metric, one that does not apply) are the user's to fix.
    if (e instanceof RangeError) throw new KilnError(`--metrics: ${e.message}`);
    throw e;
  }
  const outputWidth = (m.outputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const classifier = m.labelInfo.dtype === 'int32' || outputWidth > 1;
  return {
    model: m.modelName,
    count: data.train.count,
    loss: result.loss,
    lossKind: `${loss.kind}${loss.fromLogits ? ' (from logits)' : ''}`,
    ...(classifier ? { accuracy: result.accuracy } : {}),
    metrics: result.metrics ?? {},
    data: description,
  };
}

/** One line: the count, the loss, accuracy and each metric. */
export function formatEvaluateReport(r: EvaluateReport): string {
  const figures = [`loss ${r.loss.toFixed(4)}`, ...(r.accuracy === undefined ? [] : [`accuracy ${r.accuracy.toFixed(4)}`]), ...Object.entries(r.metrics).filter(([k]) => k !== 'accuracy').map(([k, v]) => `${k} ${v.toFixed(4)}`)];
  return `${r.model} on ${r.count} samples of ${r.data}: ${figures.join(', ')} (${r.lossKind})`;
}
