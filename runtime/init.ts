// Parameter initialisers (Glorot, He, LeCun, PyTorch kaiming-uniform, constants) driven by a seeded Rng.

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
  | { kind: 'normal'; mean: number; std: number };

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

/** Resolves any {@link InitSpec} to a sampler, validating its parameters. */
function resolveSampler(spec: InitSpec): Sampler {
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
  const sampler = resolveSampler(spec);
  const out = new Float32Array(size);
  fill(out, sampler, rng);
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
    default: {
      const trunc = spec.truncated === true ? ', truncated' : '';
      return `${spec.kind}(fanIn=${fmt(spec.fanIn)}, fanOut=${fmt(spec.fanOut)}${trunc})`;
    }
  }
}
