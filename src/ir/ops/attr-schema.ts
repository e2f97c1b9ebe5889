// Attribute schemas: what each op accepts in its attributes (types, ranges, lengths), checked
// before its shape rule, so no value from a file reaches a rule or a renderer unchecked.
import { RuleError } from '../errors.ts';
import { own } from '../own.ts';

/** The largest int32: the bound of every extent, index and offset Kiln writes into a kernel. */
export const INT32_MAX = 2 ** 31 - 1;
/** The smallest int32 (a slice's end before the start of an axis). */
export const INT32_MIN = -(2 ** 31);
/** The most dimensions a tensor may have (bounds perm, axes, shapes and per-axis lists). */
export const MAX_RANK = 64;
/** The largest finite float32: attribute numbers beyond it cannot mean anything to a float32 kernel. */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** Names, table entries: long enough for any real model, short enough for a one-line error. */
const MAX_STRING = 4096;

/**
 * One attribute's rule. `check` returns a clean copy of an accepted value (plain arrays and
 * objects of checked primitives, read once) or throws a RuleError naming `at`; it never sees
 * `undefined` (an absent attribute). `T` is the value's type, so a schema is checked against the
 * op's attribute interface.
 */
export interface Field<T> {
  readonly optional: boolean;
  check(v: unknown, at: string): T;
}

/**
 * The schema of an op's attributes: a field for every key of its attribute type (optional keys
 * with `optional(...)`). Keys not in the schema are rejected.
 */
export type AttrSchema<A> = { readonly [K in keyof A]-?: Field<Exclude<A[K], undefined>> };

/** The schema of an op without attributes. */
export const NO_ATTRS: AttrSchema<Record<string, never>> = {};

/** A bad value shown on one line, at most about 40 characters. */
export function showValue(v: unknown): string {
  let text: string;
  if (typeof v === 'string') text = JSON.stringify(v);
  else if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) text = String(v);
  else if (typeof v === 'bigint') text = `${v}n`;
  else if (Array.isArray(v)) text = `[${v.slice(0, 6).map((x) => (typeof x === 'number' ? String(x) : typeof x === 'string' ? JSON.stringify(x) : typeof x)).join(', ')}${v.length > 6 ? ', …' : ''}] (${v.length} values)`;
  else text = typeof v === 'object' ? 'an object' : `a ${typeof v}`;
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function fail(at: string, expected: string, v: unknown): never {
  throw new RuleError(`attribute ${at} must be ${expected}, got ${showValue(v)}`);
}

const field = <T>(check: (v: unknown, at: string) => T): Field<T> => ({ optional: false, check });

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** An integer in [min, max] (default: the int32 range). */
export function int(min = INT32_MIN, max = INT32_MAX): Field<number> {
  return field((v, at) => (isInt(v, min, max) ? v : fail(at, `an integer in [${min}, ${max}]`, v)));
}

export interface NumberOptions {
  min?: number;
  max?: number;
  /** Accept ±Infinity and NaN as well (clip bounds, constant values, pad values). */
  nonFinite?: boolean;
  /** The largest magnitude of a finite value (default: the largest float32). */
  limit?: number;
}

function numberTest(o: NumberOptions): { ok: (v: unknown) => v is number; expected: string } {
  const limit = o.limit ?? FLOAT32_MAX;
  const lo = o.min ?? -limit;
  const hi = o.max ?? limit;
  const ok = (v: unknown): v is number =>
    typeof v === 'number' && (Number.isFinite(v) ? v >= lo && v <= hi && Math.abs(v) <= limit : o.nonFinite === true);
  const range = o.min !== undefined || o.max !== undefined ? ` in [${lo}, ${hi}]` : ` of magnitude at most ${limit}`;
  return { ok, expected: `a ${o.nonFinite ? '' : 'finite '}number${range}${o.nonFinite ? ', Infinity, -Infinity or NaN' : ''}` };
}

/** A number: finite and within bounds, unless `nonFinite` also admits ±Infinity and NaN. */
export function num(o: NumberOptions = {}): Field<number> {
  const { ok, expected } = numberTest(o);
  return field((v, at) => (ok(v) ? v : fail(at, expected, v)));
}

export function bool(): Field<boolean> {
  return field((v, at) => (typeof v === 'boolean' ? v : fail(at, 'true or false', v)));
}

/** One of a few strings. */
export function oneOf<S extends string>(...values: S[]): Field<S> {
  const expected = `one of ${values.map((s) => `'${s}'`).join(', ')}`;
  return field((v, at) => ((values as unknown[]).includes(v) ? (v as S) : fail(at, expected, v)));
}

/** Any string of bounded length: names, which reach generated code only through names.ts. */
export function str(maxLength = MAX_STRING): Field<string> {
  return field((v, at) => (typeof v === 'string' && v.length <= maxLength ? v : fail(at, `a string of at most ${maxLength} characters`, v)));
}

