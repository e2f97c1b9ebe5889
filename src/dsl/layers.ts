// The functional model builder: each call adds one layer's nodes and returns its output.
import type { DType } from '../ir/dtype.ts';
import type { Node } from '../ir/node.ts';
import type { AttrsOf, OpName } from '../ir/ops/index.ts';
import { BATCH, type Dim } from '../ir/shape.ts';
import { openLayer, type LayerScope } from './context.ts';
import { biasInit, weightInit, type InitChoice } from './init.ts';
import type { InitSpec } from '../../runtime/init.ts';
import { weight } from './params.ts';
import { fixedDim, inputShape, layerError, positiveInt, positivePair } from './validate.ts';

/** A symbolic tensor of the model under construction. */
export type Tensor = Node;

/**
 * The ops a layer's `activation` option may name, keyed by op name (so each is an op Kiln knows),
 * with the attributes the layer gives it, typed as that op's own. A new activation op joins the
 * DSL by one entry here.
 */
const ACTIVATIONS = {
  relu: {},
  sigmoid: {},
  tanh: {},
  softmax: { axis: -1 },
  logSoftmax: { axis: -1 },
  elu: { alpha: 1 },
  celu: { alpha: 1 },
  selu: {},
  softplus: {},
  gelu: {},
  leakyRelu: { alpha: 0.01 },
} as const satisfies { readonly [K in OpName]?: Partial<AttrsOf<K>> };

/** An activation: `linear` (none) or the name of one of the ops above. */
export type Activation = 'linear' | keyof typeof ACTIVATIONS;

export interface LayerOptions {
  /** Layer name; defaults to `kind_k`. */
  name?: string;
}

function applyActivation(scope: LayerScope, x: Tensor, activation: Activation | undefined, channelAxis = -1): Tensor {
  if (!activation || activation === 'linear') return x;
  if (!Object.hasOwn(ACTIVATIONS, activation)) throw layerError(scope, `unknown activation ${JSON.stringify(activation)} (known: linear, ${Object.keys(ACTIVATIONS).join(', ')})`);
  const attrs: Record<string, unknown> = { ...ACTIVATIONS[activation] };
  // Softmax over the channels: the last axis of a dense output, axis 1 of a convolution's.
  if ('axis' in attrs) attrs.axis = channelAxis;
  return scope.node(activation, [x], attrs);
}

/** An L1 and/or L2 penalty on a weight, added to the training loss: l1·Σ|w| + l2·Σw². */
export interface Regularizer {
  l1?: number;
  l2?: number;
}

function param(scope: LayerScope, role: string, shape: Dim[], init: InitSpec, trainable = true, regularizer?: Regularizer): Tensor {
  const attrs: Record<string, unknown> = { name: `${scope.name}/${role}`, dtype: 'float32', shape, init, trainable };
  if (regularizer) attrs.regularizer = regularizer;
  return scope.node('param', [], attrs);
}

export interface InputOptions extends LayerOptions {
  dtype?: DType;
  /** Per-sample shape is given as [H, W, C]; Kiln transposes to its internal NCHW. */
  channelsLast?: boolean;
  /** False for an input without a batch dimension. */
  batched?: boolean;
}

/** A model input. `shape` is per sample; a symbolic batch dimension is put in front. */
export function input(shape: number[], options: InputOptions = {}): Tensor {
  const scope = openLayer('Input', options.name);
  const dims = inputShape(scope, shape);
  const full: Dim[] = options.batched === false ? dims : [BATCH, ...dims];
  const x = scope.node('input', [], { name: scope.name, dtype: options.dtype ?? 'float32', shape: full });
  if (!options.channelsLast) return x;
  if (dims.length !== 3) throw layerError(scope, `a channelsLast input needs a [H, W, C] shape, got [${dims.join(', ')}]`);
  return scope.node('transpose', [x], { perm: [0, 3, 1, 2] });
}

