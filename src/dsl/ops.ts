// Single-op layers of the functional builder: activations, arithmetic, reductions, movement.
import type { Node } from '../ir/node.ts';
import type { OpName } from '../ir/ops/index.ts';
import type { DType } from '../ir/dtype.ts';
import { openLayer } from './context.ts';

type Tensor = Node;
/** Options every op function takes: the node's name. */
export interface Named {
  name?: string;
}

/** A layer made of one op, named after the op. */
function single(op: OpName, kind: string, inputs: Tensor[], attrs: Record<string, unknown> = {}, name?: string): Tensor {
  return openLayer(kind, name).node(op, inputs, attrs);
}

const unaryLayer = (op: OpName, kind: string) => (x: Tensor, o: Named = {}) => single(op, kind, [x], {}, o.name);
const binaryLayer = (op: OpName, kind: string) => (a: Tensor, b: Tensor, o: Named = {}) => single(op, kind, [a, b], {}, o.name);

export const relu = unaryLayer('relu', 'ReLU');
export const sigmoid = unaryLayer('sigmoid', 'Sigmoid');
export const tanh = unaryLayer('tanh', 'Tanh');
export const selu = unaryLayer('selu', 'SELU');
export const softplus = unaryLayer('softplus', 'Softplus');
export const neg = unaryLayer('neg', 'Neg');
export const abs = unaryLayer('abs', 'Abs');
export const exp = unaryLayer('exp', 'Exp');
export const log = unaryLayer('log', 'Log');
export const sqrt = unaryLayer('sqrt', 'Sqrt');
export const erf = unaryLayer('erf', 'Erf');
export const identity = unaryLayer('identity', 'Identity');
export const add = binaryLayer('add', 'Add');
export const sub = binaryLayer('sub', 'Sub');
export const mul = binaryLayer('mul', 'Mul');
export const div = binaryLayer('div', 'Div');
export const pow = binaryLayer('pow', 'Pow');
export const maximum = binaryLayer('maximum', 'Maximum');
export const minimum = binaryLayer('minimum', 'Minimum');

export const leakyRelu = (x: Tensor, alpha = 0.01, o: Named = {}) => single('leakyRelu', 'LeakyReLU', [x], { alpha }, o.name);
export const elu = (x: Tensor, alpha = 1, o: Named = {}) => single('elu', 'ELU', [x], { alpha }, o.name);
/** celu(x) = max(0, x) + min(0, α(e^(x/α) − 1)); `alpha` (default 1) must be nonzero. */
export const celu = (x: Tensor, o: Named & { alpha?: number } = {}) => single('celu', 'CELU', [x], { alpha: o.alpha ?? 1 }, o.name);
export const gelu = (x: Tensor, o: Named & { approximate?: 'none' | 'tanh' } = {}) => single('gelu', 'GELU', [x], { approximate: o.approximate ?? 'none' }, o.name);
export const softmax = (x: Tensor, axis = -1, o: Named = {}) => single('softmax', 'Softmax', [x], { axis }, o.name);
export const logSoftmax = (x: Tensor, axis = -1, o: Named = {}) => single('logSoftmax', 'LogSoftmax', [x], { axis }, o.name);
export const clip = (x: Tensor, min: number | null, max: number | null, o: Named = {}) => single('clip', 'Clip', [x], { min, max }, o.name);
export const cast = (x: Tensor, to: DType, o: Named = {}) => single('cast', 'Cast', [x], { to }, o.name);

export const matmul = (a: Tensor, b: Tensor, o: Named & { transA?: boolean; transB?: boolean } = {}) =>
  single('matmul', 'MatMul', [a, b], { transA: o.transA ?? false, transB: o.transB ?? false }, o.name);

/** ONNX-style Gemm: alpha · op(a) · op(b) + beta · c, built from matmul, mul and add. */
export function gemm(a: Tensor, b: Tensor, c?: Tensor, o: Named & { transA?: boolean; transB?: boolean; alpha?: number; beta?: number } = {}): Tensor {
  const scope = openLayer('Gemm', o.name);
  const scalar = (v: number) => scope.node('const', [], { dtype: a.type.dtype, shape: [], values: [v] });
  let y = scope.node('matmul', [a, b], { transA: o.transA ?? false, transB: o.transB ?? false });
  if ((o.alpha ?? 1) !== 1) y = scope.node('mul', [y, scalar(o.alpha!)]);
  if (!c) return y;
  const bias = (o.beta ?? 1) !== 1 ? scope.node('mul', [c, scalar(o.beta!)]) : c;
  return scope.node('add', [y, bias]);
}

export const transpose = (x: Tensor, perm: number[], o: Named = {}) => single('transpose', 'Transpose', [x], { perm }, o.name);
export const concat = (xs: Tensor[], axis: number, o: Named = {}) => single('concat', 'Concat', xs, { axis }, o.name);
export const slice = (x: Tensor, starts: number[], ends: number[], axes?: number[], steps?: number[], o: Named = {}) =>
  single('slice', 'Slice', [x], { starts, ends, axes: axes ?? starts.map((_, i) => i), steps: steps ?? starts.map(() => 1) }, o.name);

const reduction = (op: OpName, kind: string) => (x: Tensor, axes: number[] = [], keepdims = false, o: Named = {}) =>
  single(op, kind, [x], { axes, keepdims }, o.name);
export const reduceSum = reduction('reduceSum', 'ReduceSum');
export const reduceMean = reduction('reduceMean', 'ReduceMean');
export const reduceMax = reduction('reduceMax', 'ReduceMax');
export const reduceMin = reduction('reduceMin', 'ReduceMin');
export const argmax = (x: Tensor, axis = -1, keepdims = false, o: Named = {}) => single('argmax', 'ArgMax', [x], { axis, keepdims }, o.name);

/** A constant tensor (shape [] for a scalar). */
export const constant = (values: number[], shape: number[], o: Named & { dtype?: DType } = {}) =>
  single('const', 'Constant', [], { dtype: o.dtype ?? 'float32', shape, values }, o.name);
