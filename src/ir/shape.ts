// Static shapes: every dimension is a literal, except a leading batch dimension that may be symbolic.
import { RuleError } from './errors.ts';

/** The symbolic batch dimension. It may only appear first. */
export const BATCH = 'N';
export type Dim = number | typeof BATCH;
export type Shape = readonly Dim[];

export function isBatched(shape: Shape): boolean {
  return shape.length > 0 && shape[0] === BATCH;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Number of elements, counting the batch dimension as `batch` (default 1: per sample). */
export function numel(shape: Shape, batch = 1): number {
  let n = 1;
  for (const d of shape) n *= d === BATCH ? batch : d;
  return n;
}

/** Elements per sample: the product of every dimension after a symbolic batch one. */
export function sampleSize(shape: Shape): number {
  return numel(shape, 1);
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major strides of a shape, with the batch dimension's stride a literal too. */
export function strides(shape: Shape): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    const d = shape[i];
    s *= d === BATCH ? 1 : d;
  }
  return out;
}

/** Checks a shape is well formed: positive integer dims, batch only first. */
export function validateShape(shape: Shape): void {
  shape.forEach((d, i) => {
    if (d === BATCH) {
      if (i !== 0) throw new RuleError(`the batch dimension may only come first, got ${formatShape(shape)}`);
    } else if (!Number.isInteger(d) || d < 0) {
      throw new RuleError(`dimension ${i} of ${formatShape(shape)} is not a non-negative integer`);
    }
  });
  if (numel(shape) > 2 ** 31 - 1) throw new RuleError(`shape ${formatShape(shape)} has more than 2^31-1 elements per sample`);
}

/** NumPy broadcasting of two shapes (aligned on the right). */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da === db || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else throw new RuleError(`cannot broadcast ${formatShape(a)} with ${formatShape(b)}`);
  }
  if (out.slice(1).includes(BATCH)) throw new RuleError(`cannot broadcast ${formatShape(a)} with ${formatShape(b)}: the batch dimension would not come first`);
  return out;
}

/** Normalises a possibly negative axis against a rank. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RuleError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}
