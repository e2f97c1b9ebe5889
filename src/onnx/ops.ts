// The ONNX op table: one entry per ONNX op_type, mapping its inputs, attributes and opset to Kiln IR.
import type { Node } from '../ir/node.ts';
import type { OpName } from '../ir/ops/index.ts';
import type { TensorProto } from './proto.ts';
import { decodeTensor, type TensorValue } from './tensor.ts';
import { recurrent } from './rnn.ts';
import { decodeStrings, STRING } from './strings.ts';
import { constInts, float, int, ints, normAxis, prod, reshape, scalar, shapeOf, str, type OnnxContext, type OnnxOp } from './context.ts';
import { conv, globalPool, pool } from './ops-window.ts';
import { cast, castLike } from './ops-cast.ts';
import { nll, softmaxCrossEntropy } from './ops-loss.ts';
import { constantOfShape, expandOp, range } from './ops-shape.ts';
import { SEQUENCE_OPS } from './ops-seq.ts';
import { LOOP_OPS } from './ops-scan.ts';

export type { OnnxContext, OnnxOp } from './context.ts';

// ---- op families ----

const unary = (op: OpName, attrs: (c: OnnxContext) => Record<string, unknown> = () => ({})): OnnxOp => (c) =>
  c.emit(op, [c.input(0)], attrs(c));
const binary = (op: OpName): OnnxOp => (c) => c.emit(op, [c.input(0), c.input(1)]);

/** Max, Min, Sum, Mean: variadic, folded pairwise (each pair broadcasts). */
const variadic = (op: OpName, mean = false): OnnxOp => (c) => {
  let acc = c.input(0);
  for (let i = 1; i < c.count; i++) if (c.has(i)) acc = c.emit(op, [acc, c.input(i)]);
  return mean && c.count > 1 ? c.emit('div', [acc, scalar(c, c.count, acc.type.dtype)]) : acc;
};

/** Softmax / LogSoftmax: since opset 13 along `axis` (default -1); before, on the input flattened to 2-D at `axis` (default 1). */
const softmaxLike = (op: OpName): OnnxOp => (c) => {
  const x = c.input(0);
  const shape = shapeOf(x);
  if (c.opset >= 13) return c.emit(op, [x], { axis: normAxis(c, int(c, 'axis', -1), shape.length) });
  const axis = normAxis(c, int(c, 'axis', 1), shape.length);
  const flat = reshape(c, x, [prod(shape.slice(0, axis)), prod(shape.slice(axis))]);
  return reshape(c, c.emit(op, [flat], { axis: 1 }), shape);
};

/** ReduceSum/Mean/Max/Min: axes an attribute, or (ReduceSum since 13, the others since 18) an input. */
const reduce = (op: OpName, axesInputSince: number): OnnxOp => (c) => {
  const x = c.input(0);
  const rank = shapeOf(x).length;
  const axes = c.opset >= axesInputSince ? constInts(c, 1, 'axes') : ints(c, 'axes');
  const keepdims = int(c, 'keepdims', 1) !== 0;
  if ((axes === undefined || axes.length === 0) && int(c, 'noop_with_empty_axes', 0) !== 0) return c.emit('identity', [x]);
  const list = (axes ?? []).map((a) => normAxis(c, a, rank));
  const shape = shapeOf(x);
  if (shape.some((d) => d === 0)) {
    // A reduction over an empty set is its identity element: a constant of the output's shape.
    const all = list.length ? list : shape.map((_, i) => i);
    const dims = shape.flatMap((d, i) => (all.includes(i) ? (keepdims ? [1] : []) : [d]));
    const dtype = x.type.dtype;
    if ((op !== 'reduceSum' && dtype === 'int32') || dims.includes(0)) c.unsupported(`this reduction over an empty tensor is not supported`);
    const zeros = c.constNode({ name: '', onnxType: dtype === 'float64' ? 11 : dtype === 'int32' ? 6 : 1, dims, data: new Array<number>(prod(dims)).fill(0) });
    if (op === 'reduceSum') return zeros;
    // Constants must be finite (they are written as JSON): -∞ is log 0, +∞ its negation, NaN 0/0.
    if (op === 'reduceMax') return c.emit('log', [zeros]);
    if (op === 'reduceMin') return c.emit('neg', [c.emit('log', [zeros])]);
    return c.emit('div', [zeros, zeros]);
  }
  return c.emit(op, [x], { axes: list, keepdims });
};

