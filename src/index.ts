// Kiln's public API for model files: the DSL, the IR types, and errors.
export * from './dsl/layers.ts';
export * from './dsl/ops.ts';
export { model, isModel, type Model, type ModelSpec } from './dsl/model.ts';
export { sequential, layers, type Layer, type SequentialOptions } from './dsl/sequential.ts';
export { simpleRnn, lstm, gru, type RecurrentOptions, type RecurrentActivation } from './dsl/recurrent.ts';
export { defaultInit, type InitStyle, type InitChoice } from './dsl/init.ts';
export { KilnError, ShapeError, UnsupportedError } from './ir/errors.ts';
export type { Graph } from './ir/graph.ts';
export type { Node, TensorType } from './ir/node.ts';
export type { DType } from './ir/dtype.ts';
export { BATCH } from './ir/shape.ts';
export { DEFAULT_LIMITS, LimitError, getLimits, setLimits, withLimits, parseSize, type Limits } from './ir/limits.ts';