export interface DenseOptions extends LayerOptions {
  activation?: Activation;
  useBias?: boolean;
  kernelRegularizer?: Regularizer;
  kernelInitializer?: InitChoice;
  biasInitializer?: InitChoice;
  /** A weight to use as the kernel ([in, units]) instead of a fresh one: weight sharing. */
  kernel?: Tensor;
}

/** Fully connected layer: x · W + b on the last axis; W is [in, units] (Keras layout). */
export function dense(x: Tensor, units: number, options: DenseOptions = {}): Tensor {
  const scope = openLayer('Dense', options.name);
  units = positiveInt(scope, 'units', units);
  if (x.type.shape.length === 0) throw layerError(scope, 'needs an input with a feature axis; its input is a scalar');
  const fanIn = fixedDim(scope, x.type.shape, -1, 'a fixed feature dimension');
  const w = options.kernel !== undefined ? weight(scope, 'kernel', [fanIn, units], { kind: 'zeros' }, options.kernel) : param(scope, 'kernel', [fanIn, units], weightInit(options.kernelInitializer, fanIn, units), true, options.kernelRegularizer);
  let y = scope.node('matmul', [x, w]);
  if (options.useBias !== false) y = scope.node('add', [y, param(scope, 'bias', [units], biasInit(options.biasInitializer, fanIn))]);
  return applyActivation(scope, y, options.activation);
}

export type Padding = 'valid' | 'same' | number | [number, number] | [number, number, number, number];

export interface Conv2dOptions extends LayerOptions {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  dilation?: number | [number, number];
  groups?: number;
  activation?: Activation;
  useBias?: boolean;
  kernelRegularizer?: Regularizer;
  kernelInitializer?: InitChoice;
  biasInitializer?: InitChoice;
}

/** Explicit [top, left, bottom, right] pads; 'same' as Keras/TF computes it (extra pad after). */
export function resolvePadding(padding: Padding, size: [number, number], kernel: [number, number], strides: [number, number], dilation: [number, number]): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const total = [0, 1].map((i) => Math.max((Math.ceil(size[i] / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilation[i] + 1 - size[i], 0));
    return [Math.floor(total[0] / 2), Math.floor(total[1] / 2), total[0] - Math.floor(total[0] / 2), total[1] - Math.floor(total[1] / 2)];
  }
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  if (padding.length === 2) return [padding[0], padding[1], padding[0], padding[1]];
  return padding;
}

function spatial(x: Tensor): [number, number] {
  return [x.type.shape[2], x.type.shape[3]] as [number, number];
}

/** 2-D convolution on NCHW input; filters are [F, C/groups, kH, kW] as in PyTorch and ONNX. */
export function conv2d(x: Tensor, options: Conv2dOptions): Tensor {
  const scope = openLayer('Conv2D', options.name);
  const filters = positiveInt(scope, 'filters', options.filters);
  const k = positivePair(scope, 'kernelSize', options.kernelSize);
  const strides = positivePair(scope, 'strides', options.strides ?? 1);
  const dilations = positivePair(scope, 'dilation', options.dilation ?? 1);
  const group = positiveInt(scope, 'groups', options.groups ?? 1);
  if (x.type.shape.length !== 4) throw layerError(scope, `needs an [N, C, H, W] input; its input has shape [${x.type.shape.join(', ')}]`);
  const channels = fixedDim(scope, x.type.shape, 1, 'a fixed channel count');
  const cg = Math.floor(channels / group);
  const fanIn = cg * k[0] * k[1];
  const fanOut = (filters / group) * k[0] * k[1];
  const w = param(scope, 'kernel', [filters, cg, k[0], k[1]], weightInit(options.kernelInitializer, fanIn, fanOut), true, options.kernelRegularizer);
  const pads = resolvePadding(options.padding ?? 'valid', spatial(x), k, strides, dilations);
  let y = scope.node('conv2d', [x, w], { strides, pads, dilations, group });
  if (options.useBias !== false) {
    const b = param(scope, 'bias', [filters], biasInit(options.biasInitializer, fanIn));
    y = scope.node('add', [y, scope.node('reshape', [b], { shape: [filters, 1, 1] })]);
  }
  return applyActivation(scope, y, options.activation, 1);
}