const gemm: OnnxOp = (c) => {
  const a = c.input(0);
  const b = c.input(1);
  if (shapeOf(a).length !== 2 || shapeOf(b).length !== 2) c.unsupported(`Gemm needs 2-D A and B`);
  let y = c.emit('matmul', [a, b], { transA: int(c, 'transA', 0) !== 0, transB: int(c, 'transB', 0) !== 0 });
  const alpha = float(c, 'alpha', 1);
  const beta = float(c, 'beta', 1);
  if (alpha !== 1) y = c.emit('mul', [y, scalar(c, alpha, y.type.dtype)]);
  if (c.has(2)) {
    let bias = c.input(2);
    if (beta !== 1) bias = c.emit('mul', [bias, scalar(c, beta, bias.type.dtype)]);
    y = c.emit('add', [y, bias]);
  }
  return y;
};

/** MatMul with NumPy semantics: a 1-D operand is promoted to a matrix and the added axis dropped. */
const matmul: OnnxOp = (c) => {
  let a = c.input(0);
  let b = c.input(1);
  const [sa, sb] = [shapeOf(a), shapeOf(b)];
  if (sa.length === 1) a = reshape(c, a, [1, sa[0]]);
  if (sb.length === 1) b = reshape(c, b, [sb[0], 1]);
  let y = c.emit('matmul', [a, b]);
  const sy = shapeOf(y);
  if (sa.length === 1 && sb.length === 1) y = reshape(c, y, []);
  else if (sa.length === 1) y = reshape(c, y, [...sy.slice(0, -2), sy[sy.length - 1]]);
  else if (sb.length === 1) y = reshape(c, y, sy.slice(0, -1));
  return y;
};

/** Reshape: the target shape is an input since opset 5 (an attribute before); 0 copies a dim unless allowzero, -1 is inferred. */
const reshapeOp: OnnxOp = (c) => {
  const x = c.input(0);
  const shape = shapeOf(x);
  const target = c.opset >= 5 ? constInts(c, 1, 'shape') : ints(c, 'shape');
  if (!target) return c.unsupported(`the target shape is missing`);
  const allowZero = int(c, 'allowzero', 0) !== 0;
  const dims = target.map((d, i) => (d === 0 && !allowZero ? shape[i] : d));
  const known = dims.filter((d) => d !== -1);
  if (dims.length - known.length > 1 || known.some((d) => d < 0 || d === undefined)) c.unsupported(`invalid target shape [${target.join(', ')}]`);
  if (known.length < dims.length) {
    const rest = prod(known);
    const total = prod(shape);
    if (rest === 0 || total % rest !== 0) c.unsupported(`cannot reshape [${shape.join(', ')}] to [${target.join(', ')}]`);
    return reshape(c, x, dims.map((d) => (d === -1 ? total / rest : d)));
  }
  return reshape(c, x, dims);
};

const flatten: OnnxOp = (c) => {
  const x = c.input(0);
  const shape = shapeOf(x);
  let axis = int(c, 'axis', 1);
  if (axis < 0) axis += shape.length;
  if (axis < 0 || axis > shape.length) c.unsupported(`axis ${int(c, 'axis', 1)} out of range for rank ${shape.length}`);
  return reshape(c, x, [prod(shape.slice(0, axis)), prod(shape.slice(axis))]);
};

/** Squeeze / Unsqueeze: axes an attribute before opset 13, an input since. */
const squeezeAxes = (c: OnnxContext) => (c.opset >= 13 ? constInts(c, 1, 'axes') : ints(c, 'axes'));

const squeeze: OnnxOp = (c) => {
  const x = c.input(0);
  const shape = shapeOf(x);
  const axes = squeezeAxes(c);
  const drop = new Set(axes === undefined ? shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => normAxis(c, a, shape.length)));
  for (const a of drop) if (shape[a] !== 1) c.unsupported(`cannot squeeze axis ${a} of size ${shape[a]}`);
  return reshape(c, x, shape.filter((_, i) => !drop.has(i)));
};

