// The in-memory form of a user's array (from .npy, .csv, .json): values, shape, the file's dtype, and number formatting for writing them back.

/** An array read from a file: its values (integers as Int32Array, others as Float32Array), shape and the file's element type. */
export interface NumericArray {
  readonly data: Float32Array | Int32Array;
  readonly shape: number[];
  /** The element type as the file stored it, in NumPy's words: float32, float64, int64, uint8, … */
  readonly dtype: string;
}

/** Integers that fit int32 as an Int32Array (class ids stay exact), anything else as Float32Array. */
export function packNumbers(values: ArrayLike<number>, integer: boolean): Float32Array | Int32Array {
  if (integer) {
    let fits = true;
    for (let i = 0; i < values.length && fits; i++) fits = values[i] >= -2147483648 && values[i] <= 2147483647;
    if (fits) return Int32Array.from(values);
  }
  return Float32Array.from(values);
}

/** `shape` as `[100, 3]`. */
export const formatDims = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Product of the dimensions. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * The shortest decimal that reads back as the same float32 (1e-1, not 0.10000000149011612): text
 * files stay readable and a write/read round trip loses nothing.
 */
export function shortFloat32(v: number): string {
  if (!Number.isFinite(v) || Number.isInteger(v)) return String(v);
  for (let p = 1; p < 17; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}
