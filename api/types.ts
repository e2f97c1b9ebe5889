// The types of a module compiled in memory by compile(): what an emitted module's .d.mts declares, in one place.
import type { ParameterInfo, TensorInfo, Trainer, WeightTensor, WeightsSource } from '../runtime/index.ts';
import type { ThreadPool } from '../runtime/node.ts';
import type { LossKind, LossSpec } from '../compiler/train/losses.ts';
import type { OptimizerSpec } from '../compiler/train/optimizers.ts';
import type { Limits } from '../src/ir/limits.ts';

export type { LossKind, LossSpec, OptimizerSpec };

/** Arrays a model reads and returns (an output's dtype decides which). */
export type TensorArray = Float32Array | Float64Array | Int32Array;

/** A compiled model with its weights (what `createModel` returns). */
export interface CompiledModelInstance {
  /** Runs the model on `batch` samples of its first input; returns its first output. */
  predict(input: Float32Array, batch: number): TensorArray;
  /** Runs the model on named inputs; returns every output by name. */
  run(feeds: Readonly<Record<string, TensorArray>>, batch: number): Record<string, TensorArray>;
  getWeights(): WeightTensor[];
}

/**
 * Options of `createModel`: `pool` and `simd` for the JavaScript backend; `mode`, `maxBatch`,
 * `device`, `gpu`, `precompiled` for `gpujs` (kiln/runtime/gpujs's GpuOptions, spelled loosely
 * here so that these types never name the optional package gpu.js).
 */
export interface CreateModelOptions {
  seed?: number;
  pool?: ThreadPool;
  simd?: boolean;
  allowForeignWeights?: boolean;
  /** `gpujs`: the GPU.js backend to demand. */
  mode?: 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';
  /** `gpujs`: the largest batch a call may have. */
  maxBatch?: number;
  /** `gpujs`: a GpuDevice to share with other models, a GPU.js instance, precompiled kernels. */
  device?: unknown;
  gpu?: unknown;
  precompiled?: unknown;
}

/** Options of `createTrainer`. */
export interface CreateTrainerOptions {
  /** Starting weights: a weight file, arrays by name, or a trainer's `save()` (then optimizer state and step too). */
  weights?: WeightsSource;
  state?: WeightsSource;
  seed?: number;
  lr?: number;
  pool?: ThreadPool;
  simd?: boolean;
  allowForeignWeights?: boolean;
}

/** The training step to compile: the optimizer as PyTorch documents it, the loss (default `auto`). */
export interface TrainOptions {
  optimizer: OptimizerSpec;
  /** A loss kind, a full spec, or `auto`: sparse categorical cross-entropy, from logits unless the output is a softmax or logSoftmax. */
  loss?: LossKind | LossSpec | 'auto';
  /** With a loss kind or `auto`: the model outputs logits. */
  fromLogits?: boolean;
  /** Rescale gradients whose global L2 norm exceeds this. */
  clipNorm?: number;
}

export interface CompileApiOptions {
  /** Also compile a training step: the module gets `createTrainer`. */
  train?: TrainOptions;
  /** Code generator: JavaScript loops and WebAssembly SIMD (default) or GPU.js kernels. */
  backend?: 'js' | 'gpujs';
  /** Seed of the initial weights (`weights`, and `createModel()` without weights). */
  seed?: number;
  /** Limits past which the model is refused (memory at batch 1, FLOPs, nodes). */
  limits?: Partial<Limits>;
}

/** A module compiled in memory: the exports of an emitted `.mjs`, plus its source and initial weights. */
export interface CompiledModule {
  readonly modelName: string;
  readonly compilerVersion: string;
  readonly graphHash: string;
  readonly backend: 'js' | 'gpujs';
  readonly defaultSeed: number;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly parameters: readonly ParameterInfo[];
  /** A model with `weights` (a weight file, arrays by name, or a trainer's `save()`), or fresh ones from the seed. */
  createModel(weights?: WeightsSource, options?: CreateModelOptions): CompiledModelInstance;
  /** The initial weights as a Kiln weight file (what `kiln compile` writes as `<name>.weights.bin`). */
  readonly weights: Uint8Array;
  /** The module's JavaScript and declarations, as `kiln compile` would write them. */
  readonly js: string;
  readonly dts: string;
}

/** A module compiled with a training step. */
export interface TrainableModule extends CompiledModule {
  readonly stateParameters: readonly ParameterInfo[];
  readonly labelInfo: TensorInfo;
  createTrainer(options?: CreateTrainerOptions): Trainer;
}
