// Helpers shared by op rules: type checks with readable messages, broadcast loads.
import { num, type Expr } from '../expr.ts';
import { RuleError } from '../errors.ts';
import type { TensorType } from '../node.ts';
import { broadcastShapes, formatShape, numel, type Shape } from '../shape.ts';
import type { LowerCtx } from './types.ts';

export function requireRank(t: TensorType, rank: number, what: string): void {
  if (t.shape.length !== rank) {
    throw new RuleError(`expected ${what} of rank ${rank}, got shape ${formatShape(t.shape)}`);
  }
}

export function requireSameDType(inputs: readonly TensorType[]): void {
  const d = inputs[0].dtype;
  const other = inputs.find((t) => t.dtype !== d);
  if (other) throw new RuleError(`dtypes differ: ${d} and ${other.dtype}`);
}

export function requireFloat(t: TensorType): void {
  if (t.dtype === 'int32') throw new RuleError(`expected a float tensor, got int32 ${formatShape(t.shape)}`);
}

/** Output type of a broadcasting op over all its inputs. */
export function broadcastType(inputs: readonly TensorType[]): TensorType {
  requireSameDType(inputs);
  const shape = inputs.map((t) => t.shape).reduce((a, b) => broadcastShapes(a, b));
  return { dtype: inputs[0].dtype, shape };
}

/** Index of input `i` at the output index, with size-1 (broadcast) dims read at 0. */
export function broadcastIndex(inShape: Shape, outIndex: readonly Expr[], outShape: Shape): Expr[] {
  const offset = outShape.length - inShape.length;
  return inShape.map((d, j) => (d === 1 && outShape[j + offset] !== 1 ? num(0) : outIndex[j + offset]));
}

export function loadBroadcast(ctx: LowerCtx, i: number): Expr {
  return ctx.load(i, broadcastIndex(ctx.inputs[i].shape, ctx.out, ctx.output.shape));
}

/** Elements per sample of the output, the cost unit of elementwise ops. */
export const perElement = (_inputs: readonly TensorType[], out: TensorType): number => numel(out.shape);

export function isIntArray(x: unknown, length?: number): x is number[] {
  return Array.isArray(x) && x.every((v) => Number.isInteger(v)) && (length === undefined || x.length === length);
}

export function requireInts(x: unknown, length: number, name: string, min = 0): number[] {
  if (!isIntArray(x, length) || x.some((v) => v < min)) {
    throw new RuleError(`attribute ${name} must be ${length} integers ≥ ${min}, got ${JSON.stringify(x)}`);
  }
  return x;
}
