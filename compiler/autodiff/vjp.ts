// The gradient table: one vector-Jacobian product per differentiable op, written as IR ops, so a
// gradient graph is shape-checked, fused, lowered and emitted exactly like a forward graph. The
// table is total over the ops: one without a rule says why, so a new op cannot forget its gradient.
import type { Node } from '../../src/ir/node.ts';
import type { AttrsOf, OpName } from '../../src/ir/ops/index.ts';
import { BATCH, normAxis, type Dim } from '../../src/ir/shape.ts';
import { scanVjp } from './scan-vjp.ts';

/** Builds gradient nodes, attributed to the forward node's layer. */
export interface GradBuilder {
  op(op: OpName, inputs: readonly Node[], attrs?: Record<string, unknown>): Node;
  scalar(value: number): Node;
  /** Sums `g` over the axes along which `target` was broadcast, then reshapes to its shape. */
  unbroadcast(g: Node, target: Node): Node;
  /** The VJP of `root` seeded with `seed`, by this same machinery (grad.ts's backprop): what a scan's backward body is built with. */
  backprop(root: Node, seed: Node, wrt: readonly Node[]): Map<Node, Node>;
}

/** The derivative is zero wherever it exists (masks, signs): nothing flows back. */
export const ZERO = 'zero' as const;

/**
 * Given the output's gradient `g` and the forward node, the gradient of each input: a node,
 * ZERO, or null where the op is not differentiable with respect to that input.
 */
export type VjpRule<A> = (g: Node, node: Node & { attrs: A }, b: GradBuilder) => (Node | typeof ZERO | null)[];

/** An op with no gradient rule, and why; a gradient asked through it is an error quoting the reason. */
export interface NotDifferentiable {
  readonly notDifferentiable: string;
}

export const notDifferentiable = (reason: string): NotDifferentiable => ({ notDifferentiable: reason });

/** Every op: its rule, or the reason it has none. */
type VjpTable = { [K in OpName]: VjpRule<AttrsOf<K>> | NotDifferentiable };

/** The rule for `op`, or the reason it has none. */
export function vjpOf(op: OpName): VjpRule<unknown> | NotDifferentiable {
  return VJP[op] as VjpRule<unknown> | NotDifferentiable;
}

const x0 = (n: Node) => n.inputs[0];
/** g · f'(x) for unary ops whose derivative is a node. */
const chain =
  <A>(derivative: (n: Node & { attrs: A }, b: GradBuilder) => Node): VjpRule<A> =>
  (g, n, b) => [b.op('mul', [g, derivative(n, b)])];
const oneMinus = (b: GradBuilder, x: Node) => b.op('sub', [b.scalar(1), x]);

/** Shape of a reduction's output with the reduced axes kept as 1. */
function keptShape(x: Node, axes: number[]): Dim[] {
  const rank = x.type.shape.length;
  const all = axes.length ? axes.map((a) => normAxis(a, rank)) : x.type.shape.map((_, i) => i);
  return x.type.shape.map((d, i) => (all.includes(i) ? 1 : d));
}

/** A reduction's gradient broadcast back to its input's shape. */
function spread(g: Node, x: Node, axes: number[], b: GradBuilder): Node {
  const kept = keptShape(x, axes);
  const reshaped = b.op('reshape', [g], { shape: kept[0] === BATCH ? [-1, ...kept.slice(1)] : kept });
  return b.op('expand', [reshaped], { shape: [...x.type.shape] });
}

const reducedCount = (x: Node, axes: number[]) => {
  const rank = x.type.shape.length;
  const all = axes.length ? axes.map((a) => normAxis(a, rank)) : x.type.shape.map((_, i) => i);
  return all;
};

/**
 * dL/dx of a convolution. With unit strides and dilations and no groups it is itself a plain
 * convolution: dy padded by k-1-p, filters with in/out channels swapped and taps flipped; that
 * form has no bounds tests in its inner loop and gets the forward convolution's register tile.
 * Otherwise the dedicated scatter kernel computes it.
 */
