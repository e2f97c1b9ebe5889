// Parameters as values: `parameter()` for users' own layers, and the weight helper every sequence
// layer uses, which takes a tensor the user passes in (weight sharing) or makes a fresh one.
import type { Node } from '../ir/node.ts';
import { formatShape } from '../ir/shape.ts';
import type { InitSpec } from '../../runtime/init.ts';
import { openLayer, type LayerScope } from './context.ts';
import { weightInit, type InitChoice } from './init.ts';
import { inputShape, layerError } from './validate.ts';

type Tensor = Node;

/** An L1 and/or L2 penalty on a weight, added to the training loss: l1·Σ|w| + l2·Σw². */
export interface ParamRegularizer {
  l1?: number;
  l2?: number;
}

export interface ParameterOptions {
  /** The weight's name in the weight file; defaults to `parameter_k`. */
  name?: string;
  /** False for state the optimizer leaves alone (default true). */
  trainable?: boolean;
  regularizer?: ParamRegularizer;
}

/**
 * Keras's fans of a weight of this shape: [in, out] for a matrix, [out, in, k...] for a
 * convolution kernel (fan-in = in · receptive field), the length for a vector.
 */
export function fansOf(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], shape[0]];
  if (shape.length === 2) return [shape[0], shape[1]];
  const receptive = shape.slice(2).reduce((p, d) => p * d, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

/** The param node itself (shared by `parameter` and `weight`). */
function makeParam(scope: LayerScope, name: string, shape: number[], init: InitSpec, trainable: boolean, regularizer?: ParamRegularizer): Tensor {
  const attrs: Record<string, unknown> = { name, dtype: 'float32', shape, init, trainable };
  if (regularizer) attrs.regularizer = regularizer;
  return scope.node('param', [], attrs);
}

/**
 * A trainable weight of its own: the building block of user-written layers. Use the returned
 * tensor in as many places as you like (e.g. `dense(x, 4, { kernel: p })` twice): it is one
 * weight in the file, and its gradient is the sum over every use.
 */
export function parameter(shape: number[], init: InitChoice = 'glorotUniform', options: ParameterOptions = {}): Tensor {
  const scope = openLayer('Parameter', options.name);
  const dims = inputShape(scope, shape);
  const [fanIn, fanOut] = fansOf(dims);
  return makeParam(scope, scope.name, dims, weightInit(init, fanIn, fanOut), options.trainable ?? true, options.regularizer);
}

/**
 * Weight `role` of a layer: the tensor the user gave (checked against the shape the layer needs)
 * or a fresh parameter named `<layer>/<role>`.
 */
export function weight(scope: LayerScope, role: string, shape: number[], init: InitSpec, given?: Tensor, regularizer?: ParamRegularizer, trainable = true): Tensor {
  if (given === undefined) return makeParam(scope, `${scope.name}/${role}`, shape, init, trainable, regularizer);
  if (typeof given !== 'object' || given === null || !('type' in given)) throw layerError(scope, `${role} must be a tensor (e.g. from parameter()), got ${String(given)}`);
  const have = given.type.shape;
  if (have.length !== shape.length || have.some((d, i) => d !== shape[i])) {
    throw layerError(scope, `the given ${role} has shape ${formatShape(have)}, but this layer needs ${formatShape(shape)}`);
  }
  return given;
}
