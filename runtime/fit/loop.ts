// The fit loop: epochs of shuffled mini-batches read from a SampleSource, metrics, validation,
// callbacks and stopping. One generator yields after every batch; `fitLoop` runs it through,
// `fitLoopAsync` hands the event loop a turn every few batches (Ctrl-C, a browser's UI).
import { Rng } from '../rng.ts';
import type { SampleSource } from '../sample-source.ts';
import { attachCallbacks } from './callback-state.ts';
import { checkLr, checkSchedule, scheduledLr } from './lr.ts';
import { checkMetrics, defaultMetrics, metricSums, type MetricName } from './metrics.ts';
import { isThenable, type Dataset, type EpochLog, type Evaluation, type FitControl, type FitOptions, type History, type LoopTrainer, type SampleSizes, type Stopped } from './types.ts';

// Type-only: runtime/sample-source.ts also holds Node's file readers, and this runs in browsers too.
const isSampleSource = (data: Dataset | SampleSource): data is SampleSource => typeof (data as SampleSource).read === 'function';

/** An in-memory Dataset as a SampleSource: rows copied out of its arrays, allocating nothing. */
function memorySource(d: Dataset, sizes: SampleSizes): SampleSource {
  const [xw, yw] = [sizes.input, sizes.label];
  return {
    count: d.count,
    labels: d.y instanceof Int32Array ? 'int32' : 'float32',
    read(indices, x, y) {
      for (let j = 0; j < indices.length; j++) {
        const s = indices[j];
        for (let i = 0; i < xw; i++) x[j * xw + i] = d.x[s * xw + i];
        for (let i = 0; i < yw; i++) y[j * yw + i] = d.y[s * yw + i];
      }
    },
  };
}

/** Throws unless `data` holds `count` whole samples of the model's sizes; returns it as a source. */
export function sourceOf(data: Dataset | SampleSource, sizes: SampleSizes, what: string): SampleSource {
  if (isSampleSource(data)) {
    if (!(Number.isInteger(data.count) && data.count >= 0)) throw new RangeError(`${what}: count must be a non-negative integer, got ${data.count}`);
    if (data.labels !== (sizes.classIds ? 'int32' : 'float32')) throw new RangeError(`${what}: the model's labels are ${sizes.classIds ? 'int32 class ids' : 'float32'}, the source gives ${data.labels}`);
    return data;
  }
  const Labels = sizes.classIds ? Int32Array : Float32Array;
  const Inputs = sizes.intInput ? Int32Array : Float32Array;
  if (!(data.x instanceof Inputs) || !(data.y instanceof Labels)) {
    const got = (a: unknown) => (a as object)?.constructor?.name ?? typeof a;
    const xs = sizes.intInput ? ' (the model takes int32 inputs, e.g. token ids)' : '';
    throw new TypeError(`${what}: expected x a ${Inputs.name}${xs} and y a ${Labels.name} (${sizes.classIds ? 'class ids' : 'targets'}), got ${got(data.x)} and ${got(data.y)}`);
  }
  if (data.x.length !== data.count * sizes.input || data.y.length !== data.count * sizes.label) {
    throw new RangeError(`${what}: ${data.count} samples need ${data.count * sizes.input} input and ${data.count * sizes.label} label values, got ${data.x.length} and ${data.y.length}`);
  }
  return memorySource(data, sizes);
}

/** A batch's input and label arrays: int32 inputs (token ids) and class ids as Int32Array, the rest as Float32Array. */
export function batchArrays(sizes: SampleSizes, batchSize: number): [Float32Array | Int32Array, Float32Array | Int32Array] {
  const x = sizes.intInput ? new Int32Array(batchSize * sizes.input) : new Float32Array(batchSize * sizes.input);
  const y = sizes.classIds ? new Int32Array(batchSize * sizes.label) : new Float32Array(batchSize * sizes.label);
  return [x, y];
}