const unsqueeze: OnnxOp = (c) => {
  const x = c.input(0);
  const shape = shapeOf(x);
  const axes = squeezeAxes(c);
  if (!axes) return c.unsupported(`axes are required`);
  const rank = shape.length + axes.length;
  const at = new Set(axes.map((a) => normAxis(c, a, rank)));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : shape[k++]);
  return reshape(c, x, out);
};

const transpose: OnnxOp = (c) => {
  const x = c.input(0);
  const rank = shapeOf(x).length;
  const perm = ints(c, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  return c.emit('transpose', [x], { perm });
};

const concat: OnnxOp = (c) => {
  const parts: Node[] = [];
  for (let i = 0; i < c.count; i++) if (c.has(i)) parts.push(c.input(i));
  const nonEmpty = parts.filter((p) => !shapeOf(p).includes(0));
  const axis = normAxis(c, int(c, 'axis', 0), shapeOf(parts[0]).length);
  return c.emit('concat', nonEmpty.length ? nonEmpty : parts.slice(0, 1), { axis });
};

/** Clip: min/max attributes before opset 11, optional inputs since (constant or not). */
const clip: OnnxOp = (c) => {
  let x = c.input(0);
  if (c.opset < 11) {
    const bound = (name: string) => (c.attr(name) === undefined ? null : float(c, name, 0));
    return c.emit('clip', [x], { min: bound('min'), max: bound('max') });
  }
  if (c.has(1)) x = c.emit('maximum', [x, c.input(1)]);
  if (c.has(2)) x = c.emit('minimum', [x, c.input(2)]);
  return c.has(1) || c.has(2) ? x : c.emit('identity', [x]);
};

/** Dropout at inference: the identity. Ratio an attribute before opset 12, an input since; the mask output is unsupported. */
const dropout: OnnxOp = (c) => {
  const x = c.input(0);
  if (c.opset >= 12 && c.has(2)) {
    const training = c.constant(2);
    if (!training) return c.unsupported(`training_mode must be a constant`);
    if (training.data[0]) c.unsupported(`training mode is not supported (inference only)`);
  }
  // The mask output (since opset 12) keeps every element at inference: all true.
  const dims = shapeOf(x);
  const mask: TensorValue = { name: '', onnxType: 9, dims: [...dims], data: new Int32Array(prod(dims)).fill(1) };
  return c.opset >= 12 ? [c.emit('identity', [x]), mask] : c.emit('identity', [x]);
};

const batchNorm: OnnxOp = (c) => {
  if (int(c, 'training_mode', 0) !== 0) c.unsupported(`training mode is not supported (inference only)`);
  if (c.opset < 7 && int(c, 'is_test', 0) === 0) c.unsupported(`training mode (is_test = 0) is not supported`);
  const ins = [0, 1, 2, 3, 4].map((i) => c.input(i));
  return c.emit('batchNorm', ins, { epsilon: float(c, 'epsilon', 1e-5), momentum: float(c, 'momentum', 0.9) });
};

/** Pow: ONNX allows base and exponent of different types; the result has the base's type. */
const pow: OnnxOp = (c) => {
  const base = c.input(0);
  let exponent = c.input(1);
  if (base.type.dtype === exponent.type.dtype) return c.emit('pow', [base, exponent]);
  if (base.type.dtype !== 'int32') return c.emit('pow', [base, c.emit('cast', [exponent], { to: base.type.dtype })]);
  const y = c.emit('pow', [c.emit('cast', [base], { to: exponent.type.dtype }), exponent]);
  return c.emit('cast', [y], { to: 'int32' });
};

/** Constant: the value attribute (or value_float(s) / value_int(s) / value_string(s)); a known constant at import time. */
const constant: OnnxOp = (c) => {
  const t = c.attr('value');
  if (t && typeof t === 'object' && !Array.isArray(t)) {
    if ((t as TensorProto).dataType === STRING) {
      const { dims, strings } = decodeStrings(t as TensorProto, 'Constant value');
      return c.strings(dims, strings);
    }
    return decodeTensor(t as TensorProto, 'Constant value');
  }
  const vs = c.attr('value_string');
  if (typeof vs === 'string') return c.strings([], [vs]);
  const vss = c.attr('value_strings');
  if (Array.isArray(vss)) return c.strings([vss.length], vss as string[]);
  const vf = c.attr('value_float');
  if (typeof vf === 'number') return { name: '', onnxType: 1, dims: [], data: [vf] };
  const vfs = c.attr('value_floats');
  if (Array.isArray(vfs)) return { name: '', onnxType: 1, dims: [vfs.length], data: vfs as number[] };
  const vi = c.attr('value_int');
  if (typeof vi === 'number') return { name: '', onnxType: 7, dims: [], data: [vi] };
  const vis = c.attr('value_ints');
  if (Array.isArray(vis)) return { name: '', onnxType: 7, dims: [vis.length], data: vis as number[] };
  return c.unsupported(`only tensor, float(s), int(s) and string(s) constants are supported`);
};

/** Shape: a constant at import time (Kiln shapes are static); start/end since opset 15. */
const shapeOp: OnnxOp = (c) => {
  const shape = shapeOf(c.input(0));
  const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + shape.length : a, 0), shape.length);
  const dims = shape.slice(clampAxis(int(c, 'start', 0)), clampAxis(int(c, 'end', shape.length)));
  return { name: '', onnxType: 7, dims: [dims.length], data: dims };
};

