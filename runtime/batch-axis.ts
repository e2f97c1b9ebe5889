// Models whose batch is not the first dimension (PyTorch's sequence-first [T, N, F], imported from
// ONNX as a per-sample function): the module takes the user's layout and loops over the batch,
// gathering sample n along each input's batch axis and scattering each output along its own.
import { checkInput, feed, type TensorInfo } from './model-io.ts';

/** Where a tensor's batch lies: `outer` blocks before it, `inner` contiguous values after it. */
export interface AxisLayout {
  readonly outer: number;
  readonly inner: number;
}

/** The layout of a shape whose batch dimension is the 'N' at `axis` (every other dimension a number). */
export function axisLayout(shape: readonly (number | 'N')[]): AxisLayout {
  const axis = shape.indexOf('N');
  const size = (dims: readonly (number | 'N')[]) => dims.reduce<number>((p, d) => p * (d === 'N' ? 1 : d), 1);
  return { outer: size(shape.slice(0, axis)), inner: size(shape.slice(axis + 1)) };
}

/** A fresh array of `length` elements of the same kind as `like` (a typed array, or a plain array of strings). */
function sameKind<A extends ArrayLike<unknown>>(like: A, length: number): A {
  if (Array.isArray(like)) return new Array(length) as unknown as A;
  const Ctor = (like as unknown as { constructor: new (n: number) => A }).constructor;
  return new Ctor(length);
}

/** Sample `n` of `data` (all `batch` samples in the layout `l`): the values with batch index n, in order. */
export function takeSample<A extends ArrayLike<unknown>>(data: A, l: AxisLayout, batch: number, n: number): A {
  const out = sameKind(data, l.outer * l.inner) as unknown as { [i: number]: unknown };
  for (let o = 0; o < l.outer; o++) {
    const from = (o * batch + n) * l.inner;
    for (let i = 0; i < l.inner; i++) out[o * l.inner + i] = data[from + i];
  }
  return out as unknown as A;
}

/** Writes one sample's values (`sample`, in the layout `l` at batch 1) into `into` as sample `n` of `batch`. */
export function putSample(into: { [i: number]: unknown }, sample: ArrayLike<unknown>, l: AxisLayout, batch: number, n: number): void {
  for (let o = 0; o < l.outer; o++) {
    const to = (o * batch + n) * l.inner;
    for (let i = 0; i < l.inner; i++) into[to + i] = sample[o * l.inner + i];
  }
}

type Feeds = Readonly<Record<string, ArrayLike<unknown>>>;
type Results = Record<string, ArrayLike<unknown>>;

/** What `perSampleModel` needs of an emitted model: its four entry points (both backends have them). */
export interface BatchedEntryPoints {
  predict(input: never, batch: number): unknown;
  predictAsync(input: never, batch: number): Promise<unknown>;
  run(feeds: never, batch: number): unknown;
  runAsync(feeds: never, batch: number): Promise<unknown>;
}

/**
 * Makes `model` (compiled for one sample) take whole batches in the user's layout: `inputs` and
 * `outputs` describe them with 'N' where the batch lies. An input without 'N' (a tensor the file
 * gives a fixed shape) goes to every sample whole. The model's entry points are replaced in place
 * (a GPU.js model's getters stay as they are); it runs once per sample, so a batch costs `batch`
 * calls, not one.
 */
export function perSampleModel<M extends BatchedEntryPoints>(model: M, inputs: readonly TensorInfo[], outputs: readonly TensorInfo[]): M {
  const inner = { run: model.run.bind(model), runAsync: model.runAsync.bind(model), predict: model.predict.bind(model), predictAsync: model.predictAsync.bind(model) } as unknown as {
    run(feeds: Feeds, batch: number): Results;
    runAsync(feeds: Feeds, batch: number): Promise<Results>;
    predict(x: unknown, batch: number): unknown;
    predictAsync(x: unknown, batch: number): Promise<unknown>;
  };
  const inLayouts = inputs.map((t) => (t.shape.includes('N') ? axisLayout(t.shape) : undefined));
  const outLayouts = outputs.map((t) => axisLayout(t.shape));
  /** The whole-batch inputs, checked in the user's layout. */
  const wholeFeeds = (feeds: Feeds, batch: number) =>
    inputs.map((t) => {
      const x = feed(feeds, t.name);
      checkInput(t, x, batch);
      return x as ArrayLike<unknown>;
    });
  const sampleFeeds = (xs: ArrayLike<unknown>[], batch: number, n: number): Feeds => {
    const out: Record<string, ArrayLike<unknown>> = {};
    // defineProperty: an input named "__proto__" is a key like any other.
    inputs.forEach((t, i) => Object.defineProperty(out, t.name, { value: inLayouts[i] ? takeSample(xs[i], inLayouts[i]!, batch, n) : xs[i], enumerable: true }));
    return out;
  };
  const gathered = (results: Results[], batch: number): Results => {
    const out: Results = {};
    outputs.forEach((t, k) => {
      const first = results[0][t.name];
      const whole = sameKind(first, first.length * batch) as unknown as { [i: number]: unknown };
      results.forEach((r, n) => putSample(whole, r[t.name], outLayouts[k], batch, n));
      Object.defineProperty(out, t.name, { value: whole, enumerable: true, writable: true, configurable: true });
    });
    return out;
  };
  const run = (feeds: Feeds, batch: number): Results => {
    const xs = wholeFeeds(feeds, batch);
    const results: Results[] = [];
    for (let n = 0; n < batch; n++) results.push(inner.run(sampleFeeds(xs, batch, n), 1));
    return gathered(results, batch);
  };
  const runAsync = async (feeds: Feeds, batch: number): Promise<Results> => {
    const xs = wholeFeeds(feeds, batch);
    const results: Results[] = [];
    for (let n = 0; n < batch; n++) results.push(await inner.runAsync(sampleFeeds(xs, batch, n), 1));
    return gathered(results, batch);
  };
  // predict of a model with several inputs is the model's own error; otherwise its first input and output.
  const single = (x: unknown): Feeds => ({ [inputs[0].name]: x as ArrayLike<unknown> });
  const m = model as unknown as Record<string, unknown>;
  m.run = run;
  m.runAsync = runAsync;
  m.predict = (x: unknown, batch: number) => (inputs.length !== 1 ? inner.predict(x, batch) : run(single(x), batch)[outputs[0].name]);
  m.predictAsync = async (x: unknown, batch: number) => (inputs.length !== 1 ? inner.predictAsync(x, batch) : (await runAsync(single(x), batch))[outputs[0].name]);
  return model;
}
