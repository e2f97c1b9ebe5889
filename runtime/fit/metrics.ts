// Metrics of fit and evaluate: accuracy, top-k accuracy, binary accuracy, MSE, MAE, each a running
// sum over batches of predictions against labels, plus the default metrics per kind of model.

/** A metric's name: `accuracy`, `binaryAccuracy`, `mse`, `mae` or `top<k>Accuracy` (e.g. `top5Accuracy`). */
export type MetricName = 'accuracy' | 'binaryAccuracy' | 'mse' | 'mae' | `top${number}Accuracy`;

/** What a metric knows about the model: values per prediction and per label row. */
export interface MetricShape {
  readonly outputWidth: number;
  readonly labelWidth: number;
}

/** A running metric: `add` a batch of predictions, read the mean so far with `value`. */
export interface MetricSum {
  readonly name: MetricName;
  add(pred: ArrayLike<number>, labels: ArrayLike<number>, batch: number): void;
  value(): number;
}

const TOP_K = /^top([1-9]\d*)Accuracy$/;

/** Throws unless every name is a known metric that applies to this model's output and labels. */
export function checkMetrics(names: readonly string[], shape: MetricShape): asserts names is MetricName[] {
  for (const name of names) {
    const k = TOP_K.exec(name);
    if (!k && !['accuracy', 'binaryAccuracy', 'mse', 'mae'].includes(name)) {
      throw new RangeError(`unknown metric '${name}' (available: accuracy, binaryAccuracy, top<k>Accuracy such as top5Accuracy, mse, mae)`);
    }
    if (k && Number(k[1]) > shape.outputWidth) throw new RangeError(`metric '${name}' needs at least ${k[1]} classes, the model outputs ${shape.outputWidth}`);
    if ((name === 'mse' || name === 'mae' || name === 'binaryAccuracy') && shape.labelWidth !== shape.outputWidth) {
      throw new RangeError(`metric '${name}' compares predictions with targets element by element: the model outputs ${shape.outputWidth} values per sample, the labels have ${shape.labelWidth}`);
    }
  }
}

/**
 * Metrics when none are asked for: accuracy for classifiers (class ids, or several outputs),
 * nothing for one float output, which may be a regression as well as a probability.
 */
export function defaultMetrics(shape: MetricShape & { classIds: boolean }): MetricName[] {
  return shape.classIds || shape.outputWidth > 1 ? ['accuracy'] : [];
}

/** A fresh running sum for each metric. */
export function metricSums(names: readonly MetricName[], shape: MetricShape): MetricSum[] {
  return names.map((name) => metricSum(name, shape));
}

function metricSum(name: MetricName, shape: MetricShape): MetricSum {
  const k = TOP_K.exec(name);
  let total = 0;
  let count = 0;
  const perSample = (score: (pred: ArrayLike<number>, labels: ArrayLike<number>, j: number) => number) => ({
    name,
    add(pred: ArrayLike<number>, labels: ArrayLike<number>, batch: number) {
      for (let j = 0; j < batch; j++) total += score(pred, labels, j);
      count += batch;
    },
    value: () => total / count,
  });
  const { outputWidth: w, labelWidth: lw } = shape;
  if (name === 'accuracy') return perSample((p, l, j) => (isCorrect(p, w, j, l, lw) ? 1 : 0));
  if (k) return perSample((p, l, j) => (inTopK(p, w, j, trueClass(l, lw, j), Number(k[1])) ? 1 : 0));
  // Element-wise metrics: the mean over every output value, as Keras computes them.
  const element = name === 'mse' ? (d: number) => d * d : name === 'mae' ? Math.abs : (d: number, p: number, t: number) => ((p >= 0.5 ? 1 : 0) === Math.round(t) ? 1 : 0);
  return perSample((p, l, j) => {
    let s = 0;
    for (let i = j * w; i < (j + 1) * w; i++) s += element(p[i] - l[i], p[i], l[i]);
    return s / w;
  });
}

/** The true class of sample `j`: its id, or the argmax of its one-hot row. */
function trueClass(labels: ArrayLike<number>, labelWidth: number, j: number): number {
  return labelWidth === 1 ? labels[j] : argmax(labels, j * labelWidth, labelWidth);
}

function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

/** Whether `cls` is among the `k` largest of sample `j`'s scores (ties counted against it, as a strict rank). */
function inTopK(pred: ArrayLike<number>, width: number, j: number, cls: number, k: number): boolean {
  const score = pred[j * width + cls];
  let above = 0;
  for (let i = 0; i < width; i++) if (pred[j * width + i] > score) above++;
  return above < k;
}

/** Whether prediction `offset` (of `width` values) matches its label (argmax; a 0.5 threshold for one output). */
export function isCorrect(pred: ArrayLike<number>, width: number, offset: number, labels: ArrayLike<number>, labelWidth: number): boolean {
  if (width === 1) return (pred[offset] >= 0.5 ? 1 : 0) === Math.round(labels[offset]);
  return argmax(pred, offset * width, width) === trueClass(labels, labelWidth, offset);
}
