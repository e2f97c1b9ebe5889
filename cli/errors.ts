// How the CLI reports a failure: a user's mistake is one line `error: …` and exit 1; an
// interrupted run one line and exit 130; a bug in Kiln says so, asks for a report and shows the stack.
import { errorCode, osReason } from '../runtime/file-errors.ts';
import { KilnError } from '../src/ir/errors.ts';

/** Where internal errors should be reported. */
export const REPORT_TO = 'the Kiln issue tracker (with the command you ran and this output)';

/** Exit codes: 1 for a user's mistake or a Kiln bug, 2 for a usage error, 130 for Ctrl-C (128 + SIGINT). */
export const EXIT = { error: 1, usage: 2, interrupted: 130 } as const;

/** A run stopped by the user (SIGINT); the message says what was kept. */
export class Interrupted extends KilnError {
  override name = 'Interrupted';
}

/**
 * Error classes that are about the user's input and carry a message meant for them. Matched by
 * name as well, since an emitted module's runtime (dist/) has its own copies of the classes.
 */
const USER_ERRORS = new Set(['KilnError', 'ShapeError', 'UnsupportedError', 'WeightFileError', 'IdxFormatError', 'FileError', 'PoolError', 'MissingPackageError']);

function isUserError(e: unknown): e is Error {
  return e instanceof KilnError || (e instanceof Error && USER_ERRORS.has(e.name));
}

/** A Node system error (a syscall that failed on a path or an address) as one line, or undefined. */
function systemErrorLine(e: unknown): string | undefined {
  const err = e as { code?: unknown; syscall?: unknown; path?: unknown; address?: unknown; port?: unknown };
  if (!(e instanceof Error) || typeof err.syscall !== 'string' || errorCode(e) === undefined) return undefined;
  const where = typeof err.path === 'string' ? err.path : typeof err.address === 'string' ? `${err.address}${err.port === undefined ? '' : `:${String(err.port)}`}` : '';
  return `${err.syscall} ${where}`.trim() + `: ${osReason(e)}`;
}

/** What to print and which exit code to return for an error that reached the top of the CLI. */
export function describeFailure(e: unknown): { line: string; code: number; internal: boolean } {
  if (e instanceof Interrupted) return { line: `interrupted: ${e.message}`, code: EXIT.interrupted, internal: false };
  if (isUserError(e)) return { line: `error: ${e.message}`, code: EXIT.error, internal: false };
  const system = systemErrorLine(e);
  if (system) return { line: `error: ${system}`, code: EXIT.error, internal: false };
  const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return { line: `internal error: ${message}\nThis is a bug in Kiln, not a mistake of yours: please report it to ${REPORT_TO}.`, code: EXIT.error, internal: true };
}

/** The stack of `e` and of each error it wraps (`cause`), for --verbose and internal errors. */
export function stackOf(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur !== undefined && depth < 8; cur = (cur as { cause?: unknown }).cause, depth++) {
    parts.push(depth === 0 ? stackText(cur) : `caused by: ${stackText(cur)}`);
    if (!(cur instanceof Error)) break;
  }
  return parts.join('\n');
}

const stackText = (e: unknown) => (e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));

/** Prints the failure on `write` (stderr) and returns the exit code. */
export function reportFailure(e: unknown, verbose: boolean, write: (s: string) => void): number {
  const { line, code, internal } = describeFailure(e);
  write(`${line}\n`);
  if (verbose || internal) write(`${stackOf(e)}\n`);
  return code;
}
