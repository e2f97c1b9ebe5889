// Plain row-major tensors for the naive references: construction, indexing, NumPy broadcasting of shapes.

/** A dense row-major tensor of float64 values. */
export interface Tensor {
  shape: number[];
  data: Float64Array;
}

// ---------------------------------------------------------------- indexing helpers

export const sizeOf = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of flat position `flat` in `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * shape[i] + idx[i];
  return flat;
}

export function tensor(shape: number[], data?: ArrayLike<number>): Tensor {
  const out = new Float64Array(sizeOf(shape));
  if (data) {
    if (data.length !== out.length) throw new Error(`tensor: ${data.length} values for shape [${shape}]`);
    out.set(Array.from(data));
  }
  return { shape: [...shape], data: out };
}

export const at = (t: Tensor, idx: readonly number[]): number => t.data[ravel(idx, t.shape)];

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** NumPy broadcast of two shapes: align right, dims equal or one of them 1. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Index into `shape` (right-aligned, size-1 dims pinned to 0) of an output multi-index. */
export function broadcastFrom(outIdx: readonly number[], shape: readonly number[]): number[] {
  const off = outIdx.length - shape.length;
  return shape.map((d, i) => (d === 1 ? 0 : outIdx[off + i]));
}

/** Largest value, NaN if any value is NaN (as NumPy's max). */
export const maxOf = (xs: readonly number[]): number => xs.reduce((m, v) => (Number.isNaN(m) || Number.isNaN(v) ? NaN : v > m ? v : m), -Infinity);
export const sumOf = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0);
