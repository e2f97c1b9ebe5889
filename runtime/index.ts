// Browser-safe entry point of the Kiln runtime: everything generated model modules may import.
// Under Node it also reads weight files by path and checks them with zlib (node-host.ts).
import './node-host.ts';

export { Rng } from './rng.ts';
export type { RngState } from './rng.ts';
export { initialize, describeInit, TRUNCATED_NORMAL_STD_CORRECTION } from './init.ts';
export type { InitSpec, FanInit } from './init.ts';
export {
  encodeWeights,
  decodeWeights,
  checkWeights,
  formatShape,
  WeightFileError,
  WEIGHTS_MAGIC,
  WEIGHTS_FORMAT_VERSION,
} from './weights.ts';
export type { WeightTensor, WeightTensorSpec, WeightDType, WeightData, WeightHeaderEntry } from './weights.ts';
export { crc32 } from './crc32.ts';
export { xxh32 } from './xxh32.ts';
export { parseIdx, IdxFormatError } from './idx.ts';
export type { IdxData, IdxTensor } from './idx.ts';
export { erf, hashUniform } from './math.ts';
export { checkRuntime, RUNTIME_CONTRACT, RuntimeContractError } from './contract.ts';
export { checkInput, checkIndices, feed, initWeights, resolveWeights, snapshotWeights, fromBase64, allocArray } from './model-io.ts';
export type { TensorInfo, ParameterInfo, WeightsSource, Dim } from './model-io.ts';
export { perSampleModel, takeSample, putSample, axisLayout } from './batch-axis.ts';
export type { AxisLayout, BatchedEntryPoints } from './batch-axis.ts';
export { checkWeightsIdentity } from './weights-identity.ts';
export type { ModelIdentity } from './weights-identity.ts';
export { fitLoop, scheduledLr, isCorrect, checkLr } from './train-loop.ts';
export type { Dataset, Schedule, EpochLog, FitOptions, Evaluation, LoopTrainer, SampleSizes } from './train-loop.ts';
export { fitLoopAsync, epochOrder, evaluateSource, earlyStopping, reduceLrOnPlateau, checkpoint, monitored, checkMetrics, defaultMetrics } from './train-loop.ts';
export type { History, Stopped, Callback, FitControl, BatchProgress, CheckpointEvent, CheckpointOptions, EarlyStoppingOptions, ReduceLrOnPlateauOptions, MetricName } from './train-loop.ts';
export type { SampleSource } from './sample-source.ts';
export { arrayRows, concatRows, sliceRows, rowsSource, materialize, elementDecoder } from './data/rows.ts';
export type { RowReader, RowLayout, RowTransform, ElementDecoder } from './data/rows.ts';
export { trainerShell, savedTrainer, savedWeights } from './trainer-shell.ts';
export type { Trainer, TrainerCore, TrainerInfo } from './trainer-shell.ts';
export { SimdMemory, openSimd, workerSimd, simdSupported } from './simd.ts';
export type { SimdKernels } from './simd.ts';
