// The ONNX export table: for every Kiln op, the ONNX node(s) with the same meaning at the opset
// being written, or the reason there are none. Typed over every op, so a new op without an
// export decision fails `tsc` here.
import type { AttrsOf, OpName } from '../ir/ops/index.ts';
import { BATCH, numel } from '../ir/shape.ts';
import {
  ELEM_TYPE,
  type ExportCtx,
  type ExportRule,
  floatAttr,
  intAttr,
  intsAttr,
  noOnnxEquivalent,
  type NoOnnxEquivalent,
  stringAttr,
} from './export-context.ts';
import { scanRule } from './export-scan.ts';
import { onnx } from './proto.ts';

const T = onnx.TensorProto.DataType;

/** An op that is one ONNX node over the same inputs, without attributes. */
const same =
  (opType: string): ExportRule<unknown> =>
  (c) =>
    c.emit(opType, c.x);

const param: ExportRule<AttrsOf<'param'>> = (c, a) => {
  const data = Object.hasOwn(c.weights, a.name) ? c.weights[a.name] : c.fail(`no weights for parameter '${a.name}'`);
  const count = numel(c.node.type.shape);
  if (data.length !== count) c.fail(`parameter '${a.name}' has ${data.length} values, its shape [${c.node.type.shape.join(', ')}] needs ${count}`);
  return c.existing(c.initializer(a.name, c.node.type.dtype, c.node.type.shape as number[], data));
};

const constant: ExportRule<AttrsOf<'const'>> = (c, a) => {
  const count = numel(c.node.type.shape);
  const data = a.values.length === count ? a.values : Array.from({ length: count }, () => a.values[0]);
  const base = c.node.meta.layer ? `${c.node.meta.layer}/const` : 'const';
  return c.existing(c.initializer(base, c.node.type.dtype, c.node.type.shape as number[], data));
};

const matmul: ExportRule<AttrsOf<'matmul'>> = (c, a) => {
  const swap = (input: string, rank: number) => {
    const perm = Array.from({ length: rank }, (_, i) => i);
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    return c.add('Transpose', [input], [intsAttr('perm', perm)]);
  };
  const [x, y] = c.node.inputs;
  const lhs = a.transA ? swap(c.x[0], x.type.shape.length) : c.x[0];
  const rhs = a.transB ? swap(c.x[1], y.type.shape.length) : c.x[1];
  return c.emit('MatMul', [lhs, rhs]);
};

/** Gelu arrives in opset 20: before it, the same formula from primitive nodes. */
const gelu: ExportRule<AttrsOf<'gelu'>> = (c, a) => {
  const approximate = a.approximate === 'tanh' ? 'tanh' : 'none';
  if (c.opset >= 20) return c.emit('Gelu', c.x, [stringAttr('approximate', approximate)]);
  const x = c.x[0];
  const k = (v: number) => c.scalar(`${c.layer}/gelu_const`, c.node.type.dtype, v);
  let inner: string;
  if (approximate === 'tanh') {
    const cube = c.add('Mul', [x, c.add('Mul', [x, x])]);
    const sum = c.add('Add', [x, c.add('Mul', [cube, k(0.044715)])]);
    inner = c.add('Tanh', [c.add('Mul', [sum, k(Math.sqrt(2 / Math.PI))])]);
  } else {
    inner = c.add('Erf', [c.add('Mul', [x, k(Math.SQRT1_2)])]);
  }
  return c.emit('Mul', [c.add('Mul', [x, k(0.5)]), c.add('Add', [inner, k(1)])]);
};

/**
 * Celu arrives in opset 12, below every opset Kiln writes (13 to 22), but for float32 only: other
 * dtypes get its defining formula, max(0, x) + min(0, α(e^(x/α) − 1)), from primitive nodes.
 */