/** Seed of epoch `epoch`'s shuffle: a function of (seed, epoch) alone, so a resumed run shuffles as an unbroken one. */
function epochSeed(seed: number, epoch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ epoch, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The sample order of one epoch: 0..count-1, shuffled from (seed, epoch) unless `shuffle` is false. */
export function epochOrder(count: number, seed: number, epoch: number, shuffle = true): Int32Array {
  const order = Int32Array.from({ length: count }, (_, i) => i);
  return shuffle ? new Rng(epochSeed(seed, epoch)).shuffle(order) : order;
}

/** The metric names of a fit: those asked for (checked), else the defaults for the model. */
function metricNames(asked: readonly string[] | undefined, sizes: SampleSizes): MetricName[] {
  const shape = { outputWidth: sizes.output, labelWidth: sizes.label };
  if (asked === undefined) return defaultMetrics({ ...shape, classIds: sizes.classIds });
  checkMetrics(asked, shape);
  return [...asked];
}

/**
 * Trains for `options.epochs` epochs, yielding after every batch; returns the history. Training
 * metrics come from each step's own predictions (`lastOutput`: its forward pass, before its
 * update, as Keras computes them): no second forward pass.
 */
export function* fitSteps(trainer: LoopTrainer, sizes: SampleSizes, data: Dataset | SampleSource, options: FitOptions, asyncSteps = false, canWait = false): Generator<StepRequest | ValidationRequest | WaitRequest | undefined, History, number | Evaluation | undefined> {
  const source = sourceOf(data, sizes, 'training data');
  const validation = options.validationData && sourceOf(options.validationData, sizes, 'validation data');
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  if (!(Number.isInteger(options.epochs) && options.epochs >= 0)) throw new RangeError(`epochs must be a non-negative integer, got ${options.epochs}`);
  const metrics = metricNames(options.metrics, sizes);
  checkSchedule(options.schedule);
  const [bx, by] = batchArrays(sizes, batchSize);
  const batches = Math.ceil(source.count / batchSize);
  const epochs: EpochLog[] = [];
  let stopped: Stopped | undefined;
  let current = trainer.epochs;
  const control: FitControl = {
    trainer,
    baseLr: trainer.lr,
    history: { epochs },
    stop(reason) {
      stopped ??= { epoch: current, reason };
    },
  };
  const callbacks = options.callbacks ?? [];
  // A loaded trainer's callback states go back to these callbacks; save() records theirs.
  attachCallbacks(trainer, callbacks);
  const first = trainer.epochs;
  try {
    for (let epoch = first; epoch < first + options.epochs && !stopped; epoch++) {
      current = epoch;
      const order = epochOrder(source.count, options.seed ?? 0, epoch, options.shuffle !== false);
      const sums = metricSums(metrics, { outputWidth: sizes.output, labelWidth: sizes.label });
      const started = performance.now();
      let [lossSum, seen, lr] = [0, 0, control.baseLr];
      // A trainer saved mid-epoch resumes at its next batch.
      for (let b = trainer.epochBatch; b < batches && !stopped; b++) {
        const n = Math.min(batchSize, source.count - b * batchSize);
        source.read(order.subarray(b * batchSize, b * batchSize + n), bx, by);
        const [x, y] = n === batchSize ? [bx, by] : [bx.subarray(0, n * sizes.input), by.subarray(0, n * sizes.label)];
        lr = scheduledLr(options.schedule, control.baseLr, epoch, trainer.steps);
        checkLr(lr, `the learning-rate schedule's value at step ${trainer.steps} (epoch ${epoch}, batch ${b})`);
        trainer.lr = lr;
        // Asynchronous steps (WebGPU) are handed out to fitLoopAsync, which sends the loss back.
        const loss = asyncSteps ? ((yield { x, y, n }) as number) : trainer.step(x, y, n);
        if (sums.length > 0) {
          const pred = trainer.lastOutput();
          for (const s of sums) s.add(pred, y, n);
        }
        lossSum += loss * n;
        seen += n;
        trainer.epochBatch = b + 1;
        const progress = { epoch, batch: b, batches, loss };
        options.onBatch?.(progress);
        for (const c of callbacks) yield* settled(c.onBatchEnd?.(progress, control), canWait);
        yield;
      }
      if (trainer.epochBatch < batches) break;
      [trainer.epochs, trainer.epochBatch] = [epoch + 1, 0];
      const seconds = (performance.now() - started) / 1000;
      const log = epochLog(epoch, lossSum / seen, Object.fromEntries(sums.map((s) => [s.name, s.value()])), lr, seconds, seen);
      // Asynchronous fits (WebGPU) hand validation to fitLoopAsync too, which runs evaluateAsync.
      const val = validation && (asyncSteps ? ((yield { validation, batchSize, metrics }) as Evaluation) : trainer.evaluate(validation, batchSize, metrics));
      // valAccuracy only where accuracy is a metric of this fit: a regression's threshold "accuracy" means nothing.
      const valAccuracy = val?.metrics.accuracy === undefined ? {} : { valAccuracy: val.metrics.accuracy };
      const full: EpochLog = val ? { ...log, valLoss: val.loss, valMetrics: val.metrics, ...valAccuracy } : log;
      epochs.push(full);
      try {
        options.onEpoch?.(full, control);
      } catch (error) {
        // A callback that throws ends the fit, not the history.
        stopped ??= { epoch, reason: error instanceof Error ? error.message : String(error), error };
      }
      for (const c of callbacks) if (!stopped) yield* settled(c.onEpochEnd?.(full, control), canWait);
    }
  } finally {
    // A schedule changes the rate only during fit; a plateau's reduction stays.
    trainer.lr = control.baseLr;
  }
  return stopped ? { epochs, stopped } : { epochs };
}

function epochLog(epoch: number, loss: number, metrics: Record<string, number>, lr: number, seconds: number, seen: number): EpochLog {
  const accuracy = metrics.accuracy === undefined ? {} : { accuracy: metrics.accuracy };
  return { epoch, loss, metrics, ...accuracy, lr, seconds, samplesPerSecond: seen / seconds };
}

/**
 * What a callback returned, settled: nothing to do for a plain return; a Promise is handed to
 * fitLoopAsync to wait for, or refused where the fit is synchronous (it cannot wait).
 */
function* settled(result: unknown, canWait: boolean): Generator<WaitRequest, void, unknown> {
  if (!isThenable(result)) return;
  if (!canWait) {
    result.then(undefined, () => {}); // refused below; its own failure would otherwise surface as unhandled
    throw new TypeError('a callback returned a Promise, which fit() cannot wait for: use fitAsync()');
  }
  yield { wait: result };
}

/** Trains synchronously; returns the history. */
export function fitLoop(trainer: LoopTrainer, sizes: SampleSizes, data: Dataset | SampleSource, options: FitOptions): History {
  const steps = fitSteps(trainer, sizes, data, options);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

const nextTurn = () => new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/** A step `fitSteps` asks its caller to run (asynchronously) and send the loss back for. */
interface StepRequest {
  readonly x: Float32Array | Int32Array;
  readonly y: Float32Array | Int32Array;
  readonly n: number;
}

/** A callback's Promise `fitSteps` asks its caller to wait for before it goes on. */
interface WaitRequest {
  readonly wait: PromiseLike<unknown>;
}

/** The validation `fitSteps` asks its caller to run (asynchronously) and send the evaluation back for. */
interface ValidationRequest {
  readonly validation: SampleSource;
  readonly batchSize: number;
  readonly metrics: readonly string[];
}

/** Trains as `fitLoop`, giving the event loop a turn every `yieldEvery` batches (default 8); steps run through `stepAsync` where the trainer has it. */
export async function fitLoopAsync(trainer: LoopTrainer, sizes: SampleSizes, data: Dataset | SampleSource, options: FitOptions & { yieldEvery?: number }): Promise<History> {
  const every = options.yieldEvery ?? 8;
  const steps = fitSteps(trainer, sizes, data, options, !!trainer.stepAsync, true);
  let reply: number | Evaluation | undefined;
  for (let i = 1; ; ) {
    const r = steps.next(reply);
    reply = undefined;
    if (r.done) return r.value;
    if (r.value && 'wait' in r.value) {
      try {
        await r.value.wait;
      } catch (e) {
        steps.return(undefined as never); // runs the fit's own clean-up (the learning rate) before the error goes on
        throw e;
      }
    } else if (r.value && 'validation' in r.value) {
      const { validation, batchSize, metrics } = r.value;
      reply = await (trainer.evaluateAsync ? trainer.evaluateAsync(validation, batchSize, metrics) : trainer.evaluate(validation, batchSize, metrics));
    } else if (r.value) reply = await trainer.stepAsync!(r.value.x, r.value.y, r.value.n);
    else if (i++ % every === 0) await nextTurn();
  }
}
