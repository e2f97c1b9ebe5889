// Checks of the sizes a model file passes to the DSL's layers (units, filters, kernel and pool
// sizes, input dims), so a bad one is a ShapeError naming the layer and line, not a TypeError.
import { ShapeError } from '../ir/errors.ts';
import type { LayerScope } from './context.ts';

/** A ShapeError at `scope`'s layer and source line. */
export function layerError(scope: LayerScope, detail: string): ShapeError {
  return new ShapeError({ layer: scope.name, op: scope.meta.layerKind ?? 'layer', source: scope.meta.source }, detail);
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.map(show).join(', ')}]` : String(v));

/** `value` as a positive integer, or a ShapeError saying which setting of which layer is wrong. */
export function positiveInt(scope: LayerScope, what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw layerError(scope, `${what} must be a positive integer, got ${show(value)}`);
  return value;
}

/** A size given as one number or a pair, as a pair of positive integers. */
export function positivePair(scope: LayerScope, what: string, value: unknown): [number, number] {
  if (Array.isArray(value)) {
    if (value.length !== 2) throw layerError(scope, `${what} must be a positive integer or a pair of them, got ${show(value)}`);
    return [positiveInt(scope, what, value[0]), positiveInt(scope, what, value[1])];
  }
  const v = positiveInt(scope, what, value);
  return [v, v];
}

/** A per-sample input shape: an array of positive integers. */
export function inputShape(scope: LayerScope, shape: unknown): number[] {
  if (!Array.isArray(shape)) throw layerError(scope, `the input shape must be an array of positive integers, got ${show(shape)}`);
  return shape.map((d, i) => positiveInt(scope, `dimension ${i} of the input shape ${show(shape)}`, d));
}

/** The input's dimension `axis` as a number, or a ShapeError saying what the layer needs. */
export function fixedDim(scope: LayerScope, shape: readonly unknown[], axis: number, needs: string): number {
  const d = shape[axis < 0 ? shape.length + axis : axis];
  if (typeof d !== 'number') throw layerError(scope, `needs ${needs}; its input has shape ${show(shape)}`);
  return d;
}
