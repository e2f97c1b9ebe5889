// Kiln's main entry (`import … from 'kiln'`): the model DSL and IR types of src/, plus compile(), which needs the compiler.
export * from '../src/index.ts';
export { compile } from './compile.ts';
export type { CompileApiOptions, CompiledModule, CompiledModelInstance, CreateModelOptions, CreateTrainerOptions, LossKind, LossSpec, OptimizerSpec, TensorArray, TrainableModule, TrainOptions } from './types.ts';
export type { Dataset, EpochLog, Evaluation, FitOptions, ParameterInfo, TensorInfo, Trainer, WeightTensor, WeightsSource } from '../runtime/index.ts';
// What a strict TypeScript user of compile() types their options with: optimizers, schedules,
// fit's history and callbacks (the callbacks themselves are values of kiln/runtime).
export type { ClipSettings, OptimizerKind } from '../compiler/train/optimizer-spec.ts';
export type { BatchProgress, Callback, CheckpointEvent, CheckpointOptions, EarlyStoppingOptions, FitControl, History, MetricName, ReduceLrOnPlateauOptions, SampleSource, Schedule, Stopped } from '../runtime/index.ts';
export type { Mode as MonitorMode } from '../runtime/fit/callbacks.ts';
