// Kiln's main entry (`import … from 'kiln'`): the model DSL and IR types of src/, plus compile(), which needs the compiler.
export * from '../src/index.ts';
export { compile } from './compile.ts';
export type { CompileApiOptions, CompiledModule, CompiledModelInstance, CreateModelOptions, CreateTrainerOptions, LossKind, LossSpec, OptimizerSpec, TensorArray, TrainableModule, TrainOptions } from './types.ts';
export type { Dataset, EpochLog, Evaluation, FitOptions, ParameterInfo, TensorInfo, Trainer, WeightTensor, WeightsSource } from '../runtime/index.ts';