export interface PoolOptions extends LayerOptions {
  poolSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
}

function pool(kind: 'MaxPool2D' | 'AvgPool2D', op: 'maxPool2d' | 'avgPool2d', x: Tensor, options: PoolOptions | number): Tensor {
  const o = typeof options === 'number' ? { poolSize: options } : options;
  const scope = openLayer(kind, o.name);
  const kernel = positivePair(scope, 'poolSize', o.poolSize ?? 2);
  const strides = positivePair(scope, 'strides', o.strides ?? kernel);
  if (x.type.shape.length !== 4) throw layerError(scope, `needs an [N, C, H, W] input; its input has shape [${x.type.shape.join(', ')}]`);
  const pads = resolvePadding(o.padding ?? 'valid', spatial(x), kernel, strides, [1, 1]);
  return scope.node(op, [x], { kernel, strides, pads, dilations: [1, 1], countIncludePad: false });
}

export const maxPool2d = (x: Tensor, options: PoolOptions | number = {}) => pool('MaxPool2D', 'maxPool2d', x, options);
export const avgPool2d = (x: Tensor, options: PoolOptions | number = {}) => pool('AvgPool2D', 'avgPool2d', x, options);

export function globalAvgPool(x: Tensor, options: LayerOptions = {}): Tensor {
  return openLayer('GlobalAvgPool', options.name).node('globalAvgPool', [x]);
}

/** Flattens every axis after the batch into one. */
export function flatten(x: Tensor, options: LayerOptions = {}): Tensor {
  const per = x.type.shape.slice(1).reduce<number>((p, d) => p * (d as number), 1);
  return openLayer('Flatten', options.name).node('reshape', [x], { shape: [-1, per] });
}

/** Reshape; on a batched tensor the first entry must be -1 (the batch), as in `view(-1, 320)`. */
export function reshape(x: Tensor, shape: number[], options: LayerOptions = {}): Tensor {
  return openLayer('Reshape', options.name).node('reshape', [x], { shape });
}

export interface BatchNormOptions extends LayerOptions {
  epsilon?: number;
  /** Weight of the old running statistic in the training-time update (Keras's momentum). */
  momentum?: number;
  /** The running variance tracks the batch variance with n/(n − 1) ('unbiased', PyTorch, default) or without ('biased', Keras). */
  runningVariance?: 'unbiased' | 'biased';
}

/** Batch normalisation over channels (axis 1); inference uses the running statistics. */
export function batchNorm(x: Tensor, options: BatchNormOptions = {}): Tensor {
  const scope = openLayer('BatchNorm', options.name);
  if (x.type.shape.length < 2) throw layerError(scope, `needs an input with a channel axis (axis 1); its input has shape [${x.type.shape.join(', ')}]`);
  const c = fixedDim(scope, x.type.shape, 1, 'a fixed channel count');
  const gamma = param(scope, 'gamma', [c], { kind: 'ones' });
  const beta = param(scope, 'beta', [c], { kind: 'zeros' });
  const mean = param(scope, 'movingMean', [c], { kind: 'zeros' }, false);
  const variance = param(scope, 'movingVariance', [c], { kind: 'ones' }, false);
  return scope.node('batchNorm', [x, gamma, beta, mean, variance], { epsilon: options.epsilon ?? 1e-5, momentum: options.momentum ?? 0.9, ...(options.runningVariance ? { runningVariance: options.runningVariance } : {}) });
}

/** Dropout: zeroes a `rate` fraction in training, identity at inference. */
export function dropout(x: Tensor, rate: number, options: LayerOptions = {}): Tensor {
  return openLayer('Dropout', options.name).node('dropout', [x], { rate });
}
