// Training-loop helpers for emitted trainers: epochs of shuffled mini-batches, learning-rate
// schedules, evaluation. The compiled step does the numerics; this only moves batches.
import { Rng } from './rng.ts';

/** Samples side by side: `x` holds `count` inputs, `y` their labels (class ids or targets). */
export interface Dataset {
  readonly x: Float32Array;
  readonly y: Float32Array | Int32Array;
  readonly count: number;
}

/** Learning rate as a function of progress, or one of the two classic decays. */
export type Schedule =
  | { kind: 'exponential'; rate: number; steps: number; staircase?: boolean }
  | { kind: 'step'; gamma: number; epochs: number }
  | ((progress: { epoch: number; step: number; baseLr: number }) => number);

export interface EpochLog {
  readonly epoch: number;
  readonly loss: number;
  readonly accuracy?: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  shuffle?: boolean;
  /** Seed of the shuffling order (the weights' seed is the trainer's). */
  seed?: number;
  validationData?: Dataset;
  schedule?: Schedule;
  onBatch?: (progress: { epoch: number; batch: number; batches: number; loss: number }) => void;
  onEpoch?: (log: EpochLog) => void;
}

export interface Evaluation {
  readonly loss: number;
  /** Fraction of correct predictions (argmax for several classes, 0.5 threshold for one). */
  readonly accuracy: number;
}

/** What the loop needs of a trainer; emitted modules supply it. */
export interface LoopTrainer {
  step(x: Float32Array, y: Float32Array | Int32Array, batch: number): number;
  evaluate(data: Dataset, batchSize?: number): Evaluation;
  lr: number;
  steps: number;
}

export interface SampleSizes {
  readonly input: number;
  readonly label: number;
}

/**
 * Throws unless `lr` is a finite number ≥ 0: a NaN, an infinity or a string would turn every
 * weight into NaN at the next step, and a negative rate climbs the loss.
 */
export function checkLr(lr: unknown, what: string): asserts lr is number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new RangeError(`${what} must be a finite number ≥ 0, got ${typeof lr === 'string' ? JSON.stringify(lr) : String(lr)}`);
  }
}

/** The learning rate for a step under a schedule. */
export function scheduledLr(schedule: Schedule | undefined, baseLr: number, epoch: number, step: number): number {
  if (!schedule) return baseLr;
  if (typeof schedule === 'function') return schedule({ epoch, step, baseLr });
  if (schedule.kind === 'exponential') {
    const p = step / schedule.steps;
    return baseLr * schedule.rate ** (schedule.staircase ? Math.floor(p) : p);
  }
  return baseLr * schedule.gamma ** Math.floor(epoch / schedule.epochs);
}

function checkDataset(data: Dataset, sizes: SampleSizes, what: string): void {
  if (data.x.length !== data.count * sizes.input || data.y.length !== data.count * sizes.label) {
    throw new RangeError(`${what}: ${data.count} samples need ${data.count * sizes.input} input and ${data.count * sizes.label} label values, got ${data.x.length} and ${data.y.length}`);
  }
}

/** Trains for `options.epochs` epochs; returns one log per epoch. */
export function fitLoop(trainer: LoopTrainer, sizes: SampleSizes, data: Dataset, options: FitOptions): EpochLog[] {
  checkDataset(data, sizes, 'training data');
  if (options.validationData) checkDataset(options.validationData, sizes, 'validation data');
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const rng = new Rng(options.seed ?? 0);
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  const bx = new Float32Array(batchSize * sizes.input);
  const by = data.y instanceof Int32Array ? new Int32Array(batchSize * sizes.label) : new Float32Array(batchSize * sizes.label);
  const baseLr = trainer.lr;
  const batches = Math.ceil(data.count / batchSize);
  const logs: EpochLog[] = [];
  try {
    trainEpochs();
  } finally {
    // A schedule changes the rate only for this fit, even when a callback throws to stop early.
    trainer.lr = baseLr;
  }
  return logs;

  function trainEpochs(): void {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      if (options.shuffle !== false) rng.shuffle(order);
      const started = performance.now();
      let lossSum = 0;
      for (let b = 0; b < batches; b++) {
        const n = Math.min(batchSize, data.count - b * batchSize);
        for (let j = 0; j < n; j++) {
          const s = order[b * batchSize + j];
          copyRow(data.x, s, bx, j, sizes.input);
          copyRow(data.y, s, by, j, sizes.label);
        }
        const lr = scheduledLr(options.schedule, baseLr, epoch, trainer.steps);
        checkLr(lr, `the learning-rate schedule's value at step ${trainer.steps} (epoch ${epoch}, batch ${b})`);
        trainer.lr = lr;
        const full = n === batchSize;
        const loss = trainer.step(full ? bx : bx.subarray(0, n * sizes.input), full ? by : by.subarray(0, n * sizes.label), n);
        lossSum += loss * n;
        options.onBatch?.({ epoch, batch: b, batches, loss });
      }
      const seconds = (performance.now() - started) / 1000;
      const val = options.validationData ? trainer.evaluate(options.validationData, batchSize) : undefined;
      const log: EpochLog = { epoch, loss: lossSum / data.count, valLoss: val?.loss, valAccuracy: val?.accuracy, seconds, samplesPerSecond: data.count / seconds };
      logs.push(log);
      options.onEpoch?.(log);
    }
  }
}

/** Copies sample `from` of `src` into slot `to` of `dst` (rows of `width` values), allocating nothing. */
function copyRow(src: Float32Array | Int32Array, from: number, dst: Float32Array | Int32Array, to: number, width: number): void {
  const [a, b] = [from * width, to * width];
  for (let i = 0; i < width; i++) dst[b + i] = src[a + i];
}

/** Whether prediction `offset` (of `width` values) matches its label. */
export function isCorrect(pred: Float32Array | Float64Array, width: number, offset: number, labels: Float32Array | Int32Array, labelWidth: number): boolean {
  if (width === 1) return (pred[offset] >= 0.5 ? 1 : 0) === Math.round(labels[offset]);
  let best = 0;
  for (let i = 1; i < width; i++) if (pred[offset * width + i] > pred[offset * width + best]) best = i;
  if (labelWidth === 1) return best === labels[offset];
  let truth = 0;
  for (let i = 1; i < labelWidth; i++) if (labels[offset * labelWidth + i] > labels[offset * labelWidth + truth]) truth = i;
  return best === truth;
}
