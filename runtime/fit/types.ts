// The shapes fit works with: epoch logs, the history it returns, its options, callbacks and what
// it needs of a trainer. No code: the loop (loop.ts) and the callbacks (callbacks.ts) import these.
import type { Dataset, SampleSource } from '../sample-source.ts';
import type { Schedule } from './lr.ts';
import type { MetricName } from './metrics.ts';

export type { Dataset };

/** One epoch's training and validation figures. */
export interface EpochLog {
  /** 0-based, counted over the trainer's life (a resumed trainer continues the count). */
  readonly epoch: number;
  /** Sample-weighted mean of the epoch's step losses. */
  readonly loss: number;
  /** Training metrics by name, from each step's own predictions (training mode, the weights before its update). */
  readonly metrics: Readonly<Record<string, number>>;
  /** `metrics.accuracy`, when computed. */
  readonly accuracy?: number;
  readonly valLoss?: number;
  readonly valMetrics?: Readonly<Record<string, number>>;
  /** `valMetrics.accuracy`, when accuracy is one of the fit's metrics (a regression has none). */
  readonly valAccuracy?: number;
  /** Learning rate of the epoch's last step. */
  readonly lr: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

/** Why a fit ended before its last epoch. */
export interface Stopped {
  /** The epoch during or after which it stopped. */
  readonly epoch: number;
  /** e.g. "early stopping: valLoss did not improve for 3 epochs", "interrupted", or a thrown error's message. */
  readonly reason: string;
  /** What a callback threw, when that is what stopped it. */
  readonly error?: unknown;
}

/** What fit returns: every finished epoch's log, and why it stopped early if it did. */
export interface History {
  readonly epochs: EpochLog[];
  readonly stopped?: Stopped;
}

/** Handed to callbacks: the trainer, and the levers they pull. */
export interface FitControl {
  readonly trainer: LoopTrainer;
  /** Ends the fit after the current batch or epoch; the history is kept. */
  stop(reason: string): void;
  /** Learning rate before schedules; reduce-on-plateau lowers it. */
  baseLr: number;
  readonly history: History;
}

export interface BatchProgress {
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
  readonly loss: number;
}

/** Whether a callback returned something to wait for (a Promise or another thenable). */
export const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null | undefined)?.then === 'function';

/**
 * Hooks into fit, in the order given; `stop` through the control. A hook may return a Promise
 * (saving through `saveAsync` on WebGPU, say): `fitAsync` waits for it before the next hook and
 * step; `fit`, which cannot wait, refuses it. Any other value returned is ignored.
 */
export interface Callback {
  onBatchEnd?(progress: BatchProgress, control: FitControl): unknown;
  onEpochEnd?(log: EpochLog, control: FitControl): unknown;
}

export interface FitOptions {
  /** Epochs to run in this call (a resumed trainer's epoch numbers continue from where it stopped). */
  epochs: number;
  batchSize: number;
  shuffle?: boolean;
  /** Seed of the shuffling order: epoch e's order is a function of (seed, e) alone. */
  seed?: number;
  validationData?: Dataset | SampleSource;
  schedule?: Schedule;
  /** Metrics per epoch, training and validation; default: accuracy for classifiers (see defaultMetrics). */
  metrics?: readonly string[];
  callbacks?: readonly Callback[];
  onBatch?: (progress: BatchProgress) => void;
  /** Called after each epoch; throwing stops the fit, which returns the history so far. */
  onEpoch?: (log: EpochLog, control: FitControl) => void;
}

export interface Evaluation {
  readonly loss: number;
  /** Fraction of correct predictions (argmax for several classes, 0.5 threshold for one). */
  readonly accuracy: number;
  /** The metrics asked for, by name. */
  readonly metrics: Readonly<Record<string, number>>;
}

/** What the loop needs of a trainer; emitted trainers supply it. */
export interface LoopTrainer {
  step(x: Float32Array | Int32Array, y: Float32Array | Int32Array, batch: number): number;
  /** `step` on every backend (WebGPU's only way): fitAsync steps through it where it exists. */
  stepAsync?(x: Float32Array | Int32Array, y: Float32Array | Int32Array, batch: number): Promise<number>;
  /** The last step's predictions for its batch (before its update): the training metrics' input. */
  lastOutput(): ArrayLike<number>;
  predict(x: Float32Array | Int32Array, batch: number): ArrayLike<number>;
  evaluate(data: Dataset | SampleSource, batchSize?: number, metrics?: readonly string[]): Evaluation;
  /** `evaluate` on every backend (WebGPU's only way): fitAsync validates through it where it exists. */
  evaluateAsync?(data: Dataset | SampleSource, batchSize?: number, metrics?: readonly string[]): Promise<Evaluation>;
  getWeights(): { name: string; data: ArrayLike<number> & { slice(): ArrayLike<number> } }[];
  setWeights(weights: Readonly<Record<string, Float32Array>>): void;
  lr: number;
  steps: number;
  /** Epochs finished over the trainer's life. */
  epochs: number;
  /** Batches finished of the epoch in progress (0 between epochs): a mid-epoch save resumes there. */
  epochBatch: number;
}

/** Values per sample of the input, the labels and the model output. */
export interface SampleSizes {
  readonly input: number;
  readonly label: number;
  readonly output: number;
  /** Labels are class ids. */
  readonly classIds: boolean;
  /** The input is int32 (token ids): batches are Int32Array; float32 otherwise. */
  readonly intInput?: boolean;
}

export type { MetricName };
