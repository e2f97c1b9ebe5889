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
export { parameter, type ParameterOptions } from './dsl/params.ts';
export { embedding, conv1d, maxPool1d, avgPool1d, globalAvgPool1d, globalMaxPool1d, positionalEmbedding, sinusoidalPositionalEncoding, type EmbeddingOptions, type Conv1dOptions, type Padding1d, type Pool1dOptions, type GlobalPool1dOptions, type PositionalEmbeddingOptions } from './dsl/sequence.ts';
export { layerNorm, multiHeadAttention, type LayerNormOptions, type AttentionOptions } from './dsl/attention.ts';
export { transformerEncoderBlock, transformerDecoderBlock, type TransformerBlockOptions, type DecoderBlockOptions } from './dsl/transformer.ts';