/** Slice: starts/ends/axes/steps attributes before opset 10, constant inputs since. */
const slice: OnnxOp = (c) => {
  const x = c.input(0);
  const rank = shapeOf(x).length;
  const clamp = (v: number) => Math.min(Math.max(v, -(2 ** 31) + 1), 2 ** 31 - 1);
  const starts = (c.opset >= 10 ? constInts(c, 1, 'starts') : ints(c, 'starts')) ?? c.unsupported(`starts are required`);
  const ends = (c.opset >= 10 ? constInts(c, 2, 'ends') : ints(c, 'ends')) ?? c.unsupported(`ends are required`);
  const axes = (c.opset >= 10 ? constInts(c, 3, 'axes') : ints(c, 'axes')) ?? starts.map((_, i) => i);
  const steps = (c.opset >= 10 ? constInts(c, 4, 'steps') : undefined) ?? starts.map(() => 1);
  const y = c.emit('slice', [x], { starts: starts.map(clamp), ends: ends.map(clamp), axes: axes.map((a) => normAxis(c, a, rank)), steps: steps.map(clamp) });
  if (shapeOf(y).includes(0)) c.unsupported(`empty slices are not supported`);
  return y;
};

/**
 * Known indices must lie in [-size, size) (ONNX: anything else is an error); indices fed at run
 * time are checked by the emitted module's input checks (see compiler/emit/index-checks.ts).
 */
function checkConstantIndices(c: OnnxContext, size: number, axis: number): void {
  const known = c.constant(1);
  if (!known) return;
  const values = known.data as ArrayLike<number>;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= -size && v < size)) c.unsupported(`index ${v} (element ${i} of the indices) is out of range for axis ${axis} of size ${size}: ONNX allows [${-size}, ${size - 1}]`);
  }
}

const gather: OnnxOp = (c) => {
  const data = c.input(0);
  const indices = c.input(1);
  const axis = normAxis(c, int(c, 'axis', 0), shapeOf(data).length);
  checkConstantIndices(c, shapeOf(data)[axis], axis);
  return c.emit('gather', [data, indices], { axis });
};

const gelu: OnnxOp = (c) => {
  const approximate = str(c, 'approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh') c.unsupported(`approximate ${JSON.stringify(approximate)} is not supported`);
  return c.emit('gelu', [c.input(0)], { approximate });
};

/** Selu with any alpha and gamma: gamma · elu(x, alpha). */
const selu: OnnxOp = (c) => {
  const x = c.input(0);
  const y = c.emit('elu', [x], { alpha: float(c, 'alpha', 1.67326319217681884765625) });
  return c.emit('mul', [y, scalar(c, float(c, 'gamma', 1.05070102214813232421875), x.type.dtype)]);
};

const comparison = (op: 'lt' | 'le' | 'gt' | 'ge' | 'eq'): OnnxOp => (c) => c.emit('compare', [c.input(0), c.input(1)], { op });

