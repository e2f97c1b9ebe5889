// Parameter initialisers (Glorot, He, LeCun, PyTorch kaiming-uniform, orthogonal, constants,
// Keras's unit forget bias) driven by a seeded Rng.

import type { Rng } from './rng.ts';

/** Scaled-variance initialiser kinds that take both fan-in and fan-out. */
export type FanInit = 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'lecunUniform' | 'lecunNormal';

/**
 * Describes how to fill a parameter tensor. Fan-in/fan-out are computed by the compiler, which
 * knows the layer's layout; the runtime never guesses them.
 */
export type InitSpec =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: FanInit; fanIn: number; fanOut: number; truncated?: boolean }
  | { kind: 'kaimingUniform'; fanIn: number; a: number }
  | { kind: 'uniform'; low: number; high: number }
  | { kind: 'normal'; mean: number; std: number }
  /**
   * The tensor as a [rows, cols] matrix (row-major) with orthonormal rows or columns, whichever
   * are fewer, times `gain` (default 1): Keras's `Orthogonal` (Saxe et al.), its default for
   * recurrent kernels. QR of a standard-normal matrix, signs fixed so R's diagonal is positive.
   */
  | { kind: 'orthogonal'; rows: number; cols: number; gain?: number }
  /**
   * An LSTM bias of `gates` equal blocks: block `forget` is 1 (Keras's unit_forget_bias, so
   * the cell keeps its state early in training), the others U(low, high); low = high fills them
   * with that value and draws nothing (zeros: low = high = 0).
   */
  | { kind: 'unitForgetBias'; gates: number; forget: number; low: number; high: number };

/** Std of a standard normal truncated to [-2, 2]; Keras divides by it so truncation keeps the target std. */
export const TRUNCATED_NORMAL_STD_CORRECTION = 0.87962566103423978;

const FAN_KINDS: ReadonlySet<string> = new Set<FanInit>([
  'glorotUniform',
  'glorotNormal',
  'heUniform',
  'heNormal',
  'lecunUniform',
  'lecunNormal',
]);

/** A sampling recipe resolved from an {@link InitSpec}. */
type Sampler =
  | { dist: 'constant'; value: number }
  | { dist: 'uniform'; low: number; high: number }
  | { dist: 'normal'; mean: number; std: number; truncated: boolean };

/** Throws a RangeError unless `value` is finite and strictly positive. */
function requirePositive(spec: InitSpec, field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${describeInit(spec)}: ${field} must be a positive finite number, got ${String(value)}`);
  }
}

/** Throws a RangeError unless `value` is finite. */
function requireFinite(spec: InitSpec, field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${describeInit(spec)}: ${field} must be a finite number, got ${String(value)}`);
  }
}

/** Uniform sampler on [-limit, limit]. */
function symmetricUniform(limit: number): Sampler {
  return { dist: 'uniform', low: -limit, high: limit };
}

/** Zero-mean normal sampler, optionally truncated with Keras's std correction. */
function zeroMeanNormal(std: number, truncated: boolean): Sampler {
  return truncated
    ? { dist: 'normal', mean: 0, std: std / TRUNCATED_NORMAL_STD_CORRECTION, truncated: true }
    : { dist: 'normal', mean: 0, std, truncated: false };
}

