// The part of a trainer that does no numerics: step counting, dropout seeds, fit, evaluate,
// save and load. A backend supplies the compiled step and evaluation (`TrainerCore`); this wraps
// them into the `Trainer` every emitted module offers.
import { checkInput, resolveWeights, type ParameterInfo, type TensorInfo, type WeightsSource } from './model-io.ts';
import { Rng } from './rng.ts';
import { callbackStates, loadCallbackStates } from './fit/callback-state.ts';
import { evaluateSource, evaluateSourceAsync } from './fit/evaluate.ts';
import { fitLoop, fitLoopAsync, sourceOf } from './fit/loop.ts';
import { checkLr } from './fit/lr.ts';
import type { Dataset, Evaluation, FitOptions, History, SampleSizes } from './fit/types.ts';
import type { SampleSource } from './sample-source.ts';
import { decodeWeights, encodeWeights, type WeightTensor } from './weights.ts';
import { checkWeightsIdentity } from './weights-identity.ts';
import { namingPath, readWeightsBytes } from './weights-reader.ts';

type Labels = Float32Array | Int32Array;

/** What a backend's compiled training step offers. Arrays are in parameter/state order. */
export interface TrainerCore {
  /** One forward + loss + backward + update pass; writes the new weights and state; returns the loss. */
  step(x: Float32Array | Int32Array, labels: Labels, batch: number, hyper: { lr: number; step: number; seed: number }): number;
  /** The last step's predictions (its training-mode forward pass), batch rows only; a view where the backend can. */
  lastOutput(): Float32Array | Float64Array;
  /** The inference form's mean loss and outputs on a batch. */
  evaluate(x: Float32Array | Int32Array, labels: Labels, batch: number): { loss: number; output: Float32Array | Float64Array };
  predict(x: Float32Array | Int32Array, batch: number): Float32Array | Float64Array | Int32Array;
  readWeights(): Float32Array[];
  writeWeights(arrays: readonly Float32Array[]): void;
  readState(): Float32Array[];
  writeState(arrays: readonly Float32Array[]): void;
  /** Asynchronous forms (WebGPU's only way to run); a backend without them is wrapped from the synchronous ones. */
  stepAsync?(x: Float32Array | Int32Array, labels: Labels, batch: number, hyper: { lr: number; step: number; seed: number }): Promise<number>;
  predictAsync?(x: Float32Array | Int32Array, batch: number): Promise<Float32Array | Float64Array | Int32Array>;
  readWeightsAsync?(): Promise<Float32Array[]>;
  readStateAsync?(): Promise<Float32Array[]>;
  evaluateAsync?(x: Float32Array | Int32Array, labels: Labels, batch: number): Promise<{ loss: number; output: Float32Array | Float64Array }>;
}

/** What the emitted module knows about its model, for checks and weight files. */
export interface TrainerInfo {
  readonly modelName: string;
  readonly graphHash: string;
  readonly input: TensorInfo;
  readonly labels: TensorInfo;
  readonly parameters: readonly ParameterInfo[];
  readonly stateParameters: readonly ParameterInfo[];
  /** Values per sample of the model output (for accuracy). */
  readonly outputWidth: number;
  readonly defaultLr: number;
  readonly defaultSeed: number;
  /** Number of classes when labels are class ids (sparse categorical cross-entropy): each must lie in [0, classes). */
  readonly classes?: number;
}

export interface Trainer {
  /** One optimizer step on a batch; returns the batch loss. */
  /** `input` is an Int32Array for an int32 input (token ids), a Float32Array otherwise. */
  step(input: Float32Array | Int32Array, labels: Labels, batch: number): number;
  /**
   * The model's outputs for the last step's batch, from that step's own forward pass: training
   * mode (dropout applied, batch statistics), the weights before the update. On the JavaScript
   * backend a view of the step's buffer, valid until the next step (copy it to keep it); GPU.js
   * reads it from the device on the first call. Throws before the first step.
   */
  lastOutput(): Float32Array | Float64Array;
  /** `step` on every backend, WebGPU included (resolves to the batch loss). */
  stepAsync(input: Float32Array | Int32Array, labels: Labels, batch: number): Promise<number>;
  /** `predict` on every backend, WebGPU included. */
  predictAsync(input: Float32Array | Int32Array, batch: number): Promise<Float32Array | Float64Array | Int32Array>;
  /** `getWeights` on every backend, WebGPU included. */
  getWeightsAsync(): Promise<WeightTensor[]>;
  /** `getState` on every backend, WebGPU included. */
  getStateAsync(): Promise<WeightTensor[]>;
  /** Inference with the current weights. */
  predict(input: Float32Array | Int32Array, batch: number): Float32Array | Float64Array | Int32Array;
  getWeights(): WeightTensor[];
  /** A copy of the optimizer state. */
  getState(): WeightTensor[];
  setWeights(weights: WeightsSource): void;
  setState(state: WeightsSource): void;
  /** Epochs of shuffled mini-batches with metrics and callbacks; returns the history (kept when a callback stops it). */
  fit(data: Dataset | SampleSource, options: FitOptions): History;
  /** `fit`, giving the event loop a turn every `yieldEvery` batches (default 8): a UI stays live, Ctrl-C is seen. */
  fitAsync(data: Dataset | SampleSource, options: FitOptions & { yieldEvery?: number }): Promise<History>;
  /** Mean loss, accuracy and `metrics` with the inference form of the model (no dropout, running statistics). */
  evaluate(data: Dataset | SampleSource, batchSize?: number, metrics?: readonly string[]): Evaluation;
  /** `evaluate` on every backend, WebGPU included (each batch's loss and outputs read back asynchronously). */
  evaluateAsync(data: Dataset | SampleSource, batchSize?: number, metrics?: readonly string[]): Promise<Evaluation>;
  /** Weights, optimizer state, step count, epoch position, dropout RNG and the last fit's callbacks' state (early stopping's best and wait, …) as one weight file. */
  save(): Uint8Array;
  /** `save` on every backend, WebGPU included (weights and state read back asynchronously). */
  saveAsync(): Promise<Uint8Array>;
  /** Restores what `save` wrote: training continues where it stopped; the next fit's callbacks continue their counts. */
  load(bytes: Uint8Array | ArrayBuffer): void;
  /** Steps taken so far (Adam bias correction counts them). */
  steps: number;
  /** Learning rate of the next step; schedules set it between steps. */
  lr: number;
  /** Epochs finished by fit over the trainer's life (saved: a resumed fit continues the count and the shuffle). */
  epochs: number;
  /** Batches finished of the epoch in progress (0 between epochs). */
  epochBatch: number;
}