function convInputGradient(g: Node, n: Node & { attrs: AttrsOf<'conv2d'> }, b: GradBuilder): Node {
  const [x, w] = n.inputs;
  const a = n.attrs;
  const [kh, kw] = w.type.shape.slice(2) as number[];
  const [pt, pl, pb, pr] = a.pads;
  const plain = a.group === 1 && a.strides.every((s) => s === 1) && a.dilations.every((d) => d === 1) && Math.max(pt, pb) <= kh - 1 && Math.max(pl, pr) <= kw - 1;
  if (!plain) return b.op('conv2dBackwardInput', [g, w], { ...a, inputShape: [...x.type.shape] });
  const padded = b.op('pad', [g], { pads: [0, 0, kh - 1 - pt, kw - 1 - pl, 0, 0, kh - 1 - pb, kw - 1 - pr], mode: 'constant', value: 0 });
  const swapped = b.op('transpose', [w], { perm: [1, 0, 2, 3] });
  const flipped = b.op('slice', [swapped], { starts: [-1, -1], ends: [-(kh + 1), -(kw + 1)], axes: [2, 3], steps: [-1, -1] });
  return b.op('conv2d', [padded, flipped], { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
}

/** What avgPool2d divided each output position by: the window, or its taps inside the input. */
function poolDivisors(x: Node, n: Node & { attrs: AttrsOf<'avgPool2d'> }): number[] {
  const a = n.attrs;
  const [h, w] = x.type.shape.slice(2) as number[];
  const [oh, ow] = n.type.shape.slice(2) as number[];
  const inside = (o: number, size: number, axis: 0 | 1) => {
    let count = 0;
    for (let t = 0; t < a.kernel[axis]; t++) {
      const pos = o * a.strides[axis] - a.pads[axis] + t * a.dilations[axis];
      if (pos >= 0 && pos < size) count++;
    }
    return count;
  };
  const values: number[] = [];
  for (let i = 0; i < oh; i++) {
    for (let j = 0; j < ow; j++) values.push(a.countIncludePad ? a.kernel[0] * a.kernel[1] : inside(i, h, 0) * inside(j, w, 1));
  }
  return values;
}

const zeros: VjpRule<unknown> = (_g, n) => n.inputs.map(() => ZERO);

/**
 * gather along axis 0 (an embedding lookup): the data's gradient is a scatter-add of g's rows,
 * written as oneHot(indices)ᵀ · g so it needs no op of its own (the cost of one matmul over the
 * vocabulary). Indices are normalised first, so a negative index's row gets its gradient too.
 * Other axes have no rule yet.
 */
const gatherRule: VjpRule<AttrsOf<'gather'>> = (g, n, b) => {
  const [data, indices] = n.inputs;
  const [vocab, ...rest] = data.type.shape;
  if (normAxis(n.attrs.axis, data.type.shape.length) !== 0 || typeof vocab !== 'number' || rest.includes(BATCH)) return [null, null];
  const intScalar = (v: number) => b.op('const', [], { dtype: 'int32', shape: [], values: [v] });
  const negative = b.op('compare', [indices, intScalar(0)], { op: 'lt' });
  const wrapped = b.op('add', [indices, b.op('mul', [negative, intScalar(vocab)])]);
  let hot = b.op('oneHot', [wrapped], { depth: vocab });
  if (hot.type.dtype !== g.type.dtype) hot = b.op('cast', [hot], { to: g.type.dtype });
  const width = (rest as number[]).reduce((p, d) => p * d, 1);
  // Positions as rows, [P, w]; batched indices keep the batch in front ([N, P, w]) and the
  // products are summed over it after, since a reshape cannot merge the batch into a row count.
  const batched = indices.type.shape[0] === BATCH;
  const positions = indices.type.shape.slice(batched ? 1 : 0).reduce<number>((p, d) => p * (d as number), 1);
  const rows = (t: Node, w: number) => b.op('reshape', [t], { shape: batched ? [-1, positions, w] : [positions, w] });
  let summed = b.op('matmul', [rows(hot, vocab), rows(g, width)], { transA: true, transB: false });
  if (batched) summed = b.op('reduceSum', [summed], { axes: [0], keepdims: false });
  return [b.op('reshape', [summed], { shape: [vocab, ...rest] }), null];
};

/** reduceMax / reduceMin: the gradient goes to every element equal to the result. */
const extremum: VjpRule<AttrsOf<'reduceMax'>> = (g, n, b) => {
  const x = x0(n);
  const y = spread(n, x, n.attrs.axes, b);
  return [b.op('mul', [spread(g, x, n.attrs.axes, b), b.op('isEqual', [x, y])])];
};

const SOURCE = 'a source: it has no inputs for a gradient to reach';
const GRADIENT_OP = 'a gradient op: Kiln takes first derivatives only';

export const VJP: VjpTable = {
  input: notDifferentiable(SOURCE),
  param: notDifferentiable(SOURCE),
  const: notDifferentiable(SOURCE),
  // Backpropagation through time, as scans (scan-vjp.ts).
  scan: scanVjp,
  batchSize: notDifferentiable('reads only the run-time batch size, no tensor'),
  argmax: notDifferentiable('integer output: an index, piecewise constant in its input'),
  maxPoolIndices: notDifferentiable('integer output: the indices of the maxima'),
  compare: notDifferentiable('integer output: 1 or 0, piecewise constant in its inputs'),
  roundInt: notDifferentiable('integer output: rounding is piecewise constant'),
  roundFloat: notDifferentiable('rounding to a narrow float format is piecewise constant'),
  oneHot: notDifferentiable('its input is integer class indices; the output is piecewise constant in them'),
  batchNorm: notDifferentiable('the inference form (running statistics): training rewrites it to batch statistics before taking gradients (compiler/train/training-mode.ts)'),
  conv2dBackwardInput: notDifferentiable(GRADIENT_OP),
  conv2dBackwardFilter: notDifferentiable(GRADIENT_OP),
  maxPool2dBackward: notDifferentiable(GRADIENT_OP),
  avgPool2dBackward: notDifferentiable(GRADIENT_OP),
  sliceBackward: notDifferentiable(GRADIENT_OP),
  gatherElements: notDifferentiable('imported from ONNX for inference; its gradient needs a scatter-add op Kiln does not have'),
  where: notDifferentiable('imported from ONNX for inference; no rule written yet (its branches would take where(c, g, 0) and where(c, 0, g))'),
  poolNd: notDifferentiable('imported from ONNX for inference; the pooling gradient ops are 2-D only'),
  // Piecewise-constant in their inputs: a dropout mask reads only x's shape and the seed.
  dropoutMask: zeros,
  step: zeros,
  sign: zeros,
  isEqual: zeros,
  add: (g, n, b) => [b.unbroadcast(g, n.inputs[0]), b.unbroadcast(g, n.inputs[1])],
  sub: (g, n, b) => [b.unbroadcast(g, n.inputs[0]), b.unbroadcast(b.op('neg', [g]), n.inputs[1])],
  mul: (g, n, b) => [b.unbroadcast(b.op('mul', [g, n.inputs[1]]), n.inputs[0]), b.unbroadcast(b.op('mul', [g, n.inputs[0]]), n.inputs[1])],
  div: (g, n, b) => [
    b.unbroadcast(b.op('div', [g, n.inputs[1]]), n.inputs[0]),
    b.unbroadcast(b.op('neg', [b.op('div', [b.op('mul', [g, n]), n.inputs[1]])]), n.inputs[1]),
  ],
  pow: (g, n, b) => {
    const [a, e] = n.inputs;
    const da = b.op('mul', [g, b.op('mul', [e, b.op('pow', [a, b.op('sub', [e, b.scalar(1)])])])]);
    const de = b.op('mul', [g, b.op('mul', [n, b.op('log', [a])])]);
    return [b.unbroadcast(da, a), b.unbroadcast(de, e)];
  },
  maximum: (g, n, b) => {
    const mask = b.op('step', [b.op('sub', [n.inputs[0], n.inputs[1]])]);
    return [b.unbroadcast(b.op('mul', [g, mask]), n.inputs[0]), b.unbroadcast(b.op('mul', [g, oneMinus(b, mask)]), n.inputs[1])];
  },
  minimum: (g, n, b) => {
    const mask = b.op('step', [b.op('sub', [n.inputs[1], n.inputs[0]])]);
    return [b.unbroadcast(b.op('mul', [g, mask]), n.inputs[0]), b.unbroadcast(b.op('mul', [g, oneMinus(b, mask)]), n.inputs[1])];
  },
  neg: (g, _n, b) => [b.op('neg', [g])],
  abs: chain((n, b) => b.op('sign', [x0(n)])),
  exp: chain((n) => n),
  log: (g, n, b) => [b.op('div', [g, x0(n)])],
  sqrt: (g, n, b) => [b.op('div', [g, b.op('mul', [n, b.scalar(2)])])],
  erf: chain((n, b) => b.op('mul', [b.scalar(2 / Math.sqrt(Math.PI)), b.op('exp', [b.op('neg', [b.op('mul', [x0(n), x0(n)])])])])),
  relu: chain((n, b) => b.op('step', [n])),
  sigmoid: chain((n, b) => b.op('mul', [n, oneMinus(b, n)])),
  tanh: chain((n, b) => oneMinus(b, b.op('mul', [n, n]))),
  leakyRelu: chain((n, b) => {
    const pos = b.op('step', [x0(n)]);
    return b.op('add', [pos, b.op('mul', [b.scalar(n.attrs.alpha), oneMinus(b, pos)])]);
  }),
  elu: chain((n, b) => {
    const pos = b.op('step', [x0(n)]);
    // For x ≤ 0, y = α(eˣ - 1) so dy/dx = y + α.
    return b.op('add', [pos, b.op('mul', [oneMinus(b, pos), b.op('add', [n, b.scalar(n.attrs.alpha)])])]);
  }),
  // celu'(x) = 1 for x > 0 and e^(x/α) for x ≤ 0, which is e^(min(x, 0)/α) on both sides: no
  // mask, and no e^(x/α) that overflows where it would be masked out (0 · ∞ is NaN).
  celu: chain((n, b) => b.op('exp', [b.op('div', [b.op('minimum', [x0(n), b.scalar(0)]), b.scalar(n.attrs.alpha)])])),
  selu: chain((n, b) => {
    const [alpha, scale] = [1.6732632423543772, 1.0507009873554805];
    const pos = b.op('step', [x0(n)]);
    const neg = b.op('mul', [b.scalar(alpha * scale), b.op('exp', [x0(n)])]);
    return b.op('add', [b.op('mul', [pos, b.scalar(scale)]), b.op('mul', [oneMinus(b, pos), neg])]);
  }),
  softplus: chain((n, b) => b.op('sigmoid', [x0(n)])),
  gelu: (g, n, b) => {
    const x = x0(n);
    if (n.attrs.approximate === 'tanh') {
      // y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³): y' = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)
      const k = Math.sqrt(2 / Math.PI);
      const x2 = b.op('mul', [x, x]);
      const t = b.op('tanh', [b.op('mul', [b.scalar(k), b.op('add', [x, b.op('mul', [b.scalar(0.044715), b.op('mul', [x2, x])])])])]);
      const du = b.op('mul', [b.scalar(k), b.op('add', [b.scalar(1), b.op('mul', [b.scalar(3 * 0.044715), x2])])]);
      const sech2 = b.op('sub', [b.scalar(1), b.op('mul', [t, t])]);
      const dy = b.op('add', [b.op('mul', [b.scalar(0.5), b.op('add', [b.scalar(1), t])]), b.op('mul', [b.op('mul', [b.scalar(0.5), x]), b.op('mul', [sech2, du])])]);
      return [b.op('mul', [g, dy])];
    }
    // d/dx x·Φ(x) = Φ(x) + x·φ(x)
    const cdf = b.op('mul', [b.scalar(0.5), b.op('add', [b.scalar(1), b.op('erf', [b.op('mul', [x, b.scalar(Math.SQRT1_2)])])])]);
    const pdf = b.op('mul', [b.scalar(1 / Math.sqrt(2 * Math.PI)), b.op('exp', [b.op('mul', [b.scalar(-0.5), b.op('mul', [x, x])])])]);
    return [b.op('mul', [g, b.op('add', [cdf, b.op('mul', [x, pdf])])])];
  },
  clip: (g, n, b) => {
    let mask: Node | null = null;
    const { min, max } = n.attrs;
    if (min !== undefined && min !== null) mask = b.op('step', [b.op('sub', [x0(n), b.scalar(min)])]);
    if (max !== undefined && max !== null) {
      const upper = b.op('step', [b.op('sub', [b.scalar(max), x0(n)])]);
      mask = mask ? b.op('mul', [mask, upper]) : upper;
    }
    return [mask ? b.op('mul', [g, mask]) : g];
  },
  cast: (g, n, b) => [b.op('cast', [g], { to: x0(n).type.dtype })],
  identity: (g) => [g],
  dropout: (g) => [g],
  reshape: (g, n, b) => {
    const shape = x0(n).type.shape;
    return [b.op('reshape', [g], { shape: shape[0] === BATCH ? [-1, ...shape.slice(1)] : [...shape] })];
  },
  transpose: (g, n, b) => {
    const inverse = new Array<number>(n.attrs.perm.length);
    n.attrs.perm.forEach((p, i) => (inverse[p] = i));
    return [b.op('transpose', [g], { perm: inverse })];
  },
  concat: (g, n, b) => {
    const axis = normAxis(n.attrs.axis, n.type.shape.length);
    let start = 0;
    return n.inputs.map((x) => {
      const size = x.type.shape[axis] as number;
      const part = b.op('slice', [g], { starts: [start], ends: [start + size], axes: [axis], steps: [1] });
      start += size;
      return part;
    });
  },
  slice: (g, n, b) => [b.op('sliceBackward', [g], { ...n.attrs, inputShape: [...x0(n).type.shape] })],
  expand: (g, n, b) => [b.unbroadcast(g, x0(n))],
  gather: gatherRule,
  matmul: (g, n, b) => {
    const [a, w] = n.inputs;
    const { transA = false, transB = false } = n.attrs;
    const da = transA ? b.op('matmul', [w, g], { transA: transB, transB: true }) : b.op('matmul', [g, w], { transA: false, transB: !transB });
    const dw = transB ? b.op('matmul', [g, a], { transA: true, transB: transA }) : b.op('matmul', [a, g], { transA: !transA, transB: false });
    return [b.unbroadcast(da, a), b.unbroadcast(dw, w)];
  },
  conv2d: (g, n, b) => {
    const [x, w] = n.inputs;
    return [convInputGradient(g, n, b), b.op('conv2dBackwardFilter', [g, x], { ...n.attrs, inputShape: [...w.type.shape] })];
  },
  pad: (g, n, b) => {
    // Constant padding: the gradient is the part of g over the original tensor.
    const { pads, mode } = n.attrs;
    const shape = x0(n).type.shape;
    const r = shape.length;
    if (mode !== 'constant' || pads.some((p) => p < 0)) return [null];
    const axes = shape.map((_, i) => i).filter((i) => pads[i] > 0 || pads[i + r] > 0);
    if (!axes.length) return [g];
    const starts = axes.map((i) => pads[i]);
    return [b.op('slice', [g], { starts, ends: axes.map((i, j) => starts[j] + (shape[i] as number)), axes, steps: axes.map(() => 1) })];
  },
  maxPool2d: (g, n, b) => [b.op('maxPool2dBackward', [g, x0(n), n], n.attrs)],
  avgPool2d: (g, n, b) => {
    const x = x0(n);
    const divisor = b.op('const', [], { dtype: x.type.dtype, shape: n.type.shape.slice(2), values: poolDivisors(x, n) });
    return [b.op('avgPool2dBackward', [g, divisor], { ...n.attrs, inputShape: [...x.type.shape] })];
  },
  globalAvgPool: (g, n, b) => {
    const x = x0(n);
    const area = x.type.shape.slice(2).reduce<number>((p, d) => p * (d as number), 1);
    return [b.op('expand', [b.op('div', [g, b.scalar(area)])], { shape: [...x.type.shape] })];
  },
  reduceSum: (g, n, b) => [spread(g, x0(n), n.attrs.axes, b)],
  reduceMean: (g, n, b) => {
    const x = x0(n);
    const axes = reducedCount(x, n.attrs.axes);
    const literal = axes.reduce((p, a) => (x.type.shape[a] === BATCH ? p : p * (x.type.shape[a] as number)), 1);
    let count = b.scalar(literal);
    if (axes.some((a) => x.type.shape[a] === BATCH)) count = b.op('mul', [count, b.op('batchSize', [], { dtype: g.type.dtype })]);
    return [spread(b.op('div', [g, count]), x, n.attrs.axes, b)];
  },
  reduceMax: extremum,
  reduceMin: extremum,
  softmax: (g, n, b) => {
    // dx = y ⊙ (g - Σ g⊙y)
    const dot = b.op('reduceSum', [b.op('mul', [g, n])], { axes: [n.attrs.axis], keepdims: true });
    return [b.op('mul', [n, b.op('sub', [g, dot])])];
  },
  logSoftmax: (g, n, b) => {
    // dx = g - softmax(x) ⊙ Σ g
    const total = b.op('reduceSum', [g], { axes: [n.attrs.axis], keepdims: true });
    return [b.op('sub', [g, b.op('mul', [b.op('exp', [n]), total])])];
  },
};