/** Resolves one of the fan-based kinds to a sampler. */
function fanSampler(spec: Extract<InitSpec, { kind: FanInit }>): Sampler {
  if (!FAN_KINDS.has(spec.kind)) {
    throw new RangeError(`unknown initialiser kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
  requirePositive(spec, 'fanIn', spec.fanIn);
  requirePositive(spec, 'fanOut', spec.fanOut);
  const truncated = spec.truncated === true;
  const fanAvg = spec.fanIn + spec.fanOut;
  switch (spec.kind) {
    case 'glorotUniform':
      return symmetricUniform(Math.sqrt(6 / fanAvg));
    case 'glorotNormal':
      return zeroMeanNormal(Math.sqrt(2 / fanAvg), truncated);
    case 'heUniform':
      return symmetricUniform(Math.sqrt(6 / spec.fanIn));
    case 'heNormal':
      return zeroMeanNormal(Math.sqrt(2 / spec.fanIn), truncated);
    case 'lecunUniform':
      return symmetricUniform(Math.sqrt(3 / spec.fanIn));
    case 'lecunNormal':
      return zeroMeanNormal(Math.sqrt(1 / spec.fanIn), truncated);
  }
}

/** Resolves any elementwise {@link InitSpec} to a sampler, validating its parameters. */
function resolveSampler(spec: Exclude<InitSpec, { kind: 'orthogonal' | 'unitForgetBias' }>): Sampler {
  switch (spec.kind) {
    case 'zeros':
      return { dist: 'constant', value: 0 };
    case 'ones':
      return { dist: 'constant', value: 1 };
    case 'constant':
      requireFinite(spec, 'value', spec.value);
      return { dist: 'constant', value: spec.value };
    case 'kaimingUniform': {
      requirePositive(spec, 'fanIn', spec.fanIn);
      requireFinite(spec, 'a', spec.a);
      const gain = Math.sqrt(2 / (1 + spec.a * spec.a));
      return symmetricUniform(gain * Math.sqrt(3 / spec.fanIn));
    }
    case 'uniform':
      requireFinite(spec, 'low', spec.low);
      requireFinite(spec, 'high', spec.high);
      if (spec.low > spec.high) throw new RangeError(`${describeInit(spec)}: low must not exceed high`);
      return { dist: 'uniform', low: spec.low, high: spec.high };
    case 'normal':
      requireFinite(spec, 'mean', spec.mean);
      requireFinite(spec, 'std', spec.std);
      if (spec.std < 0) throw new RangeError(`${describeInit(spec)}: std must not be negative`);
      return { dist: 'normal', mean: spec.mean, std: spec.std, truncated: false };
    default:
      return fanSampler(spec);
  }
}

/** Fills `out` from `sampler`, drawing from `rng` in index order. */
function fill(out: Float32Array, sampler: Sampler, rng: Rng): void {
  const n = out.length;
  if (sampler.dist === 'constant') {
    out.fill(sampler.value);
  } else if (sampler.dist === 'uniform') {
    for (let i = 0; i < n; i++) out[i] = rng.uniformRange(sampler.low, sampler.high);
  } else if (sampler.truncated) {
    for (let i = 0; i < n; i++) out[i] = rng.truncatedNormal(sampler.mean, sampler.std);
  } else {
    for (let i = 0; i < n; i++) out[i] = rng.normal(sampler.mean, sampler.std);
  }
}

/**
 * Creates a Float32Array of `size` values drawn according to `spec`.
 * Constant kinds consume no randomness; the others draw from `rng` in index order.
 * `truncated` only affects the *Normal kinds.
 * @throws RangeError for a negative/non-integer size or invalid spec parameters.
 */
export function initialize(spec: InitSpec, size: number, rng: Rng): Float32Array {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`${describeInit(spec)}: size must be a non-negative integer, got ${String(size)}`);
  }
  if (spec.kind === 'orthogonal') return orthogonal(spec, size, rng);
  if (spec.kind === 'unitForgetBias') return unitForgetBias(spec, size, rng);
  const sampler = resolveSampler(spec);
  const out = new Float32Array(size);
  fill(out, sampler, rng);
  return out;
}

/** Throws a RangeError unless `value` is a positive integer. */
function requireCount(spec: InitSpec, field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${describeInit(spec)}: ${field} must be a positive integer, got ${String(value)}`);
}

/**
 * Keras's Orthogonal: a standard-normal [max, min] matrix (drawn row-major) made orthonormal by
 * columns, transposed when the tensor has fewer rows than columns. Gram–Schmidt, each column
 * orthogonalised twice ("twice is enough") in float64, gives the Q of A = QR whose R has a
 * positive diagonal, which is what Keras's sign correction makes of any QR.
 */
function orthogonal(spec: Extract<InitSpec, { kind: 'orthogonal' }>, size: number, rng: Rng): Float32Array {
  requireCount(spec, 'rows', spec.rows);
  requireCount(spec, 'cols', spec.cols);
  const gain = spec.gain ?? 1;
  requireFinite(spec, 'gain', gain);
  if (spec.rows * spec.cols !== size) throw new RangeError(`${describeInit(spec)}: a tensor of ${size} values is not ${spec.rows} × ${spec.cols}`);
  const m = Math.max(spec.rows, spec.cols);
  const n = Math.min(spec.rows, spec.cols);
  const a = new Float64Array(m * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal(0, 1);
  // q[j] is column j of A, then of Q.
  const q = Array.from({ length: n }, (_, j) => Float64Array.from({ length: m }, (_, i) => a[i * n + j]));
  for (let j = 0; j < n; j++) {
    const v = q[j];
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[k][i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= dot * q[k][i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    if (!(norm > 0)) throw new RangeError(`${describeInit(spec)}: the random matrix is singular (draw again with another seed)`);
    for (let i = 0; i < m; i++) v[i] /= norm;
  }
  const out = new Float32Array(size);
  const wide = spec.rows < spec.cols;
  for (let r = 0; r < spec.rows; r++) {
    for (let c = 0; c < spec.cols; c++) out[r * spec.cols + c] = gain * (wide ? q[r][c] : q[c][r]);
  }
  return out;
}

/** A bias whose forget-gate block is 1 and whose other blocks are U(low, high) (a constant when low = high). */
function unitForgetBias(spec: Extract<InitSpec, { kind: 'unitForgetBias' }>, size: number, rng: Rng): Float32Array {
  requireCount(spec, 'gates', spec.gates);
  if (!Number.isSafeInteger(spec.forget) || spec.forget < 0 || spec.forget >= spec.gates) throw new RangeError(`${describeInit(spec)}: forget must be a gate index in [0, ${spec.gates}), got ${String(spec.forget)}`);
  if (size % spec.gates !== 0) throw new RangeError(`${describeInit(spec)}: a tensor of ${size} values is not ${spec.gates} equal gate blocks`);
  requireFinite(spec, 'low', spec.low);
  requireFinite(spec, 'high', spec.high);
  if (spec.low > spec.high) throw new RangeError(`${describeInit(spec)}: low must not exceed high`);
  const units = size / spec.gates;
  const out = new Float32Array(size);
  const others: Sampler = spec.low === spec.high ? { dist: 'constant', value: spec.low } : { dist: 'uniform', low: spec.low, high: spec.high };
  for (let g = 0; g < spec.gates; g++) {
    const block = out.subarray(g * units, (g + 1) * units);
    if (g === spec.forget) block.fill(1);
    else fill(block, others, rng);
  }
  return out;
}

/** Formats a number for {@link describeInit}, spelling sqrt(5) (PyTorch's default `a`) by name. */
function fmt(x: number): string {
  return x === Math.sqrt(5) ? 'sqrt(5)' : String(x);
}

/** Human-readable description of an initialiser, e.g. `glorotUniform(fanIn=784, fanOut=64)`. */
export function describeInit(spec: InitSpec): string {
  switch (spec.kind) {
    case 'zeros':
    case 'ones':
      return `${spec.kind}()`;
    case 'constant':
      return `constant(value=${fmt(spec.value)})`;
    case 'kaimingUniform':
      return `kaimingUniform(fanIn=${fmt(spec.fanIn)}, a=${fmt(spec.a)})`;
    case 'uniform':
      return `uniform(low=${fmt(spec.low)}, high=${fmt(spec.high)})`;
    case 'normal':
      return `normal(mean=${fmt(spec.mean)}, std=${fmt(spec.std)})`;
    case 'orthogonal':
      return `orthogonal(rows=${fmt(spec.rows)}, cols=${fmt(spec.cols)}${spec.gain !== undefined ? `, gain=${fmt(spec.gain)}` : ''})`;
    case 'unitForgetBias':
      return `unitForgetBias(gates=${fmt(spec.gates)}, forget=${fmt(spec.forget)}, low=${fmt(spec.low)}, high=${fmt(spec.high)})`;
    default: {
      const trunc = spec.truncated === true ? ', truncated' : '';
      return `${spec.kind}(fanIn=${fmt(spec.fanIn)}, fanOut=${fmt(spec.fanOut)}${trunc})`;
    }
  }
}
