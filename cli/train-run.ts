// `kiln train`'s loop around the trainer's `fitAsync`: the event loop gets a turn every few
// batches, so that Ctrl-C stops the run cleanly (with the history so far), and checkpoints write
// the trainer's state atomically every N epochs, every N steps or on a new best.
import type { SampleSource } from '../runtime/sample-source.ts';
import { KilnError } from '../src/ir/errors.ts';
import { checkpoint as checkpointCallback, earlyStopping, reduceLrOnPlateau, type Callback, type CheckpointEvent, type Dataset, type EarlyStoppingOptions, type Evaluation, type FitOptions, type History, type ReduceLrOnPlateauOptions } from '../runtime/train-loop.ts';

/** The parts of an emitted module's trainer that the CLI uses. */
export interface EmittedTrainer {
  fit(data: Dataset | SampleSource, options: FitOptions): History;
  fitAsync(data: Dataset | SampleSource, options: FitOptions & { yieldEvery?: number }): Promise<History>;
  evaluate(data: Dataset | SampleSource, batchSize?: number, metrics?: readonly string[]): Evaluation;
  predict(x: Float32Array, batch: number): Float32Array;
  save(): Uint8Array;
  steps: number;
  epochs: number;
  epochBatch: number;
  /** The GPU.js backend that runs it (gpujs modules only). */
  backend?: string;
}

/** Batches between turns of the event loop: small enough that Ctrl-C is answered within a fraction of a second. */
const CHUNK_BATCHES = 8;

/** What `runTraining` is asked for. */
export interface RunOptions extends Pick<FitOptions, 'onBatch' | 'onEpoch' | 'metrics' | 'schedule'> {
  epochs: number;
  batchSize: number;
  seed: number;
  validationData?: Dataset | SampleSource;
  /** Checkpoints: `write` gets why (every N epochs or steps, or a new best). */
  checkpoint?: { everyEpochs?: number; everySteps?: number; best?: { monitor: string }; write(event: CheckpointEvent): void };
  earlyStopping?: EarlyStoppingOptions;
  reduceLrOnPlateau?: ReduceLrOnPlateauOptions;
  /** Polled after every batch; true stops the run. */
  stopRequested(): boolean;
}

/** How a run ended: the history (`logs`: its epochs); `stopped` where a stop request (not a callback) ended it. */
export interface RunOutcome {
  readonly history: History;
  readonly logs: History['epochs'];
  readonly stopped?: { epoch: number; batch: number };
}

/** The callbacks a run's options ask for, in the order they act: stop request, checkpoints, plateau, early stopping. */
function callbacksOf(trainer: EmittedTrainer, o: RunOptions, interrupted: (at: { epoch: number; batch: number }) => void): Callback[] {
  const callbacks: Callback[] = [
    {
      onBatchEnd(p, control) {
        if (!o.stopRequested()) return;
        interrupted({ epoch: p.epoch, batch: trainer.epochBatch });
        control.stop('interrupted');
      },
    },
  ];
  if (o.checkpoint) callbacks.push(checkpointCallback({ ...o.checkpoint, save: o.checkpoint.write }));
  if (o.reduceLrOnPlateau) callbacks.push(reduceLrOnPlateau(o.reduceLrOnPlateau));
  if (o.earlyStopping) callbacks.push(earlyStopping(o.earlyStopping));
  return callbacks;
}

/**
 * Trains like `trainer.fit(data, { epochs, batchSize, shuffle: true, seed, … })` — the same
 * shuffled order, the same batches — but hands the event loop a turn every few batches, so that
 * a stop request (SIGINT) ends the run cleanly.
 */
export async function runTraining(trainer: EmittedTrainer, data: Dataset | SampleSource, o: RunOptions): Promise<RunOutcome> {
  if (o.metrics) checkMetricsOn(trainer, data, o.metrics);
  let interrupted: { epoch: number; batch: number } | undefined;
  const history = await trainer.fitAsync(data, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    seed: o.seed,
    shuffle: true,
    validationData: o.validationData,
    metrics: o.metrics,
    schedule: o.schedule,
    onBatch: o.onBatch,
    onEpoch: o.onEpoch,
    callbacks: callbacksOf(trainer, o, (at) => (interrupted = at)),
    yieldEvery: CHUNK_BATCHES,
  });
  return interrupted ? { history, logs: history.epochs, stopped: interrupted } : { history, logs: history.epochs };
}

/**
 * Throws a KilnError unless `metrics` are names the model's output and labels allow (checked by
 * evaluating them on the first sample, before any training): fit would throw the same mid-run.
 */
function checkMetricsOn(trainer: EmittedTrainer, data: Dataset | SampleSource, metrics: readonly string[]): void {
  const first: Dataset | SampleSource =
    'read' in data ? { count: Math.min(1, data.count), labels: data.labels, read: (i, x, y) => data.read(i, x, y) } : { x: data.x.subarray(0, data.x.length / data.count), y: data.y.subarray(0, data.y.length / data.count), count: Math.min(1, data.count) };
  try {
    trainer.evaluate(first, 1, metrics);
  } catch (e) {
    throw new KilnError(`--metrics: ${(e as Error).message}`);
  }
}

/**
 * Turns SIGINT into a flag for the duration of `body` (a second Ctrl-C exits at once, with 130);
 * Node's default handler comes back afterwards.
 */
export async function withStopFlag<T>(body: (stopRequested: () => boolean) => Promise<T>): Promise<T> {
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on('SIGINT', onSigint);
  try {
    return await body(() => stop);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
