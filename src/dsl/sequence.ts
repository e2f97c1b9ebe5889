// Sequence layers of the functional builder: embeddings, 1-D convolution and pooling, positional
// encodings. Each is composed of existing ops (1-D windows run as 2-D ones over an [N, C, 1, L]
// view), so gradients, lowering and ONNX export come from those ops' own rules.
import type { Node } from '../ir/node.ts';
import { formatShape } from '../ir/shape.ts';
import type { InitSpec } from '../../runtime/init.ts';
import { openLayer, type LayerScope } from './context.ts';
import { biasInit, weightInit, type InitChoice } from './init.ts';
import { fansOf, weight, type ParamRegularizer } from './params.ts';
import type { Named } from './ops.ts';
import { fixedDim, layerError, positiveInt } from './validate.ts';

type Tensor = Node;

/** A ShapeError unless `x` has the rank the layer reads, naming the layout it expects. */
function requireRank(scope: LayerScope, x: Tensor, rank: number, layout: string): void {
  if (x.type.shape.length !== rank) throw layerError(scope, `needs an ${layout} input; its input has shape ${formatShape(x.type.shape)}`);
}

export interface EmbeddingOptions extends Named {
  /** Default: uniform in ±0.05 (Keras's). */
  embeddingsInitializer?: InitChoice;
  /** A [vocab, dim] weight to use instead of a fresh one (tying it to an output projection). */
  embeddings?: Tensor;
}

/**
 * Looks up row x[...] of a [vocab, dim] table (Keras's and PyTorch's layout): int32 indices of any
 * shape give [...x.shape, dim]. The emitted module rejects an index outside [-vocab, vocab) before
 * running (a negative one counts from the end, as ONNX's Gather does).
 */
export function embedding(x: Tensor, vocab: number, dim: number, options: EmbeddingOptions = {}): Tensor {
  const scope = openLayer('Embedding', options.name);
  vocab = positiveInt(scope, 'vocab', vocab);
  dim = positiveInt(scope, 'dim', dim);
  if (x.type.dtype !== 'int32') throw layerError(scope, `needs int32 indices, got a ${x.type.dtype} input of shape ${formatShape(x.type.shape)} (declare it with input(shape, { dtype: 'int32' }))`);
  const init: InitSpec = options.embeddingsInitializer !== undefined ? weightInit(options.embeddingsInitializer, vocab, dim) : { kind: 'uniform', low: -0.05, high: 0.05 };
  const table = weight(scope, 'embeddings', [vocab, dim], init, options.embeddings);
  return scope.node('gather', [table, x], { axis: 0 });
}

export type Padding1d = 'valid' | 'same' | 'causal' | number | [number, number];

