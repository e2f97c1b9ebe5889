// `kiln train`'s loop around the trainer's `fit`: chunks of a few batches, so that Ctrl-C is seen
// between them (a synchronous fit would never let the SIGINT handler run), and checkpoints that
// write the trainer's state atomically every N epochs.
import { Rng } from '../runtime/rng.ts';
import type { Dataset, EpochLog, Evaluation, FitOptions } from '../runtime/train-loop.ts';

/** The parts of an emitted module's trainer that the CLI uses. */
export interface EmittedTrainer {
  fit(data: Dataset, options: FitOptions): EpochLog[];
  evaluate(data: Dataset, batchSize?: number): Evaluation;
  predict(x: Float32Array, batch: number): Float32Array;
  save(): Uint8Array;
  /** The GPU.js backend that runs it (gpujs modules only). */
  backend?: string;
}

/** Batches per `fit` call: small enough that Ctrl-C is answered within a fraction of a second. */
const CHUNK_BATCHES = 8;

/** What `runTraining` is asked for. */
export interface RunOptions extends Pick<FitOptions, 'onBatch' | 'onEpoch'> {
  epochs: number;
  batchSize: number;
  seed: number;
  validationData?: Dataset;
  /** Called after every `every`-th epoch (1-based), to write a checkpoint. */
  checkpoint?: { every: number; write(epoch: number): void };
  /** Polled between chunks; true stops the run. */
  stopRequested(): boolean;
}

/** How a run ended: every epoch's log, and where it stopped if it was stopped. */
export interface RunOutcome {
  readonly logs: EpochLog[];
  readonly stopped?: { epoch: number; batch: number };
}

/** Copies the rows `order[from..from+n)` of `src` (rows of `width` values) into a new array. */
function gatherRows<A extends Float32Array | Int32Array>(src: A, order: Int32Array, from: number, n: number, width: number): A {
  const out = new (src.constructor as new (length: number) => A)(n * width);
  for (let j = 0; j < n; j++) out.set(src.subarray(order[from + j] * width, (order[from + j] + 1) * width), j * width);
  return out;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains like `trainer.fit(data, { epochs, batchSize, shuffle: true, seed })` — the same
 * shuffled order (one Rng from `seed`, one shuffle per epoch), the same batches — but hands the
 * event loop a turn every few batches, so that a stop request (SIGINT) ends the run cleanly.
 */
export async function runTraining(trainer: EmittedTrainer, data: Dataset, o: RunOptions): Promise<RunOutcome> {
  const rng = new Rng(o.seed);
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  const inputWidth = data.x.length / data.count;
  const labelWidth = data.y.length / data.count;
  const batches = Math.ceil(data.count / o.batchSize);
  const logs: EpochLog[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    rng.shuffle(order);
    const started = performance.now();
    let lossSum = 0;
    for (let b = 0; b < batches; b += CHUNK_BATCHES) {
      await nextTurn();
      if (o.stopRequested()) return { logs, stopped: { epoch, batch: b } };
      const from = b * o.batchSize;
      const n = Math.min(CHUNK_BATCHES * o.batchSize, data.count - from);
      const chunk: Dataset = { x: gatherRows(data.x, order, from, n, inputWidth), y: gatherRows(data.y, order, from, n, labelWidth), count: n };
      const [log] = trainer.fit(chunk, {
        epochs: 1,
        batchSize: o.batchSize,
        shuffle: false,
        onBatch: (p) => o.onBatch?.({ epoch, batch: b + p.batch, batches, loss: p.loss }),
      });
      lossSum += log.loss * n;
    }
    const seconds = (performance.now() - started) / 1000;
    const val = o.validationData ? trainer.evaluate(o.validationData, o.batchSize) : undefined;
    const log: EpochLog = { epoch, loss: lossSum / data.count, valLoss: val?.loss, valAccuracy: val?.accuracy, seconds, samplesPerSecond: data.count / seconds };
    logs.push(log);
    o.onEpoch?.(log);
    if (o.checkpoint && (epoch + 1) % o.checkpoint.every === 0) o.checkpoint.write(epoch + 1);
  }
  return { logs };
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
