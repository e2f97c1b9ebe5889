// Naive reference ops on plain row-major tensors, written from textbook definitions (no Kiln code).
import { at, broadcastFrom, broadcastShape, maxOf, normAxis, ravel, sizeOf, sumOf, tensor, unravel, type Tensor } from './tensor.ts';

export * from './tensor.ts';
export * from './naive-nn.ts';

// ---------------------------------------------------------------- elementwise unary

export function map(x: Tensor, f: (v: number) => number): Tensor {
  return { shape: [...x.shape], data: x.data.map(f) };
}

/** erf(x) = 2/√π · e^(−x²) · Σ_n 2^n x^(2n+1) / (1·3·5···(2n+1)): all terms positive, no cancellation. */
export function erfScalar(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x); // 1 − erf(6) ≈ 2e-17: below double resolution of 1
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 1000; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum;
}

export const SELU_ALPHA = 1.6732632423543772848170429916717;
export const SELU_SCALE = 1.0507009873554804934193349852946;

export const scalar = {
  neg: (v: number) => -v,
  abs: (v: number) => (v < 0 ? -v : v),
  exp: (v: number) => Math.exp(v),
  log: (v: number) => Math.log(v),
  sqrt: (v: number) => Math.sqrt(v),
  erf: erfScalar,
  relu: (v: number) => (Number.isNaN(v) ? NaN : v > 0 ? v : 0),
  sigmoid: (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))),
  tanh: (v: number) => Math.tanh(v),
  leakyRelu: (alpha: number) => (v: number) => (v >= 0 ? v : alpha * v),
  elu: (alpha: number) => (v: number) => (v >= 0 ? v : alpha * (Math.exp(v) - 1)),
  selu: (v: number) => SELU_SCALE * (v >= 0 ? v : SELU_ALPHA * (Math.exp(v) - 1)),
  /** log(1 + e^v), rewritten for v > 0 as v + log(1 + e^−v) so it cannot overflow. */
  softplus: (v: number) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v))),
  geluExact: (v: number) => 0.5 * v * (1 + erfScalar(v / Math.SQRT2)),
  geluTanh: (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
  clip: (lo: number | null, hi: number | null) => (v: number) => {
    if (Number.isNaN(v)) return NaN;
    let r = v;
    if (lo !== null && r < lo) r = lo;
    if (hi !== null && r > hi) r = hi;
    return r;
  },
  /** Conversion to int32: truncation toward zero. */
  toInt32: (v: number) => Math.trunc(v),
  toFloat32: (v: number) => Math.fround(v),
};

// ---------------------------------------------------------------- broadcasting binary

export function binary(a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const shape = broadcastShape(a.shape, b.shape);
  const out = tensor(shape);
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, shape);
    out.data[i] = f(at(a, broadcastFrom(idx, a.shape)), at(b, broadcastFrom(idx, b.shape)));
  }
  return out;
}

export const add = (a: Tensor, b: Tensor) => binary(a, b, (x, y) => x + y);
export const sub = (a: Tensor, b: Tensor) => binary(a, b, (x, y) => x - y);
export const mul = (a: Tensor, b: Tensor) => binary(a, b, (x, y) => x * y);
export const div = (a: Tensor, b: Tensor) => binary(a, b, (x, y) => x / y);
export const pow = (a: Tensor, b: Tensor) => binary(a, b, (x, y) => x ** y);
export const maximum = (a: Tensor, b: Tensor) => binary(a, b, (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x > y ? x : y));
export const minimum = (a: Tensor, b: Tensor) => binary(a, b, (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : x < y ? x : y));

// ---------------------------------------------------------------- reductions and softmax

export type ReduceKind = 'sum' | 'mean' | 'max' | 'min';

/** Reduce over `axes` (empty: all axes), keeping reduced axes as size 1 when `keepdims`. */
export function reduce(x: Tensor, kind: ReduceKind, axes: number[], keepdims: boolean): Tensor {
  const rank = x.shape.length;
  const red = axes.length === 0 ? x.shape.map((_, i) => i) : axes.map((a) => normAxis(a, rank));
  const keptShape = x.shape.map((d, i) => (red.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: sizeOf(keptShape) }, () => []);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape).map((v, d) => (red.includes(d) ? 0 : v));
    groups[ravel(idx, keptShape)].push(x.data[i]);
  }
  const minOf = (xs: number[]) => xs.reduce((m, v) => (Number.isNaN(m) || Number.isNaN(v) ? NaN : v < m ? v : m), Infinity);
  const f = { sum: sumOf, mean: (xs: number[]) => sumOf(xs) / xs.length, max: maxOf, min: minOf }[kind];
  const shape = keepdims ? keptShape : x.shape.filter((_, i) => !red.includes(i));
  return tensor(shape, groups.map(f));
}

