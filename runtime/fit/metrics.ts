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
    if (name === 'accuracy' || k) layoutFor(name, shape);
    const classes = labelLayout(shape)?.classes ?? shape.outputWidth;
    if (k && Number(k[1]) > classes) throw new RangeError(`metric '${name}' needs at least ${k[1]} classes, the model outputs ${classes}`);
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

/**
 * How a label row of `labelWidth` values reads against an output row of `outputWidth` (W) values:
 * - L == 1: one class a sample (a class id; a 0.5 threshold when W is 1 too);
 * - L == W: a one-hot (or probability) row, whose argmax is the class;
 * - W % L == 0, W / L > 1: L positions (tokens, time steps) of W / L classes each, one class id a position.
 * Anything else is no classification: `undefined`.
 */
export function labelLayout(shape: MetricShape): { positions: number; classes: number; oneHot: boolean } | undefined {
  const { outputWidth: w, labelWidth: l } = shape;
  if (l === 1) return { positions: 1, classes: w, oneHot: false };
  if (l === w) return { positions: 1, classes: w, oneHot: true };
  if (l > 1 && w % l === 0 && w / l > 1) return { positions: l, classes: w / l, oneHot: false };
  return undefined;
}

/** The layout of a classification metric, or an error naming the widths that fit none. */
function layoutFor(name: string, shape: MetricShape): { positions: number; classes: number; oneHot: boolean } {
  const layout = labelLayout(shape);
  if (!layout) {
    throw new RangeError(`metric '${name}' needs one class id a sample, one-hot rows of the output's width, or one class id per position (output width a multiple of the label width): the model outputs ${shape.outputWidth} values per sample, the labels have ${shape.labelWidth}`);
  }
  return layout;
}

/** A fresh running sum for each metric. */
export function metricSums(names: readonly MetricName[], shape: MetricShape): MetricSum[] {
  return names.map((name) => metricSum(name, shape));
}

/** A mean over counted things (samples, or positions of a sequence). */
function runningMean(name: MetricName, per: number, score: (pred: ArrayLike<number>, labels: ArrayLike<number>, j: number) => number): MetricSum {
  let [total, count] = [0, 0];
  return {
    name,
    add(pred, labels, batch) {
      for (let j = 0; j < batch; j++) total += score(pred, labels, j);
      count += batch * per;
    },
    value: () => total / count,
  };
}

function metricSum(name: MetricName, shape: MetricShape): MetricSum {
  const k = TOP_K.exec(name);
  const { outputWidth: w, labelWidth: lw } = shape;
  if (name === 'accuracy') {
    // Per position for sequence labels: the fraction of (sample, position) pairs correct.
    const { positions } = layoutFor(name, shape);
    return runningMean(name, positions, (p, l, j) => correctPositions(p, w, j, l, lw));
  }
  if (k) {
    const { positions, classes } = layoutFor(name, shape);
    const top = Number(k[1]);
    return runningMean(name, positions, (p, l, j) => {
      let hits = 0;
      for (let q = 0; q < positions; q++) {
        const row = j * positions + q;
        if (inTopK(p, row * classes, classes, trueClass(l, lw, row, classes, positions), top)) hits++;
      }
      return hits;
    });
  }
  // Element-wise metrics: the mean over every output value, as Keras computes them.
  const element = name === 'mse' ? (d: number) => d * d : name === 'mae' ? Math.abs : (d: number, p: number, t: number) => ((p >= 0.5 ? 1 : 0) === Math.round(t) ? 1 : 0);
  return runningMean(name, 1, (p, l, j) => {
    let s = 0;
    for (let i = j * w; i < (j + 1) * w; i++) s += element(p[i] - l[i], p[i], l[i]);
    return s / w;
  });
}

/**
 * The true class of row `row` (a sample, or a sample's position when `positions` > 1): its id, or
 * the argmax of its one-hot row.
 */
function trueClass(labels: ArrayLike<number>, labelWidth: number, row: number, classes: number, positions: number): number {
  return labelWidth === 1 || positions > 1 ? labels[row] : argmax(labels, row * labelWidth, classes);
}

function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (values[offset + i] > values[offset + best]) best = i;
  return best;
}

/** Whether `cls` is among the `k` largest of the `width` scores from `offset` (ties counted against it, as a strict rank). */
function inTopK(pred: ArrayLike<number>, offset: number, width: number, cls: number, k: number): boolean {
  const score = pred[offset + cls];
  let above = 0;
  for (let i = 0; i < width; i++) if (pred[offset + i] > score) above++;
  return above < k;
}

/**
 * How many of sample `j`'s positions are predicted right (0 or 1 but for sequence labels; see
 * `labelLayout`): argmax against the class id or one-hot row, a 0.5 threshold for one output.
 */
export function correctPositions(pred: ArrayLike<number>, width: number, j: number, labels: ArrayLike<number>, labelWidth: number): number {
  if (width === 1) return (pred[j] >= 0.5 ? 1 : 0) === Math.round(labels[j]) ? 1 : 0;
  const { positions, classes } = layoutFor('accuracy', { outputWidth: width, labelWidth });
  let correct = 0;
  for (let q = 0; q < positions; q++) {
    const row = j * positions + q;
    if (argmax(pred, row * classes, classes) === trueClass(labels, labelWidth, row, classes, positions)) correct++;
  }
  return correct;
}

/** Whether sample `offset`'s prediction matches its label: every position of it, for sequence labels (see `correctPositions`). */
export function isCorrect(pred: ArrayLike<number>, width: number, offset: number, labels: ArrayLike<number>, labelWidth: number): boolean {
  return correctPositions(pred, width, offset, labels, labelWidth) === (labelLayout({ outputWidth: width, labelWidth })?.positions ?? 1);
}