const celu: ExportRule<AttrsOf<'celu'>> = (c, a) => {
  if (c.node.type.dtype === 'float32') return c.emit('Celu', c.x, [floatAttr('alpha', a.alpha)]);
  const x = c.x[0];
  const k = (v: number) => c.scalar(`${c.layer}/celu_const`, c.node.type.dtype, v);
  const negative = c.add('Mul', [c.add('Sub', [c.add('Exp', [c.add('Div', [x, k(a.alpha)])]), k(1)]), k(a.alpha)]);
  return c.emit('Add', [c.add('Max', [x, k(0)]), c.add('Min', [negative, k(0)])]);
};

const clip: ExportRule<AttrsOf<'clip'>> = (c, a) => {
  const bound = (v: number | null | undefined, which: string) => (v === undefined || v === null ? '' : c.scalar(`${c.layer}/${which}`, c.node.type.dtype, v));
  const min = bound(a.min, 'min');
  const max = bound(a.max, 'max');
  return c.emit('Clip', max ? [c.x[0], min, max] : min ? [c.x[0], min] : [c.x[0]]);
};

const avgPool2d: ExportRule<AttrsOf<'avgPool2d'>> = (c, a) => {
  const attrs = [intsAttr('kernel_shape', a.kernel), intsAttr('strides', a.strides), intsAttr('pads', a.pads), intAttr('count_include_pad', a.countIncludePad ? 1 : 0)];
  if (a.dilations.some((d) => d !== 1)) {
    if (c.opset < 19) c.fail(`AveragePool takes dilations only from opset 19 (exporting at opset ${c.opset})`);
    attrs.push(intsAttr('dilations', a.dilations));
  }
  return c.emit('AveragePool', c.x, attrs);
};

/** The resolved shape, with a leading batch dimension as -1 (ONNX infers it). */
const reshape: ExportRule<AttrsOf<'reshape'>> = (c) => {
  const shape = c.node.type.shape.map((d) => (d === BATCH ? -1 : d));
  const attrs = c.opset >= 14 && shape.includes(0) ? [intAttr('allowzero', 1)] : [];
  return c.emit('Reshape', [c.x[0], c.ints64(`${c.layer}/shape`, shape)], attrs);
};

const slice: ExportRule<AttrsOf<'slice'>> = (c, a) => {
  const input = [c.x[0], c.ints64(`${c.layer}/starts`, a.starts), c.ints64(`${c.layer}/ends`, a.ends)];
  input.push(c.ints64(`${c.layer}/axes`, a.axes ?? a.starts.map((_, i) => i)));
  if (a.steps) input.push(c.ints64(`${c.layer}/steps`, a.steps));
  return c.emit('Slice', input);
};

/** ReduceSum takes its axes as an input from opset 13, the others from opset 18. */
const reduce =
  (opType: string, axesInputFrom: number): ExportRule<AttrsOf<'reduceSum'>> =>
  (c, a) => {
    const attrs = [intAttr('keepdims', a.keepdims ? 1 : 0)];
    const input = [c.x[0]];
    // Empty axes: every axis, which is what ONNX does when no axes are given.
    if (a.axes.length > 0) {
      if (c.opset >= axesInputFrom) input.push(c.ints64(`${c.layer}/axes`, a.axes));
      else attrs.push(intsAttr('axes', a.axes));
    }
    return c.emit(opType, input, attrs);
  };

/** ONNX ArgMax gives int64; Kiln's argmax is int32. */
const argmax: ExportRule<AttrsOf<'argmax'>> = (c, a) =>
  c.emit('Cast', [c.add('ArgMax', c.x, [intAttr('axis', a.axis), intAttr('keepdims', a.keepdims ? 1 : 0)])], [intAttr('to', T.INT32)]);

/** ONNX comparisons give bool; Kiln's compare is int32 0/1. */
const compare: ExportRule<AttrsOf<'compare'>> = (c, a) => {
  const opType = { lt: 'Less', le: 'LessOrEqual', gt: 'Greater', ge: 'GreaterOrEqual', eq: 'Equal' }[a.op];
  return c.emit('Cast', [c.add(opType, c.x)], [intAttr('to', T.INT32)]);
};

