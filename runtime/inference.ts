// The runtime entry an inference-only emitted module imports (`kiln/runtime/inference`): what
// createModel, predict and run call, and nothing of training (the trainer, the fit loop, data
// sources, schedules, the IDX and MNIST readers). Node parses every byte of a module it imports,
// and this entry is about half of `kiln/runtime` (bench/startup.md). Browser-safe; under Node it
// reads weight files by path and checks large ones with zlib (node-host.ts), as kiln/runtime does.
// The package ships it as the bundle `kiln/runtime` itself imports (scripts/build-dist.mjs), so an
// application that imports both gets one copy of each function and class (instanceof holds).
import './node-host.ts';

export { checkRuntime, RUNTIME_CONTRACT, RuntimeContractError } from './contract.ts';
export { checkInput, checkIndices, feed, initWeights, resolveWeights, snapshotWeights, fromBase64, allocArray } from './model-io.ts';
export type { TensorInfo, ParameterInfo, WeightsSource, Dim } from './model-io.ts';
export { perSampleModel, takeSample, putSample, axisLayout } from './batch-axis.ts';
export type { AxisLayout, BatchedEntryPoints } from './batch-axis.ts';
export { erf, hashUniform } from './math.ts';
export { SimdMemory, openSimd, workerSimd, simdSupported } from './simd.ts';
export type { SimdKernels } from './simd.ts';
export { decodeWeights, checkWeights, formatShape, WeightFileError } from './weights.ts';
export type { WeightTensor, WeightTensorSpec, WeightDType, WeightData, WeightHeaderEntry } from './weights.ts';
export { checkWeightsIdentity } from './weights-identity.ts';
export type { ModelIdentity } from './weights-identity.ts';
