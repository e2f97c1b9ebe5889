// Layer normalisation and multi-head attention, composed of existing ops (matmul, softmax,
// reductions, log, maximum), so their gradients, kernels and ONNX export are those ops' own.
import type { Node } from '../ir/node.ts';
import { formatShape, type Dim } from '../ir/shape.ts';
import { openLayer, type LayerScope } from './context.ts';
import { biasInit, weightInit } from './init.ts';
import { weight } from './params.ts';
import { fixedDim, layerError, positiveInt } from './validate.ts';

type Tensor = Node;

/** The largest finite float32: the floor a masked score is raised to so a fully masked row stays finite. */
const FLOAT32_MAX = 3.4028234663852886e38;

export interface LayerNormOptions {
  name?: string;
  /** Keras: the axis or axes to normalise over (default -1). Not the batch axis. */
  axis?: number | number[];
  /** PyTorch: the trailing dims to normalise over; must equal the input's last dims. Wins over `axis`. */
  normalizedShape?: number[];
  /** Added to the (biased) variance; default 1e-5 as in PyTorch. */
  epsilon?: number;
  /** Learn a shift β (default true). */
  center?: boolean;
  /** Learn a scale γ (default true). */
  scale?: boolean;
}

/** The normalised axes of `x` (non-negative, sorted), or a ShapeError naming what is wrong. */
function normAxes(scope: LayerScope, x: Tensor, o: LayerNormOptions): number[] {
  const shape = x.type.shape;
  const rank = shape.length;
  if (o.normalizedShape !== undefined) {
    const ns = o.normalizedShape;
    const tail = shape.slice(rank - ns.length);
    if (!Array.isArray(ns) || ns.length === 0 || ns.length >= rank || ns.some((d, i) => d !== tail[i])) {
      throw layerError(scope, `normalizedShape ${formatShape(Array.isArray(ns) ? ns : [])} must equal the last dims of its input ${formatShape(shape)} (without the batch)`);
    }
    return ns.map((_, i) => rank - ns.length + i);
  }
  const list = Array.isArray(o.axis) ? o.axis : [o.axis ?? -1];
  const axes = list.map((a) => {
    if (!Number.isSafeInteger(a) || a < -rank || a >= rank) throw layerError(scope, `axis ${a} is out of range for its input ${formatShape(shape)}`);
    return a < 0 ? a + rank : a;
  });
  for (const a of axes) if (typeof shape[a] !== 'number' || (a === 0 && shape[0] === 'N')) throw layerError(scope, `cannot normalise over the batch axis of ${formatShape(shape)}`);
  return [...new Set(axes)].sort((a, b) => a - b);
}

/**
 * Layer normalisation (PyTorch's semantics): (x − mean) / √(var + ε) · γ + β over `axes`, with the
 * biased variance; γ and β have the normalised dims' shape.
 */
export function layerNorm(x: Tensor, options: LayerNormOptions = {}): Tensor {
  const scope = openLayer('LayerNorm', options.name);
  const axes = normAxes(scope, x, options);
  const eps = options.epsilon ?? 1e-5;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw layerError(scope, `epsilon must be a finite number ≥ 0, got ${String(eps)}`);
  const shape = x.type.shape;
  const scalar = (v: number) => scope.node('const', [], { dtype: x.type.dtype, shape: [], values: [v] });
  const mean = scope.node('reduceMean', [x], { axes, keepdims: true });
  const centred = scope.node('sub', [x, mean]);
  const variance = scope.node('reduceMean', [scope.node('mul', [centred, centred])], { axes, keepdims: true });
  let y = scope.node('div', [centred, scope.node('sqrt', [scope.node('add', [variance, scalar(eps)])])]);
  const dims = axes.map((a) => shape[a] as number);
  // γ, β broadcast against x: their dims where normalised, 1 elsewhere after the first such axis.
  const view: Dim[] = shape.slice(axes[0]).map((d, i) => (axes.includes(axes[0] + i) ? d : 1));
  const shaped = (p: Tensor) => (view.length === dims.length ? p : scope.node('reshape', [p], { shape: view }));
  if (options.scale !== false) y = scope.node('mul', [y, shaped(weight(scope, 'gamma', dims, { kind: 'ones' }))]);
  if (options.center !== false) y = scope.node('add', [y, shaped(weight(scope, 'beta', dims, { kind: 'zeros' }))]);
  return y;
}

export interface AttentionOptions {
  name?: string;
  heads: number;
  /** Width of each head's queries and keys. */
  keyDim: number;
  /** Width of each head's values (default keyDim). */
  valueDim?: number;
  /** Width of the output (default: the query's width). */
  outputDim?: number;
  /** Query i attends to keys j ≤ i only (PyTorch's is_causal, top-left aligned). */
  causal?: boolean;
  /** [Lq, Lk] or [N, Lq, Lk]: 1 where a query may attend to a key, 0 where not. */
  mask?: Tensor;
  /** [N, Lk]: 1 for a real key, 0 for padding (Keras's convention; PyTorch's is the opposite). */
  keyPaddingMask?: Tensor;
  /** Dropout rate on the attention weights in training (default 0). */
  dropout?: number;
  useBias?: boolean;
}

/** x · W (+ b): a projection of the last axis, named `<layer>/<role>`. */
function project(scope: LayerScope, x: Tensor, role: string, units: number, useBias: boolean): Tensor {
  const fanIn = x.type.shape[x.type.shape.length - 1] as number;
  const y = scope.node('matmul', [x, weight(scope, `${role}/kernel`, [fanIn, units], weightInit(undefined, fanIn, units))]);
  return useBias ? scope.node('add', [y, weight(scope, `${role}/bias`, [units], biasInit(undefined, fanIn))]) : y;
}