const snapshot = (params: readonly ParameterInfo[], arrays: readonly Float32Array[]): WeightTensor[] =>
  params.map((p, i) => ({ name: p.name, dtype: 'float32', shape: p.shape as number[], data: arrays[i] }));

/**
 * `weights` (a path's bytes, for a path) when it is a trainer's own `save()` (weights, optimizer
 * state, step count): the trainer then starts from all of it, not from the weights alone.
 */
export function savedTrainer(weights: WeightsSource | undefined): Uint8Array | ArrayBuffer | undefined {
  if (typeof weights === 'string') {
    const bytes = readWeightsBytes(weights);
    return namingPath(weights, () => savedTrainer(bytes));
  }
  if (!(weights instanceof Uint8Array || weights instanceof ArrayBuffer)) return undefined;
  return typeof decodeWeights(weights).meta.steps === 'number' ? weights : undefined;
}

/**
 * The model's weights out of a trainer's `save()`, by name, for `createModel` (the optimizer
 * state and step count are restored by the trainer's `load`, which also checks the file's model).
 */
export function savedWeights(saved: Uint8Array | ArrayBuffer, parameters: readonly ParameterInfo[]): Readonly<Record<string, Float32Array>> {
  const wanted = new Set(parameters.map((p) => p.name));
  const tensors = decodeWeights(saved).tensors.filter((t) => wanted.has(t.name) && t.data instanceof Float32Array);
  // fromEntries defines own properties: a parameter named "__proto__" stays a key.
  return Object.fromEntries(tensors.map((t) => [t.name, t.data as Float32Array]));
}

