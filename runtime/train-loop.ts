// Training-loop entry points for emitted trainers: the types and functions of runtime/fit/ under
// their old names, and learning-rate schedules. The compiled step does the numerics; fit moves batches.

export { checkLr, scheduledLr, type Schedule } from './fit/lr.ts';
export type { BatchProgress, Callback, Dataset, EpochLog, Evaluation, FitControl, FitOptions, History, LoopTrainer, SampleSizes, Stopped } from './fit/types.ts';
export { epochOrder, fitLoop, fitLoopAsync, fitSteps } from './fit/loop.ts';
export { evaluateSource, type EvalBatch } from './fit/evaluate.ts';
export { checkMetrics, defaultMetrics, isCorrect, type MetricName } from './fit/metrics.ts';
export { checkpoint, earlyStopping, monitored, reduceLrOnPlateau, type CheckpointEvent, type CheckpointOptions, type EarlyStoppingOptions, type Mode, type ReduceLrOnPlateauOptions } from './fit/callbacks.ts';