/**
 * Kiln's condition is int32 (non-zero is true), ONNX Where's is bool: `cond == 0` with the
 * branches swapped, which (unlike a Cast to BOOL) Kiln's own import reads back.
 */
const where: ExportRule<AttrsOf<'where'>> = (c) => {
  const isZero = c.add('Equal', [c.x[0], c.scalar(`${c.layer}/zero`, 'int32', 0)]);
  return c.emit('Where', [isZero, c.x[2], c.x[1]]);
};

/**
 * Pad: Kiln's pads are ONNX's ([begins..., ends...], negative crops); from opset 11 they and the
 * constant value are inputs. Reflect is ONNX's (no edge repeat); wrap arrives in opset 19.
 */
const pad: ExportRule<AttrsOf<'pad'>> = (c, a) => {
  if (a.mode === 'wrap' && c.opset < 19) c.fail(`Pad mode 'wrap' arrives in opset 19 (exporting at opset ${c.opset})`);
  const input = [c.x[0], c.ints64(`${c.layer}/pads`, a.pads)];
  if (a.mode === 'constant') input.push(c.scalar(`${c.layer}/value`, c.node.type.dtype, a.value));
  return c.emit('Pad', input, [stringAttr('mode', a.mode)]);
};

/**
 * Expand to a static shape, or to [N, …] with N read at run time from a batched graph input (the
 * zero states recurrent layers and ONNX's ConstantOfShape start from).
 */
const expand: ExportRule<AttrsOf<'expand'>> = (c, a) => {
  const batch = a.shape.indexOf(BATCH);
  if (batch < 0) return c.emit('Expand', [c.x[0], c.ints64(`${c.layer}/shape`, a.shape as number[])]);
  if (batch !== 0 || a.shape.lastIndexOf(BATCH) !== 0) c.fail(`expand to [${a.shape.join(', ')}]: only a leading batch dimension is written`);
  const rest = c.ints64(`${c.layer}/shape`, a.shape.slice(1) as number[]);
  return c.emit('Expand', [c.x[0], c.add('Concat', [c.batchSize(), rest], [intAttr('axis', 0)])]);
};

const GRADIENT_ONLY = 'gradient-only: autodiff builds it for training graphs, and an inference graph never holds it';