/** Pad: pads (and constant value, axes since 18) inputs since opset 11, attributes before. */
const padOp: OnnxOp = (c) => {
  const x = c.input(0);
  const rank = shapeOf(x).length;
  const mode = str(c, 'mode', 'constant');
  if (!['constant', 'edge', 'reflect', 'wrap'].includes(mode)) return c.unsupported(`mode ${JSON.stringify(mode)} is not supported`);
  let pads: number[] | undefined;
  let value = 0;
  if (c.opset >= 11) {
    pads = constInts(c, 1, 'pads');
    const v = c.has(2) ? constInts(c, 2, 'constant_value') : undefined;
    if (v) value = v[0];
    const axes = c.opset >= 18 ? constInts(c, 3, 'axes') : undefined;
    if (pads && axes) {
      const full = new Array<number>(2 * rank).fill(0);
      axes.forEach((a, i) => {
        const ax = normAxis(c, a, rank);
        full[ax] = pads![i];
        full[ax + rank] = pads![i + axes.length];
      });
      pads = full;
    }
  } else {
    pads = ints(c, 'pads') ?? ints(c, 'paddings');
    value = float(c, 'value', 0);
  }
  if (!pads) return c.unsupported(`pads are required`);
  return c.emit('pad', [x], { pads, mode, value });
};

const gatherElements: OnnxOp = (c) => {
  const data = c.input(0);
  const axis = normAxis(c, int(c, 'axis', 0), shapeOf(data).length);
  checkConstantIndices(c, shapeOf(data)[axis], axis);
  return c.emit('gatherElements', [data, c.input(1)], { axis });
};

/** The table: ONNX op_type → its mapping to Kiln IR. */
export const ONNX_OPS: Readonly<Record<string, OnnxOp>> = {
  Add: binary('add'),
  Sub: binary('sub'),
  Mul: binary('mul'),
  Div: binary('div'),
  Pow: pow,
  Neg: unary('neg'),
  Abs: unary('abs'),
  Exp: unary('exp'),
  Log: unary('log'),
  Sqrt: unary('sqrt'),
  Erf: unary('erf'),
  Relu: unary('relu'),
  Sigmoid: unary('sigmoid'),
  Tanh: unary('tanh'),
  Softplus: unary('softplus'),
  LeakyRelu: unary('leakyRelu', (c) => ({ alpha: float(c, 'alpha', 0.01) })),
  Elu: unary('elu', (c) => ({ alpha: float(c, 'alpha', 1) })),
  Celu: unary('celu', (c) => ({ alpha: float(c, 'alpha', 1) })),
  Selu: selu,
  Gelu: gelu,
  Softmax: softmaxLike('softmax'),
  LogSoftmax: softmaxLike('logSoftmax'),
  Max: variadic('maximum'),
  Min: variadic('minimum'),
  Sum: variadic('add'),
  Mean: variadic('add', true),
  Gemm: gemm,
  MatMul: matmul,
  Conv: conv,
  MaxPool: pool('maxPool2d'),
  AveragePool: pool('avgPool2d'),
  GlobalAveragePool: globalPool('reduceMean'),
  GlobalMaxPool: globalPool('reduceMax'),
  BatchNormalization: batchNorm,
  Flatten: flatten,
  Reshape: reshapeOp,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Slice: slice,
  Gather: gather,
  GatherElements: gatherElements,
  CastLike: castLike,
  NegativeLogLikelihoodLoss: nll,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropy,
  RNN: recurrent('RNN'),
  LSTM: recurrent('LSTM'),
  GRU: recurrent('GRU'),
  ReduceSum: reduce('reduceSum', 13),
  ReduceMean: reduce('reduceMean', 18),
  ReduceMax: reduce('reduceMax', 18),
  ReduceMin: reduce('reduceMin', 18),
  Clip: clip,
  Identity: (c) => c.emit('identity', [c.input(0)]),
  Dropout: dropout,
  Cast: cast,
  Constant: constant,
  Shape: shapeOp,
  Equal: comparison('eq'),
  Less: comparison('lt'),
  LessOrEqual: comparison('le'),
  Greater: comparison('gt'),
  GreaterOrEqual: comparison('ge'),
  Where: (c) => c.emit('where', [c.input(0), c.input(1), c.input(2)]),
  Pad: padOp,
  ConstantOfShape: constantOfShape,
  Range: range,
  Expand: expandOp,
  ...SEQUENCE_OPS,
  ...LOOP_OPS,
};
