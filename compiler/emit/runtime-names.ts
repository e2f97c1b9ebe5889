// What an emitted module may import from the runtime, by part: one list each, which the emitters
// draw from (a name outside them is a type error there) and test/package/runtime-surface.test.ts
// records the signatures of, beside the runtime contract (runtime/contract.ts): a module compiled
// before keeps calling these after the runtime under it is upgraded.

/** Values of `kiln/runtime` (and `kiln/runtime/inference`) that model code calls; a module imports those its code uses. */
export const MODEL_VALUES = ['checkRuntime', 'checkInput', 'checkIndices', 'feed', 'resolveWeights', 'snapshotWeights', 'allocArray', 'fromBase64', 'openSimd', 'workerSimd', 'erf', 'hashUniform', 'perSampleModel'] as const;
export type ModelValue = (typeof MODEL_VALUES)[number];

/** Values of `kiln/runtime` that a module with a trainer calls. */
export const TRAINER_VALUES = ['trainerShell', 'savedTrainer', 'savedWeights'] as const;
export type TrainerValue = (typeof TRAINER_VALUES)[number];

/** Values of `kiln/runtime/gpujs` that a GPU.js module calls. */
export const GPUJS_VALUES = ['GpuDevice', 'asFloat32', 'byAdapter'] as const;
export type GpuJsValue = (typeof GPUJS_VALUES)[number];

/** Types of `kiln/runtime` (and `kiln/runtime/inference`) that model code and declarations name: what the runtime hands a module (SimdKernels) and what an application sees (TensorInfo). */
export const MODEL_TYPES = ['ParameterInfo', 'TensorInfo', 'WeightTensor', 'WeightsSource', 'SimdKernels', 'SimdMemory'] as const;

/** Types of `kiln/runtime` that a module with a trainer names: what it hands the runtime (TrainerCore, TrainerInfo) and what an application sees (Trainer). */
export const TRAINER_TYPES = ['Dataset', 'FitOptions', 'EpochLog', 'Evaluation', 'Trainer', 'TrainerCore', 'TrainerInfo'] as const;

/** Types of the other entries: a thread pool's (`kiln/runtime/node`), and a GPU.js module's device (`kiln/runtime/gpujs`). */
export const NODE_TYPES = ['KernelSplit', 'ThreadPool'] as const;
export const GPUJS_TYPES = ['DeviceKernel', 'DeviceTensor', 'GpuMode', 'GpuOptions', 'PrecompiledKernels', 'WgslOverrides'] as const;

export type RuntimeType = (typeof MODEL_TYPES)[number] | (typeof TRAINER_TYPES)[number];
