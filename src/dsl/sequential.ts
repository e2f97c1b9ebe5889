// Keras-style sequential models: a list of layers declared first, applied in order.
import { atSite, callSite } from './context.ts';
import { withInitStyle, type InitStyle } from './init.ts';
import * as L from './layers.ts';
import * as O from './ops.ts';
import * as R from './recurrent.ts';
import { model, type Model } from './model.ts';
import * as S from './sequence.ts';
import * as A from './attention.ts';
import * as T from './transformer.ts';
import { KilnError } from '../ir/errors.ts';

type Tensor = L.Tensor;

/** A layer declared but not yet applied; it remembers the line where it was declared. */
export interface Layer {
  apply(x: Tensor): Tensor;
}

/** Turns a functional layer into a declarable one, capturing the declaring line now. */
function declare<A extends unknown[]>(f: (x: Tensor, ...args: A) => Tensor) {
  return (...args: A): Layer => {
    const site = callSite();
    return { apply: (x) => atSite(site, () => f(x, ...args)) };
  };
}

const LAYERS = {
  dense: declare(L.dense),
  conv2d: declare(L.conv2d),
  maxPool2d: declare(L.maxPool2d),
  avgPool2d: declare(L.avgPool2d),
  globalAvgPool: declare(L.globalAvgPool),
  flatten: declare(L.flatten),
  reshape: declare(L.reshape),
  dropout: declare(L.dropout),
  batchNorm: declare(L.batchNorm),
  relu: declare(O.relu),
  sigmoid: declare(O.sigmoid),
  tanh: declare(O.tanh),
  leakyRelu: declare(O.leakyRelu),
  elu: declare(O.elu),
  celu: declare(O.celu),
  selu: declare(O.selu),
  softplus: declare(O.softplus),
  gelu: declare(O.gelu),
  softmax: declare(O.softmax),
  logSoftmax: declare(O.logSoftmax),
  simpleRnn: declare(R.simpleRnn),
  lstm: declare(R.lstm),
  gru: declare(R.gru),
  embedding: declare(S.embedding),
  conv1d: declare(S.conv1d),
  maxPool1d: declare(S.maxPool1d),
  avgPool1d: declare(S.avgPool1d),
  globalAvgPool1d: declare(S.globalAvgPool1d),
  globalMaxPool1d: declare(S.globalMaxPool1d),
  positionalEmbedding: declare(S.positionalEmbedding),
  sinusoidalPositionalEncoding: declare(S.sinusoidalPositionalEncoding),
  layerNorm: declare(A.layerNorm),
  /** Self-attention: queries, keys and values all from the previous layer's output. */
  multiHeadAttention: declare((x: Tensor, options: A.AttentionOptions) => A.multiHeadAttention(x, undefined, options)),
  transformerEncoderBlock: declare(T.transformerEncoderBlock),
};

/** Keys some tools probe on any object (promises, JSON, test printers); they read as absent. */
const PROBED = new Set(['then', 'toJSON', 'constructor', 'asymmetricMatch', '$$typeof', 'nodeType', 'tagName', 'prototype']);

/**
 * The declarable layers. Reading a name that is not one is a KilnError listing the known ones
 * (not `TypeError: layers.x is not a function` when it is called).
 */
export const layers: typeof LAYERS = new Proxy(LAYERS, {
  get(target, key, receiver) {
    if (typeof key === 'symbol' || Object.hasOwn(target, key) || PROBED.has(key)) return Reflect.get(target, key, receiver);
    throw new KilnError(`layers.${key} is not a Kiln layer; the known layers are: ${Object.keys(target).join(', ')}`);
  },
});

export interface SequentialOptions extends L.InputOptions {
  name: string;
  /** Per-sample input shape ([C, H, W], or [H, W, C] with `channelsLast`). */
  input: number[];
  /** Default initialisers: Keras's (the default) or PyTorch's. */
  init?: InitStyle;
}

/** A model that applies `stack` in order to one input. */
export function sequential(options: SequentialOptions, stack: Layer[]): Model {
  const site = callSite();
  return withInitStyle(options.init, () => {
    const x = atSite(site, () => L.input(options.input, { name: 'input', dtype: options.dtype, channelsLast: options.channelsLast }));
    const y = stack.reduce((h, layer) => layer.apply(h), x);
    return model({ name: options.name, inputs: x, outputs: y });
  });
}