/** [N, L, H·d] → [N, H, L, d]. */
function splitHeads(scope: LayerScope, x: Tensor, heads: number, d: number): Tensor {
  const length = x.type.shape[1] as number;
  return scope.node('transpose', [scope.node('reshape', [x], { shape: [-1, length, heads, d] })], { perm: [0, 2, 1, 3] });
}

/** A 0/1 mask as float of the scores' dtype, shaped to broadcast against [N, H, Lq, Lk]. */
function keepMask(scope: LayerScope, m: Tensor, what: string, want: Dim[][], view: (m: Tensor) => Dim[], dtype: Node['type']['dtype']): Tensor {
  const fits = want.some((s) => s.length === m.type.shape.length && s.every((d, i) => d === m.type.shape[i]));
  if (!fits) throw layerError(scope, `${what} has shape ${formatShape(m.type.shape)}, expected ${want.map(formatShape).join(' or ')}`);
  const cast = m.type.dtype === dtype ? m : scope.node('cast', [m], { to: dtype });
  return scope.node('reshape', [cast], { shape: view(m) });
}

/**
 * Multi-head scaled dot-product attention (Vaswani et al.) with input and output projections:
 * queries from `q` [N, Lq, Dq], keys and values from `kv` [N, Lk, Dk] (default `q`: self-attention).
 * Masked scores get −∞, so they get exactly zero weight. A query whose keys are all masked gets
 * all-zero weights and so a zero attention vector (the output is then the projection's bias),
 * never NaN: PyTorch returns NaN for such a row and Keras a uniform average.
 */
export function multiHeadAttention(q: Tensor, kv: Tensor | undefined, options: AttentionOptions): Tensor {
  const scope = openLayer('MultiHeadAttention', options.name);
  const heads = positiveInt(scope, 'heads', options.heads);
  const keyDim = positiveInt(scope, 'keyDim', options.keyDim);
  const valueDim = positiveInt(scope, 'valueDim', options.valueDim ?? keyDim);
  const source = kv ?? q;
  for (const [t, what] of [[q, 'query'], [source, 'key/value']] as const) {
    if (t.type.shape.length !== 3) throw layerError(scope, `needs a [N, L, dim] ${what}; its ${what} has shape ${formatShape(t.type.shape)}`);
  }
  const lq = fixedDim(scope, q.type.shape, 1, 'a fixed query length');
  const lk = fixedDim(scope, source.type.shape, 1, 'a fixed key length');
  const outputDim = positiveInt(scope, 'outputDim', options.outputDim ?? fixedDim(scope, q.type.shape, 2, 'a fixed query width'));
  fixedDim(scope, source.type.shape, 2, 'a fixed key width');
  const rate = options.dropout ?? 0;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw layerError(scope, `dropout must be a rate in [0, 1), got ${String(rate)}`);
  const useBias = options.useBias !== false;
  const dtype = q.type.dtype;
  const Q = splitHeads(scope, project(scope, q, 'query', heads * keyDim, useBias), heads, keyDim);
  const K = splitHeads(scope, project(scope, source, 'key', heads * keyDim, useBias), heads, keyDim);
  const V = splitHeads(scope, project(scope, source, 'value', heads * valueDim, useBias), heads, valueDim);
  const scalar = (v: number) => scope.node('const', [], { dtype, shape: [], values: [v] });
  let scores = scope.node('mul', [scope.node('matmul', [Q, K], { transA: false, transB: true }), scalar(1 / Math.sqrt(keyDim))]);
  const keeps: Tensor[] = [];
  if (options.keyPaddingMask !== undefined) keeps.push(keepMask(scope, options.keyPaddingMask, 'keyPaddingMask', [['N', lk]], () => [-1, 1, 1, lk], dtype));
  if (options.mask !== undefined) keeps.push(keepMask(scope, options.mask, 'mask', [[lq, lk], ['N', lq, lk]], (m) => (m.type.shape.length === 2 ? [lq, lk] : [-1, 1, lq, lk]), dtype));
  if (options.causal) {
    const bias: number[] = [];
    for (let i = 0; i < lq; i++) for (let j = 0; j < lk; j++) bias.push(j <= i ? 0 : -Infinity);
    scores = scope.node('add', [scores, scope.node('const', [], { dtype, shape: [lq, lk], values: bias })]);
  }
  let rowValid: Tensor | undefined;
  if (keeps.length) {
    let keep = keeps.reduce((a, b) => scope.node('mul', [a, b]));
    // log 1 = 0 and log 0 = −∞: the mask as an additive bias.
    scores = scope.node('add', [scores, scope.node('log', [keep])]);
    // A fully masked row would be −∞ everywhere and softmax NaN: raise it to a finite floor (its
    // weights become uniform) and zero it below. Other rows are unchanged: e^(−3.4e38 − max) = 0.
    scores = scope.node('maximum', [scores, scalar(-FLOAT32_MAX)]);
    if (options.causal) {
      const tri: number[] = [];
      for (let i = 0; i < lq; i++) for (let j = 0; j < lk; j++) tri.push(j <= i ? 1 : 0);
      keep = scope.node('mul', [keep, scope.node('const', [], { dtype, shape: [lq, lk], values: tri })]);
    }
    rowValid = scope.node('reduceMax', [keep], { axes: [-1], keepdims: true });
  }
  let weights = scope.node('softmax', [scores], { axis: -1 });
  if (rowValid) weights = scope.node('mul', [weights, rowValid]);
  if (rate > 0) weights = scope.node('dropout', [weights], { rate });
  const context = scope.node('matmul', [weights, V]);
  const merged = scope.node('reshape', [scope.node('transpose', [context], { perm: [0, 2, 1, 3] })], { shape: [-1, lq, heads * valueDim] });
  return project(scope, merged, 'output', outputDim, useBias);
}