/** Every op's export: a rule, or the reason ONNX export does not write it. */
export const EXPORT_RULES: { readonly [K in OpName]: ExportRule<AttrsOf<K>> | NoOnnxEquivalent } = {
  // Graph inputs are written before any node; an input node that is not one of them is an error.
  input: (c, a) => c.fail(`input node '${a.name}' is not one of the graph's inputs`),
  param,
  const: constant,
  neg: same('Neg'),
  abs: same('Abs'),
  exp: same('Exp'),
  log: same('Log'),
  sqrt: same('Sqrt'),
  erf: same('Erf'),
  relu: same('Relu'),
  sigmoid: same('Sigmoid'),
  tanh: same('Tanh'),
  leakyRelu: (c, a) => c.emit('LeakyRelu', c.x, [floatAttr('alpha', a.alpha)]),
  elu: (c, a) => c.emit('Elu', c.x, [floatAttr('alpha', a.alpha)]),
  celu,
  selu: (c) => c.emit('Selu', c.x, [floatAttr('alpha', 1.6732632423543772), floatAttr('gamma', 1.0507009873554805)]),
  softplus: same('Softplus'),
  gelu,
  clip,
  cast: (c, a) => c.emit('Cast', c.x, [intAttr('to', ELEM_TYPE[a.to])]),
  add: same('Add'),
  sub: same('Sub'),
  mul: same('Mul'),
  div: same('Div'),
  pow: same('Pow'),
  maximum: same('Max'),
  minimum: same('Min'),
  matmul,
  conv2d: (c, a) => {
    const w = c.node.inputs[1].type.shape as number[];
    return c.emit('Conv', c.x, [
      intsAttr('kernel_shape', [w[2], w[3]]),
      intsAttr('strides', a.strides),
      intsAttr('pads', a.pads), // Kiln's [top, left, bottom, right] is ONNX's [x1_begin, x2_begin, x1_end, x2_end]
      intsAttr('dilations', a.dilations),
      intAttr('group', a.group),
    ]);
  },
  maxPool2d: (c, a) => c.emit('MaxPool', c.x, [intsAttr('kernel_shape', a.kernel), intsAttr('strides', a.strides), intsAttr('pads', a.pads), intsAttr('dilations', a.dilations)]),
  avgPool2d,
  globalAvgPool: same('GlobalAveragePool'),
  reduceSum: reduce('ReduceSum', 13),
  reduceMean: reduce('ReduceMean', 18),
  reduceMax: reduce('ReduceMax', 18),
  reduceMin: reduce('ReduceMin', 18),
  argmax,
  softmax: (c, a) => c.emit('Softmax', c.x, [intAttr('axis', a.axis)]),
  logSoftmax: (c, a) => c.emit('LogSoftmax', c.x, [intAttr('axis', a.axis)]),
  reshape,
  identity: same('Identity'),
  // Inference-time dropout is the identity.
  dropout: same('Identity'),
  transpose: (c, a) => c.emit('Transpose', c.x, [intsAttr('perm', a.perm)]),
  concat: (c, a) => c.emit('Concat', c.x, [intAttr('axis', a.axis)]),
  slice,
  batchNorm: (c, a) => c.emit('BatchNormalization', c.x, [floatAttr('epsilon', a.epsilon)]),
  dropoutMask: noOnnxEquivalent(`training-only: dropout's random mask in a training graph (an inference graph holds 'dropout', exported as Identity)`),
  scan: scanRule,
  batchSize: noOnnxEquivalent(`${GRADIENT_ONLY} (the divisor of a mean over the batch)`),
  step: noOnnxEquivalent(`${GRADIENT_ONLY} (the mask in relu's, clip's and maximum's gradients)`),
  sign: noOnnxEquivalent(`${GRADIENT_ONLY} (abs's gradient)`),
  isEqual: noOnnxEquivalent(`${GRADIENT_ONLY} (marks the winners of a max)`),
  expand,
  oneHot: noOnnxEquivalent(`training-only: a sparse cross-entropy loss's labels as one-hot rows`),
  conv2dBackwardInput: noOnnxEquivalent(GRADIENT_ONLY),
  conv2dBackwardFilter: noOnnxEquivalent(GRADIENT_ONLY),
  maxPool2dBackward: noOnnxEquivalent(GRADIENT_ONLY),
  avgPool2dBackward: noOnnxEquivalent(GRADIENT_ONLY),
  sliceBackward: noOnnxEquivalent(GRADIENT_ONLY),
  // Kiln's indices are int32, which Gather and GatherElements accept; both take negative indices.
  gather: (c, a) => c.emit('Gather', c.x, [intAttr('axis', a.axis)]),
  gatherElements: (c, a) => c.emit('GatherElements', c.x, [intAttr('axis', a.axis)]),
  compare,
  where,
  pad,
  roundFloat: noOnnxEquivalent(`ONNX import's stand-in for a Cast through a narrow float type (FLOAT16, BFLOAT16, FLOAT8...); the op keeps the format's limits, not which ONNX type it was`),
  roundInt: noOnnxEquivalent(`ONNX import's stand-in for a Cast through a narrow integer type (INT8, UINT4...); the op keeps the range, not which ONNX type it was`),
  poolNd: noOnnxEquivalent(`ONNX import's N-d MaxPool/AveragePool with ceil_mode folded into its pads (countedPads); not written back yet`),
  maxPoolIndices: noOnnxEquivalent(`ONNX import's second MaxPool output (the argmax indices), which Kiln computes as a node of its own; not written back yet`),
};
