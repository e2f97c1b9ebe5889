// Transformer encoder and decoder blocks (Vaswani et al.), built from multiHeadAttention,
// layerNorm, dense and dropout: residual connections around each sub-layer, post- or pre-norm.
import type { Node } from '../ir/node.ts';
import { formatShape } from '../ir/shape.ts';
import { openLayer, type LayerScope } from './context.ts';
import { multiHeadAttention } from './attention.ts';
import { layerNorm } from './attention.ts';
import { dense, dropout as dropoutLayer } from './layers.ts';
import { fixedDim, layerError, positiveInt } from './validate.ts';

type Tensor = Node;

export interface TransformerBlockOptions {
  name?: string;
  heads: number;
  /** Width of the feed-forward network's hidden layer. */
  ffDim: number;
  /** Per-head width of queries and keys (default: model width / heads). */
  keyDim?: number;
  /** Dropout after attention and feed-forward, and on the attention weights (default 0). */
  dropout?: number;
  /** Feed-forward activation (default relu, as PyTorch's TransformerEncoderLayer). */
  activation?: 'relu' | 'gelu';
  /** Layer norm before each sub-layer (pre-norm) instead of after the residual sum (default false). */
  normFirst?: boolean;
  /** Layer norms' ε (default 1e-5). */
  epsilon?: number;
  /** Self-attention only to earlier positions (encoder default false; decoder default true). */
  causal?: boolean;
  /** [N, L]: 1 for a real token, 0 for padding, for the self-attention. */
  keyPaddingMask?: Tensor;
}

export interface DecoderBlockOptions extends TransformerBlockOptions {
  /** [N, Lm]: 1 for a real memory token, 0 for padding, for the cross-attention. */
  memoryPaddingMask?: Tensor;
}

interface Block {
  scope: LayerScope;
  width: number;
  keyDim: number;
  rate: number;
  o: TransformerBlockOptions;
}

function openBlock(kind: string, x: Tensor, o: TransformerBlockOptions): Block {
  const scope = openLayer(kind, o.name);
  if (x.type.shape.length !== 3) throw layerError(scope, `needs a [N, L, dim] input; its input has shape ${formatShape(x.type.shape)}`);
  const width = fixedDim(scope, x.type.shape, 2, 'a fixed width');
  const heads = positiveInt(scope, 'heads', o.heads);
  positiveInt(scope, 'ffDim', o.ffDim);
  if (o.keyDim === undefined && width % heads !== 0) throw layerError(scope, `its width ${width} is not divisible by heads (${heads}); give keyDim`);
  const rate = o.dropout ?? 0;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw layerError(scope, `dropout must be a rate in [0, 1), got ${String(rate)}`);
  return { scope, width, keyDim: o.keyDim ?? width / heads, rate, o };
}

/** x + sublayer(x) with the norm before (pre-norm) or after the sum (post-norm). */
function residual(b: Block, x: Tensor, tag: string, sublayer: (h: Tensor) => Tensor): Tensor {
  const norm = (h: Tensor) => layerNorm(h, { name: `${b.scope.name}/${tag}_norm`, epsilon: b.o.epsilon });
  const drop = (h: Tensor) => (b.rate > 0 ? dropoutLayer(h, b.rate, { name: `${b.scope.name}/${tag}_dropout` }) : h);
  if (b.o.normFirst) return b.scope.node('add', [x, drop(sublayer(norm(x)))]);
  return norm(b.scope.node('add', [x, drop(sublayer(x))]));
}

function feedForward(b: Block, h: Tensor): Tensor {
  const hidden = dense(h, b.o.ffDim, { name: `${b.scope.name}/ffn1`, activation: b.o.activation ?? 'relu' });
  return dense(hidden, b.width, { name: `${b.scope.name}/ffn2` });
}

function attend(b: Block, tag: string, q: Tensor, kv: Tensor | undefined, causal: boolean, mask: Tensor | undefined): Tensor {
  return multiHeadAttention(q, kv, { name: `${b.scope.name}/${tag}`, heads: b.o.heads, keyDim: b.keyDim, causal, keyPaddingMask: mask, dropout: b.rate });
}

/** Self-attention then a feed-forward network, each with a residual connection and layer norm. */
export function transformerEncoderBlock(x: Tensor, options: TransformerBlockOptions): Tensor {
  const b = openBlock('TransformerEncoder', x, options);
  const h = residual(b, x, 'attention', (t) => attend(b, 'attention', t, undefined, options.causal ?? false, options.keyPaddingMask));
  return residual(b, h, 'ffn', (t) => feedForward(b, t));
}

/**
 * Causal self-attention, cross-attention to `memory` (the encoder's output, [N, Lm, dim]), then a
 * feed-forward network, each with a residual connection and layer norm.
 */
export function transformerDecoderBlock(x: Tensor, memory: Tensor, options: DecoderBlockOptions): Tensor {
  const b = openBlock('TransformerDecoder', x, options);
  if (memory.type.shape.length !== 3) throw layerError(b.scope, `needs a [N, Lm, dim] memory; its memory has shape ${formatShape(memory.type.shape)}`);
  let h = residual(b, x, 'self_attention', (t) => attend(b, 'self_attention', t, undefined, options.causal ?? true, options.keyPaddingMask));
  h = residual(b, h, 'cross_attention', (t) => attend(b, 'cross_attention', t, memory, false, options.memoryPaddingMask));
  return residual(b, h, 'ffn', (t) => feedForward(b, t));
}
