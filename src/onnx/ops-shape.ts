// Shape-building ops of exported graphs: ConstantOfShape, Range and Expand. Their shape inputs
// must be known at import (Kiln compiles shapes ahead of time); a shape that holds the batch
// (PyTorch's zero initial states: Shape → Gather → Unsqueeze → Concat → ConstantOfShape) becomes
// an `expand` of a scalar, which src/onnx/batch.ts turns into a run-time expand over the batch.
import { broadcastShapes, formatShape } from '../ir/shape.ts';
import { RuleError } from '../ir/errors.ts';
import { constInts, shapeOf, type OnnxContext, type OnnxOp } from './context.ts';
import type { TensorProto } from './proto.ts';
import { decodeTensor, type TensorValue } from './tensor.ts';

/** The shape input `i`, required to be a known 1-D list of non-negative sizes. */
function shapeInput(c: OnnxContext, i: number): number[] {
  const dims = constInts(c, i, 'shape') ?? c.unsupported(`the shape input is required`);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) c.unsupported(`shape ${formatShape(dims)} must hold non-negative integers`);
  return dims;
}

/** ConstantOfShape: `value` (a one-element tensor, default float 0) broadcast to the shape. */
export const constantOfShape: OnnxOp = (c) => {
  const dims = shapeInput(c, 0);
  const attr = c.attr('value');
  const value: TensorValue = attr ? decodeTensor(attr as TensorProto, 'ConstantOfShape value') : { name: '', onnxType: 1, dims: [1], data: [0] };
  const data = Array.from(value.data as ArrayLike<number>);
  if (data.length !== 1) c.unsupported(`value must hold one element, got ${data.length}`);
  if (dims.includes(0)) c.unsupported(`empty tensors are not supported`);
  const scalar = c.constNode({ name: '', onnxType: value.onnxType, dims: [], data });
  return dims.length === 0 ? scalar : c.emit('expand', [scalar], { shape: dims });
};

/** Range(start, limit, delta): ⌈(limit − start) / delta⌉ values; all three known at import. */
export const range: OnnxOp = (c) => {
  const scalarAt = (i: number, what: string): { v: number; type: number } => {
    const t = c.constant(i);
    if (!t) return c.unsupported(`${what} must be a constant (initializer, Constant or shape arithmetic); Kiln compiles shapes ahead of time`);
    const data = Array.from(t.data as ArrayLike<number>);
    if (data.length !== 1) c.unsupported(`${what} must be a scalar, got ${data.length} values`);
    return { v: data[0], type: t.onnxType };
  };
  const start = scalarAt(0, 'start');
  const limit = scalarAt(1, 'limit');
  const delta = scalarAt(2, 'delta');
  if (delta.v === 0 || !Number.isFinite(delta.v)) c.unsupported(`delta must be a finite nonzero number, got ${delta.v}`);
  const count = Math.max(Math.ceil((limit.v - start.v) / delta.v), 0);
  if (count === 0) c.unsupported(`an empty range (${start.v} to ${limit.v} by ${delta.v}) is not supported`);
  if (count > 2 ** 24) c.unsupported(`a range of ${count} values is too long to build at import`);
  return { name: '', onnxType: start.type, dims: [count], data: Array.from({ length: count }, (_, k) => start.v + k * delta.v) };
};

/** Expand: NumPy broadcasting of the input with the shape (either may be the larger). */
export const expandOp: OnnxOp = (c) => {
  const x = c.input(0);
  const dims = shapeInput(c, 1);
  let out: number[];
  try {
    out = broadcastShapes(shapeOf(x), dims) as number[];
  } catch (e) {
    if (e instanceof RuleError) return c.unsupported(`cannot expand ${formatShape(shapeOf(x))} to ${formatShape(dims)}`);
    throw e;
  }
  return out.join() === shapeOf(x).join() ? c.emit('identity', [x]) : c.emit('expand', [x], { shape: out });
};