/** An array of `length` (exact, or [min, max]) elements, each checked by `each`; copied. */
function arrayOf<T>(length: number | readonly [number, number], [one, many]: [string, string], each: (x: unknown) => boolean): Field<T[]> {
  const [lo, hi] = typeof length === 'number' ? [length, length] : length;
  const count = lo === hi ? `${lo}` : `${lo} to ${hi}`;
  return field((v, at) => {
    if (!Array.isArray(v) || v.length < lo || v.length > hi) fail(at, `a list of ${count} ${many}`, v);
    const out = new Array<T>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (!each(x)) fail(`${at}[${i}]`, one, x);
      out[i] = x as T;
    }
    return out;
  });
}

/** A list of integers in [min, max], of a fixed length or a length range. */
export function ints(length: number | readonly [number, number], min = INT32_MIN, max = INT32_MAX): Field<number[]> {
  const range = `in [${min}, ${max}]`;
  return arrayOf<number>(length, [`an integer ${range}`, `integers ${range}`], (x) => isInt(x, min, max));
}

/** A list of numbers (constant values): up to 2^31-1 of them. */
export function numbers(o: NumberOptions = {}): Field<number[]> {
  const { ok, expected } = numberTest(o);
  return arrayOf<number>([0, INT32_MAX], [expected, expected.replace(/^a /, '').replace('number', 'numbers')], ok);
}

/** A list of strings of bounded length. */
export function strings(maxLength = INT32_MAX): Field<string[]> {
  return arrayOf<string>([0, maxLength], [`a string of at most ${MAX_STRING} characters`, `strings of at most ${MAX_STRING} characters`], (x) => typeof x === 'string' && x.length <= MAX_STRING);
}

/**
 * A shape: up to MAX_RANK dimensions, each a non-negative int32 or the batch 'N'; with
 * `inferred`, -1 too (a reshape target).
 */
export function dims(inferred = false): Field<(number | 'N')[]> {
  const min = inferred ? -1 : 0;
  const range = `in [${min}, ${INT32_MAX}] or 'N'`;
  return arrayOf<number | 'N'>([0, MAX_RANK], [`an integer ${range}`, `dimensions (integers ${range})`], (x) => x === 'N' || isInt(x, min, INT32_MAX));
}

/** The same field, which may be absent. */
export function optional<T>(f: Field<T>): Field<T> {
  return { optional: true, check: f.check };
}

/** The same field, which may also be null. */
export function nullable<T>(f: Field<T>): Field<T | null> {
  return { optional: f.optional, check: (v, at) => (v === null ? null : f.check(v, at)) };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}


/**
 * Checks `attrs` against `schema` (path prefix `at`): unknown keys and missing required keys are
 * errors, `undefined` counts as absent. Returns a clean copy holding only checked values.
 */
export function checkRecord(schema: Readonly<Record<string, Field<unknown>>>, attrs: unknown, at = ''): Record<string, unknown> {
  if (!isRecord(attrs)) throw new RuleError(`${at ? `attribute ${at.slice(0, -1)}` : 'attributes'} must be a plain object, got ${showValue(attrs)}`);
  for (const key of Object.keys(attrs)) {
    if (!Object.prototype.hasOwnProperty.call(schema, key) && attrs[key] !== undefined) {
      const known = Object.keys(schema);
      throw new RuleError(`unknown attribute ${showValue(at + key)}${known.length ? ` (expected ${known.join(', ')})` : ' (this op takes none)'}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema)) {
    const f = schema[key];
    const v = own(attrs, key);
    if (v === undefined) {
      if (!f.optional) throw new RuleError(`attribute ${at}${key} is missing`);
      continue;
    }
    out[key] = f.check(v, at + key);
  }
  return out;
}

/** A nested record with its own schema. */
export function record<A>(schema: AttrSchema<A>): Field<A> {
  return field((v, at) => checkRecord(schema as Record<string, Field<unknown>>, v, `${at}.`) as A);
}

/** A record whose schema is chosen by its string field `tag` (a tagged union). */
export function tagged<A extends Record<string, unknown>>(tag: string, variants: Readonly<Record<string, Readonly<Record<string, Field<unknown>>>>>): Field<A> {
  const kinds = Object.keys(variants);
  return field((v, at) => {
    const kind = isRecord(v) ? own(v, tag) : undefined;
    if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(variants, kind)) fail(`${at}.${tag}`, `one of ${kinds.map((k) => `'${k}'`).join(', ')}`, kind);
    const schema = { [tag]: oneOf(kind), ...variants[kind] };
    return checkRecord(schema, v, `${at}.`) as A;
  });
}
