// evaluate(): the inference form's sample-weighted mean loss and metrics over a data set, read a
// batch at a time from a SampleSource; synchronously, or awaiting each batch (WebGPU).
import type { SampleSource } from '../sample-source.ts';
import { batchArrays } from './loop.ts';
import { checkMetrics, correctPositions, labelLayout, metricSums } from './metrics.ts';
import type { Evaluation, SampleSizes } from './types.ts';

/** One batch's evaluation: its mean loss and the model's outputs. */
export interface BatchEvaluation {
  loss: number;
  output: ArrayLike<number>;
}

/** One batch through the compiled evaluation: its mean loss and the model's outputs. */
export type EvalBatch = (x: Float32Array | Int32Array, y: Float32Array | Int32Array, batch: number) => BatchEvaluation;
/** `EvalBatch` on a backend whose kernels are asynchronous (WebGPU): the outputs are read back without blocking. */
export type EvalBatchAsync = (x: Float32Array | Int32Array, y: Float32Array | Int32Array, batch: number) => Promise<BatchEvaluation>;

/** A batch the evaluation asks its driver to run (views valid until the next batch). */
interface BatchRequest {
  readonly x: Float32Array | Int32Array;
  readonly y: Float32Array | Int32Array;
  readonly n: number;
}

/**
 * The evaluation as a generator, shared by the synchronous and asynchronous forms so both sum the
 * same way: it yields each batch, takes that batch's result back, and returns the evaluation.
 */
function* evaluationSteps(sizes: SampleSizes, source: SampleSource, batchSize: number, metrics: readonly string[]): Generator<BatchRequest, Evaluation, BatchEvaluation> {
  if (!(source.count > 0)) throw new RangeError('evaluate needs at least one sample');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const shape = { outputWidth: sizes.output, labelWidth: sizes.label };
  checkMetrics(metrics, shape);
  const sums = metricSums(metrics, shape);
  const [bx, by] = batchArrays(sizes, batchSize);
  const indices = Int32Array.from({ length: batchSize }, (_, i) => i);
  // Accuracy counts positions for sequence labels (one class id per token); NaN where labels are no classes.
  const layout = labelLayout(shape);
  let [loss, correct] = [0, 0];
  for (let i = 0; i < source.count; i += batchSize) {
    const n = Math.min(batchSize, source.count - i);
    for (let j = 0; j < n; j++) indices[j] = i + j;
    source.read(indices.subarray(0, n), bx, by);
    const [x, y] = n === batchSize ? [bx, by] : [bx.subarray(0, n * sizes.input), by.subarray(0, n * sizes.label)];
    const result = yield { x, y, n };
    loss += result.loss * n;
    if (layout) for (let j = 0; j < n; j++) correct += correctPositions(result.output, sizes.output, j, y, sizes.label);
    for (const s of sums) s.add(result.output, y, n);
  }
  return { loss: loss / source.count, accuracy: layout ? correct / (source.count * layout.positions) : NaN, metrics: Object.fromEntries(sums.map((s) => [s.name, s.value()])) };
}

/** Mean loss, accuracy (per position for sequence labels, see labelLayout) and `metrics` over every sample of `source`, `batchSize` at a time. */
export function evaluateSource(evalBatch: EvalBatch, sizes: SampleSizes, source: SampleSource, batchSize: number, metrics: readonly string[] = []): Evaluation {
  const steps = evaluationSteps(sizes, source, batchSize, metrics);
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    r = steps.next(evalBatch(r.value.x, r.value.y, r.value.n));
  }
}

/** `evaluateSource` with each batch awaited (WebGPU): the same sums, in the same order. */
export async function evaluateSourceAsync(evalBatch: EvalBatchAsync, sizes: SampleSizes, source: SampleSource, batchSize: number, metrics: readonly string[] = []): Promise<Evaluation> {
  const steps = evaluationSteps(sizes, source, batchSize, metrics);
  for (let r = steps.next(); ; ) {
    if (r.done) return r.value;
    r = steps.next(await evalBatch(r.value.x, r.value.y, r.value.n));
  }
}
