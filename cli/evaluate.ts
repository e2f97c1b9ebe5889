// kiln evaluate: the loss and metrics of a model with given weights on a user's data, through the
// compiled evaluation step (inference form: no dropout, running statistics) and the trainer's evaluate.
import { compile } from '../api/compile.ts';
import { KilnError } from '../src/ir/errors.ts';
import { readArray } from './data/arrays.ts';
import { loadModel } from './load.ts';
import { fitToInput, namingFile, readModelWeights } from './model-arrays.ts';
import { resolveLoss } from './training-spec.ts';

export interface EvaluateOptions {
  weights: string;
  data: string;
  labels?: string;
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
  readonly data: { readonly x: string; readonly y: string };
}

/** Samples per evaluation call unless --batch-size says otherwise. */
export const DEFAULT_EVALUATE_BATCH = 256;

/** Metric names from `--metrics a,b --metrics c`. */
export function metricList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Compiles `file` with its evaluation step in memory, loads `o.weights` and evaluates on `o.data` against `o.labels`. */
export async function evaluateCommand(file: string, o: EvaluateOptions): Promise<EvaluateReport> {
  if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize > 0)) throw new KilnError(`--batch-size must be a positive integer, got ${o.batchSize}`);
  if (!o.labels) throw new KilnError(`kiln evaluate needs the labels of ${o.data}: --labels <file> (.npy, .csv or .json)`);
  const source = await loadModel(file);
  const loss = resolveLoss(source.graph, o.loss ?? 'auto', o.fromLogits);
  // Only the evaluation step is used; the optimizer is a placeholder the trainer needs to exist.
  const m = await compile(source, { train: { optimizer: { kind: 'sgd', lr: 1 }, loss } });
  if (m.inputs.length !== 1) throw new KilnError(`kiln evaluate feeds one input; model '${m.modelName}' has ${m.inputs.length} (${m.inputs.map((i) => i.name).join(', ')})`);
  const weights = readModelWeights(o.weights, m.parameters, m);
  const trainer = namingFile(o.weights, () => m.createTrainer({ weights }));
  const x = fitToInput(readArray(o.data), m.inputs[0], o.data);
  const y = fitToInput(readArray(o.labels), m.labelInfo, o.labels, 'labels');
  if (x.count !== y.count) throw new KilnError(`${o.data} holds ${x.count} samples, ${o.labels} holds ${y.count} labels: they must match`);
  if (!(x.data instanceof Float32Array) || y.data instanceof Float64Array) throw new KilnError(`kiln evaluate feeds float32 inputs; the model's input '${m.inputs[0].name}' is ${m.inputs[0].dtype}`);
  const metrics = metricList(o.metrics);
  let result;
  try {
    result = trainer.evaluate({ x: x.data, y: y.data, count: x.count }, o.batchSize ?? DEFAULT_EVALUATE_BATCH, metrics);
  } catch (e) {
    // The runtime's argument checks (an unknown metric, one that does not apply) are the user's to fix.
    if (e instanceof RangeError) throw new KilnError(`--metrics: ${e.message}`);
    throw e;
  }
  const outputWidth = (m.outputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const classifier = m.labelInfo.dtype === 'int32' || outputWidth > 1;
  return {
    model: m.modelName,
    count: x.count,
    loss: result.loss,
    lossKind: `${loss.kind}${loss.fromLogits ? ' (from logits)' : ''}`,
    ...(classifier ? { accuracy: result.accuracy } : {}),
    metrics: result.metrics ?? {},
    data: { x: o.data, y: o.labels },
  };
}

/** One line: the count, the loss, accuracy and each metric. */
export function formatEvaluateReport(r: EvaluateReport): string {
  const figures = [`loss ${r.loss.toFixed(4)}`, ...(r.accuracy === undefined ? [] : [`accuracy ${r.accuracy.toFixed(4)}`]), ...Object.entries(r.metrics).filter(([k]) => k !== 'accuracy').map(([k, v]) => `${k} ${v.toFixed(4)}`)];
  return `${r.model} on ${r.count} samples of ${r.data.x}: ${figures.join(', ')} (${r.lossKind})`;
}