/** `options.saved`: a `save()` to resume from (see `savedTrainer`). */
export function trainerShell(core: TrainerCore, info: TrainerInfo, options: { seed?: number; lr?: number; saved?: Uint8Array | ArrayBuffer; allowForeignWeights?: boolean } = {}): Trainer {
  const sizes: SampleSizes = { input: sampleWidth(info.input), label: sampleWidth(info.labels), output: info.outputWidth, classIds: info.labels.dtype === 'int32', intInput: info.input.dtype === 'int32' };
  /** Draws each step's dropout seed; saved with the trainer so a resumed run draws the same. */
  let dropoutRng = new Rng((options.seed ?? info.defaultSeed) + 1);
  const identity = { name: info.modelName, graphHash: info.graphHash };
  const lr = options.lr ?? info.defaultLr;
  checkLr(lr, options.lr === undefined ? 'the compiled-in learning rate' : 'createTrainer: lr');
  const checkLabels = (labels: Labels, batch: number) => {
    checkInput(info.labels, labels, batch);
    if (info.classes !== undefined) checkClassIds(labels, info.classes);
  };
  /** Whether this trainer has run a step: only then does the core hold its predictions. */
  let stepped = false;
  /** A step's checks and counting, before it runs (synchronously or not): its hyperparameters. */
  const nextStep = (x: Float32Array | Int32Array, labels: Labels, batch: number) => {
    checkInput(info.input, x, batch);
    checkLabels(labels, batch);
    // trainer.lr is public and writable: checked where it is used.
    checkLr(trainer.lr, `the learning rate of step ${trainer.steps + 1}`);
    trainer.steps++;
    stepped = true;
    // Below 2^24 so a float32 holds the seed exactly.
    return { lr: trainer.lr, step: trainer.steps, seed: dropoutRng.int(16777216) };
  };
  const readWeightsAsync = async () => (core.readWeightsAsync ? core.readWeightsAsync() : core.readWeights());
  const readStateAsync = async () => (core.readStateAsync ? core.readStateAsync() : core.readState());
  /** What save() writes: weights, optimizer state and where training stands. */
  const saveFile = (weights: Float32Array[], state: Float32Array[]) =>
    encodeWeights([...snapshot(info.parameters, weights), ...snapshot(info.stateParameters, state)], { model: info.modelName, graphHash: info.graphHash, steps: trainer.steps, epochs: trainer.epochs, epochBatch: trainer.epochBatch, lr: trainer.lr, dropoutRng: dropoutRng.getState(), ...withCallbacks(callbackStates(trainer)) });
  const trainer: Trainer = {
    steps: 0,
    lr,
    epochs: 0,
    epochBatch: 0,
    step(x, labels, batch) {
      return core.step(x, labels, batch, nextStep(x, labels, batch));
    },
    async stepAsync(x, labels, batch) {
      const hyper = nextStep(x, labels, batch);
      return core.stepAsync ? core.stepAsync(x, labels, batch, hyper) : core.step(x, labels, batch, hyper);
    },
    predictAsync: async (x, batch) => (core.predictAsync ? core.predictAsync(x, batch) : core.predict(x, batch)),
    getWeightsAsync: async () => snapshot(info.parameters, await readWeightsAsync()),
    getStateAsync: async () => snapshot(info.stateParameters, await readStateAsync()),
    lastOutput() {
      if (!stepped) throw new RangeError('lastOutput: this trainer has not run a step yet (it returns the predictions of the last step)');
      return core.lastOutput();
    },
    predict: (x, batch) => core.predict(x, batch),
    getWeights: () => snapshot(info.parameters, core.readWeights()),
    getState: () => snapshot(info.stateParameters, core.readState()),
    setWeights: (weights) => core.writeWeights(resolveWeights(info.parameters, weights, 0, identity)),
    setState: (state) => core.writeState(resolveWeights(info.stateParameters, state, 0)),
    fit: (data, fitOptions) => fitLoop(trainer, sizes, data, fitOptions),
    fitAsync: (data, fitOptions) => fitLoopAsync(trainer, sizes, data, fitOptions),
    evaluate(data, batchSize = 256, metrics = []) {
      const evalBatch = (x: Float32Array | Int32Array, y: Labels, n: number) => {
        checkInput(info.input, x, n);
        checkLabels(y, n);
        return core.evaluate(x, y, n);
      };
      return evaluateSource(evalBatch, sizes, sourceOf(data, sizes, 'evaluation data'), batchSize, metrics);
    },
    async evaluateAsync(data, batchSize = 256, metrics = []) {
      const evalBatch = async (x: Float32Array | Int32Array, y: Labels, n: number) => {
        checkInput(info.input, x, n);
        checkLabels(y, n);
        return core.evaluateAsync ? core.evaluateAsync(x, y, n) : core.evaluate(x, y, n);
      };
      return evaluateSourceAsync(evalBatch, sizes, sourceOf(data, sizes, 'evaluation data'), batchSize, metrics);
    },
    save: () => saveFile(core.readWeights(), core.readState()),
    saveAsync: async () => saveFile(await readWeightsAsync(), await readStateAsync()),
    load(bytes) {
      const { tensors, meta } = decodeWeights(bytes);
      if (!(bytes === options.saved && options.allowForeignWeights)) checkWeightsIdentity(meta, identity);
      const byName = Object.fromEntries(tensors.map((x) => [x.name, x.data as Float32Array]));
      core.writeWeights(resolveWeights(info.parameters, byName, 0));
      core.writeState(resolveWeights(info.stateParameters, byName, 0));
      trainer.steps = Number(meta.steps ?? 0);
      // Files written before epochs were saved resume at epoch 0.
      trainer.epochs = Number(meta.epochs ?? 0);
      trainer.epochBatch = Number(meta.epochBatch ?? 0);
      if (typeof meta.lr === 'number') trainer.lr = meta.lr;
      if (Array.isArray(meta.dropoutRng)) dropoutRng = Rng.fromState(meta.dropoutRng as number[]);
      // Early stopping's, the plateau's and checkpoints' counts, for the next fit's callbacks.
      loadCallbackStates(trainer, meta.callbacks);
    },
  };
  if (options.saved) trainer.load(options.saved);
  return trainer;
}

/**
 * Throws unless every label is a class id in [0, classes): the compiled loss one-hot encodes
 * them, and an id outside the range would give that sample loss 0 and no gradient. One pass, on the host.
 */
function checkClassIds(labels: Labels, classes: number): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new RangeError(`label ${v} at index ${i} is not a class id: the model has ${classes} classes, so labels must be integers in [0, ${classes - 1}]`);
    }
  }
}

/** The `callbacks` meta entry, absent when no callback has state (files stay as before). */
const withCallbacks = (states: Record<string, unknown> | undefined) => (states ? { callbacks: states } : {});

const sampleWidth = (t: TensorInfo) => t.shape.reduce<number>((p, d) => p * (d === 'N' ? 1 : d), 1);