/** Multi-index of the element `k` steps along `axis` from lane start `base`. */
const along = (base: readonly number[], axis: number, k: number): number[] => base.map((v, d) => (d === axis ? k : v));

/** Index of the first largest element along `axis`. */
export function argmax(x: Tensor, axis: number, keepdims: boolean): Tensor {
  const ax = normAxis(axis, x.shape.length);
  const keptShape = x.shape.map((d, i) => (i === ax ? 1 : d));
  const out = tensor(keptShape);
  for (let o = 0; o < out.data.length; o++) {
    const base = unravel(o, keptShape);
    let best = 0;
    for (let k = 1; k < x.shape[ax]; k++) if (at(x, along(base, ax, k)) > at(x, along(base, ax, best))) best = k;
    out.data[o] = best;
  }
  return keepdims ? out : { shape: x.shape.filter((_, i) => i !== ax), data: out.data };
}

/** Applies `f` to every 1-D lane along `axis` (the lane's values in order), writing its results to the same positions. */
function lanes(x: Tensor, axis: number, f: (lane: number[]) => number[]): Tensor {
  const ax = normAxis(axis, x.shape.length);
  const out = tensor(x.shape);
  const outer = x.shape.map((d, i) => (i === ax ? 1 : d));
  for (let o = 0; o < sizeOf(outer); o++) {
    const base = unravel(o, outer);
    const lane: number[] = [];
    for (let k = 0; k < x.shape[ax]; k++) lane.push(at(x, along(base, ax, k)));
    const result = f(lane);
    for (let k = 0; k < x.shape[ax]; k++) out.data[ravel(along(base, ax, k), x.shape)] = result[k];
  }
  return out;
}

export const softmax = (x: Tensor, axis: number) =>
  lanes(x, axis, (lane) => {
    const m = Math.max(...lane);
    const e = lane.map((v) => Math.exp(v - m));
    const s = sumOf(e);
    return e.map((v) => v / s);
  });

export const logSoftmax = (x: Tensor, axis: number) =>
  lanes(x, axis, (lane) => {
    const m = Math.max(...lane);
    const lse = m + Math.log(sumOf(lane.map((v) => Math.exp(v - m))));
    return lane.map((v) => v - lse);
  });

// ---------------------------------------------------------------- data movement

/** Output axis j is input axis perm[j]. */
export function transpose(x: Tensor, perm: number[]): Tensor {
  const shape = perm.map((p) => x.shape[p]);
  const out = tensor(shape);
  for (let i = 0; i < out.data.length; i++) {
    const oi = unravel(i, shape);
    const ii = new Array<number>(perm.length);
    perm.forEach((p, j) => (ii[p] = oi[j]));
    out.data[i] = at(x, ii);
  }
  return out;
}

export function concat(xs: Tensor[], axis: number): Tensor {
  const ax = normAxis(axis, xs[0].shape.length);
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((s, t) => s + t.shape[ax], 0);
  const out = tensor(shape);
  let offset = 0;
  for (const t of xs) {
    for (let i = 0; i < t.data.length; i++) {
      const idx = unravel(i, t.shape);
      idx[ax] += offset;
      out.data[ravel(idx, shape)] = t.data[i];
    }
    offset += t.shape[ax];
  }
  return out;
}

/** ONNX Slice: negative starts/ends count from the end, then clamp; steps may be negative. */
export function slice(x: Tensor, starts: number[], ends: number[], axes?: number[], steps?: number[]): Tensor {
  const picks: number[][] = x.shape.map((d) => Array.from({ length: d }, (_, i) => i));
  (axes ?? starts.map((_, i) => i)).forEach((axis, i) => {
    const ax = normAxis(axis, x.shape.length);
    const dim = x.shape[ax];
    const step = steps?.[i] ?? 1;
    let s = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    const list: number[] = [];
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
      for (let k = s; k < e; k += step) list.push(k);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
      for (let k = s; k > e; k += step) list.push(k);
    }
    picks[ax] = list;
  });
  const shape = picks.map((p) => p.length);
  const out = tensor(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = at(x, unravel(i, shape).map((k, d) => picks[d][k]));
  return out;
}

/** Same values, new shape; one entry may be -1. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const resolved = shape.map((d) => (d === -1 ? x.data.length / known : d));
  if (sizeOf(resolved) !== x.data.length) throw new Error(`reshape: ${x.data.length} values to [${shape}]`);
  return { shape: resolved, data: x.data.slice() };
}
