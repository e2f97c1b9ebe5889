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

/**
 * The largest dimension, and the most elements per sample, a tensor may have: emitted kernels
 * index with 32-bit integers, and typed arrays stop near 2^31 elements anyway.
 */
export const MAX_DIM = 2 ** 31 - 1;
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** What is wrong with a shape (non-integer, negative or oversized dims, too many elements), or undefined. */
export function shapeProblem(shape: Shape): string | undefined {
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === BATCH) {
      if (i !== 0) return `the batch dimension may only come first, got ${formatShape(shape)}`;
    } else if (!Number.isInteger(d) || d < 0) {
      return `dimension ${i} of ${formatShape(shape)} is not a non-negative integer`;
    } else if (d > MAX_DIM) {
      return `dimension ${i} of ${formatShape(shape)} is over 2^31-1`;
    }
  }
  // Checked dim by dim, so the product is never taken of something that has already overflowed.
  let n = 1;
  for (const d of shape) {
    if (d === BATCH) continue;
    n *= d;
    if (n > MAX_ELEMENTS) return `shape ${formatShape(shape)} has ${numel(shape).toLocaleString('en-US')} elements per sample, more than 2^31-1`;
  }
  return undefined;
}

/** Checks a shape is well formed: non-negative integer dims under 2^31, batch only first, under 2^31 elements. */
export function validateShape(shape: Shape): void {
  const problem = shapeProblem(shape);
  if (problem) throw new RuleError(problem);
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
