// The one way a value becomes source text in generated code: numbers (exactly, non-finite ones
// spelled out) and identifiers Kiln made itself. Anything else reaching a renderer is a bug.
import { internal } from '../../src/ir/errors.ts';

/**
 * A number as JavaScript source, exactly: the shortest text that reads back as the same double,
 * -0 kept, and `Infinity`, `-Infinity`, `NaN` spelled out. Only a value of type number is
 * accepted (a string that looks like a number is not): an attribute that somehow escaped its
 * schema can never become code.
 */
export function numberLiteral(v: unknown): string {
  if (typeof v !== 'number') return internal(`a ${v === null ? 'null' : typeof v} reached a renderer as a number`);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** An integer (an extent, stride, offset or loop bound): exact, so at most 2^53 in magnitude. */
export function intLiteral(v: unknown): string {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) return internal(`${typeof v === 'number' ? v : `a ${typeof v}`} reached a renderer as an integer`);
  return numberLiteral(v);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * A name Kiln made (a loop variable, temporary, kernel name) as source. Names from model files
 * never get here (they go through names.ts); this checks the invariant instead of trusting it.
 */
export function identifier(name: unknown): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name) || name.length > 200) return internal(`${JSON.stringify(String(name)).slice(0, 40)} reached a renderer as an identifier`);
  return name;
}