/** [before, after] pads of a 1-D window; 'same' as Keras computes it (the extra pad after). */
export function pads1d(scope: LayerScope, padding: Padding1d, length: number, kernel: number, stride: number, dilation: number): [number, number] {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'valid') return [0, 0];
  if (padding === 'causal') return [span - 1, 0];
  if (padding === 'same') {
    const total = Math.max((Math.ceil(length / stride) - 1) * stride + span - length, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  const pair = typeof padding === 'number' ? [padding, padding] : padding;
  if (!Array.isArray(pair) || pair.length !== 2 || pair.some((p) => !Number.isSafeInteger(p) || p < 0)) {
    throw layerError(scope, `padding must be 'valid', 'same', 'causal', a non-negative integer or a pair of them, got ${JSON.stringify(padding)}`);
  }
  return [pair[0], pair[1]];
}

/** The [N, C, L] view of a sequence input (transposed from [N, L, C] when channelsLast). */
function toNCL(scope: LayerScope, x: Tensor, channelsLast: boolean | undefined): Tensor {
  requireRank(scope, x, 3, channelsLast ? '[N, L, C] (channelsLast)' : '[N, C, L]');
  return channelsLast ? scope.node('transpose', [x], { perm: [0, 2, 1] }) : x;
}

const fromNCL = (scope: LayerScope, y: Tensor, channelsLast: boolean | undefined): Tensor => (channelsLast ? scope.node('transpose', [y], { perm: [0, 2, 1] }) : y);

/** Reshapes [N, C, L] to the [N, C, 1, L] the 2-D window ops read, and back. */
const to2d = (scope: LayerScope, x: Tensor): Tensor => scope.node('reshape', [x], { shape: [-1, x.type.shape[1] as number, 1, x.type.shape[2] as number] });
const from2d = (scope: LayerScope, y: Tensor): Tensor => scope.node('reshape', [y], { shape: [-1, y.type.shape[1] as number, y.type.shape[3] as number] });

/** Output length of a 1-D window, or a ShapeError naming the layer and both lengths. */
function windowLength(scope: LayerScope, length: number, pads: [number, number], kernel: number, stride: number, dilation: number): number {
  const span = (kernel - 1) * dilation + 1;
  const padded = length + pads[0] + pads[1];
  if (padded < span) throw layerError(scope, `its window spans ${span} steps (kernel ${kernel}, dilation ${dilation}) but the padded input has only ${padded} (length ${length})`);
  return Math.floor((padded - span) / stride) + 1;
}

export interface Conv1dOptions extends Named {
  filters: number;
  kernelSize: number;
  strides?: number;
  /** 'causal' pads (kernelSize − 1)·dilation steps before, none after, as Keras does. */
  padding?: Padding1d;
  dilation?: number;
  groups?: number;
  activation?: 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'elu' | 'selu' | 'softplus';
  useBias?: boolean;
  /** Input and output are [N, L, C] (Keras) instead of [N, C, L] (PyTorch). */
  channelsLast?: boolean;
  kernelRegularizer?: ParamRegularizer;
  kernelInitializer?: InitChoice;
  biasInitializer?: InitChoice;
  /** A [filters, C/groups, kernelSize] weight to use instead of a fresh one. */
  kernel?: Tensor;
}

/** 1-D convolution: [N, C, L] → [N, filters, L']; the kernel is [filters, C/groups, k] as in PyTorch. */
export function conv1d(x: Tensor, options: Conv1dOptions): Tensor {
  const scope = openLayer('Conv1D', options.name);
  const filters = positiveInt(scope, 'filters', options.filters);
  const k = positiveInt(scope, 'kernelSize', options.kernelSize);
  const stride = positiveInt(scope, 'strides', options.strides ?? 1);
  const dilation = positiveInt(scope, 'dilation', options.dilation ?? 1);
  const groups = positiveInt(scope, 'groups', options.groups ?? 1);
  const ncl = toNCL(scope, x, options.channelsLast);
  const channels = fixedDim(scope, ncl.type.shape, 1, 'a fixed channel count');
  const length = fixedDim(scope, ncl.type.shape, 2, 'a fixed length');
  if (channels % groups !== 0 || filters % groups !== 0) throw layerError(scope, `groups (${groups}) must divide both the input channels (${channels}) and the filters (${filters})`);
  const pads = pads1d(scope, options.padding ?? 'valid', length, k, stride, dilation);
  windowLength(scope, length, pads, k, stride, dilation);
  const shape = [filters, channels / groups, k];
  const [fanIn, fanOut] = fansOf(shape);
  const w = weight(scope, 'kernel', shape, weightInit(options.kernelInitializer, fanIn, fanOut / groups), options.kernel, options.kernelRegularizer);
  const w2 = scope.node('reshape', [w], { shape: [filters, channels / groups, 1, k] });
  let y = scope.node('conv2d', [to2d(scope, ncl), w2], { strides: [1, stride], pads: [0, pads[0], 0, pads[1]], dilations: [1, dilation], group: groups });
  y = from2d(scope, y);
  if (options.useBias !== false) {
    const b = weight(scope, 'bias', [filters], biasInit(options.biasInitializer, fanIn), undefined);
    y = scope.node('add', [y, scope.node('reshape', [b], { shape: [filters, 1] })]);
  }
  if (options.activation && options.activation !== 'linear') y = scope.node(options.activation, [y]);
  return fromNCL(scope, y, options.channelsLast);
}

export interface Pool1dOptions extends Named {
  poolSize?: number;
  strides?: number;
  padding?: 'valid' | 'same' | number | [number, number];
  channelsLast?: boolean;
}

function pool1d(kind: 'MaxPool1D' | 'AvgPool1D', op: 'maxPool2d' | 'avgPool2d', x: Tensor, options: Pool1dOptions | number): Tensor {
  const o = typeof options === 'number' ? { poolSize: options } : options;
  const scope = openLayer(kind, o.name);
  const k = positiveInt(scope, 'poolSize', o.poolSize ?? 2);
  const stride = positiveInt(scope, 'strides', o.strides ?? k);
  const ncl = toNCL(scope, x, o.channelsLast);
  const length = fixedDim(scope, ncl.type.shape, 2, 'a fixed length');
  const pads = pads1d(scope, o.padding ?? 'valid', length, k, stride, 1);
  windowLength(scope, length, pads, k, stride, 1);
  const y = scope.node(op, [to2d(scope, ncl)], { kernel: [1, k], strides: [1, stride], pads: [0, pads[0], 0, pads[1]], dilations: [1, 1], countIncludePad: false });
  return fromNCL(scope, from2d(scope, y), o.channelsLast);
}

/** Max over windows along the length: [N, C, L] → [N, C, L']. */
export const maxPool1d = (x: Tensor, options: Pool1dOptions | number = {}) => pool1d('MaxPool1D', 'maxPool2d', x, options);
/** Mean over windows along the length (padding not counted). */
export const avgPool1d = (x: Tensor, options: Pool1dOptions | number = {}) => pool1d('AvgPool1D', 'avgPool2d', x, options);

export interface GlobalPool1dOptions extends Named {
  channelsLast?: boolean;
}

function globalPool1d(kind: string, op: 'reduceMean' | 'reduceMax', x: Tensor, o: GlobalPool1dOptions): Tensor {
  const scope = openLayer(kind, o.name);
  requireRank(scope, x, 3, o.channelsLast ? '[N, L, C] (channelsLast)' : '[N, C, L]');
  return scope.node(op, [x], { axes: [o.channelsLast ? 1 : 2], keepdims: false });
}

/** Mean over the length: [N, C, L] → [N, C] (Keras's GlobalAveragePooling1D). */
export const globalAvgPool1d = (x: Tensor, options: GlobalPool1dOptions = {}) => globalPool1d('GlobalAvgPool1D', 'reduceMean', x, options);
/** Max over the length: [N, C, L] → [N, C]. */
export const globalMaxPool1d = (x: Tensor, options: GlobalPool1dOptions = {}) => globalPool1d('GlobalMaxPool1D', 'reduceMax', x, options);

export interface PositionalEmbeddingOptions extends Named {
  /** Rows of the table (default: the sequence length); longer tables serve shorter inputs. */
  maxLen?: number;
  initializer?: InitChoice;
}

/** x + P[0:L], with P a learned [maxLen, dim] table; x is [N, L, dim]. */
export function positionalEmbedding(x: Tensor, options: PositionalEmbeddingOptions = {}): Tensor {
  const scope = openLayer('PositionalEmbedding', options.name);
  requireRank(scope, x, 3, '[N, L, dim]');
  const length = fixedDim(scope, x.type.shape, 1, 'a fixed length');
  const dim = fixedDim(scope, x.type.shape, 2, 'a fixed width');
  const maxLen = positiveInt(scope, 'maxLen', options.maxLen ?? length);
  if (maxLen < length) throw layerError(scope, `its table has maxLen ${maxLen} rows, but the input ${formatShape(x.type.shape)} has ${length} positions`);
  const init: InitSpec = options.initializer !== undefined ? weightInit(options.initializer, maxLen, dim) : { kind: 'uniform', low: -0.05, high: 0.05 };
  let table = weight(scope, 'embeddings', [maxLen, dim], init);
  if (maxLen > length) table = scope.node('slice', [table], { starts: [0], ends: [length], axes: [0], steps: [1] });
  return scope.node('add', [x, table]);
}

/** The [length, dim] table of Vaswani et al.: sin(p / 10000^(2i/dim)) at 2i, cos at 2i + 1. */
export function sinusoidTable(length: number, dim: number): number[] {
  const values: number[] = [];
  for (let p = 0; p < length; p++) {
    for (let j = 0; j < dim; j++) {
      const angle = p / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      values.push(j % 2 === 0 ? Math.sin(angle) : Math.cos(angle));
    }
  }
  return values;
}

/** x + the fixed sinusoidal encoding (a constant, nothing to train); x is [N, L, dim]. */
export function sinusoidalPositionalEncoding(x: Tensor, options: Named = {}): Tensor {
  const scope = openLayer('SinusoidalPositionalEncoding', options.name);
  requireRank(scope, x, 3, '[N, L, dim]');
  const length = fixedDim(scope, x.type.shape, 1, 'a fixed length');
  const dim = fixedDim(scope, x.type.shape, 2, 'a fixed width');
  const table = scope.node('const', [], { dtype: x.type.dtype, shape: [length, dim], values: sinusoidTable(length, dim) });
  return scope.node('add', [x, table]);
}
