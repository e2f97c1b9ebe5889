// The fuzzers' oracle: what counts as a clear error, how outputs are compared, and how outcomes are named.
import { KilnError } from '../../src/ir/errors.ts';
import { WeightFileError as SourceWeightFileError } from '../../runtime/weights-header.ts';

/** The runtime the emitted modules import (built by `npm run build`), as a file URL. */
export const RUNTIME_URL = new URL('../../dist/runtime/bundle/index-node.js', import.meta.url).href;

/**
 * The dist runtime's own WeightFileError: emitted modules throw that class, not the source one. It is
 * imported the way emitted modules are (a data: URL), so that under vitest, whose loader would make
 * a second copy of the runtime, it is the very class they throw.
 */
const distRuntime = (await import(/* @vite-ignore */ `data:text/javascript,export { WeightFileError } from ${JSON.stringify(RUNTIME_URL)};`)) as { WeightFileError?: new (...a: never[]) => Error };
const CLEAR_CLASSES: readonly (abstract new (...a: never[]) => Error)[] = [
  KilnError,
  SourceWeightFileError,
  ...(distRuntime.WeightFileError ? [distRuntime.WeightFileError] : []),
];

/** One case's result. `failure` is the only kind a fuzzer reports as a bug. */
export type Outcome =
  | { kind: 'error'; stage: string; cls: string; message: string }
  | { kind: 'matched'; detail?: string }
  | { kind: 'skipped'; why: string }
  | { kind: 'failure'; stage: string; failure: string; message: string; stackTop?: string };

/** Whether `e` is a clear error: a Kiln error class with a non-empty one-line message. */
export function isClearError(e: unknown): e is Error {
  return CLEAR_CLASSES.some((C) => e instanceof C) && typeof (e as Error).message === 'string' && (e as Error).message.trim() !== '' && !(e as Error).message.includes('\n');
}

const ROOT = new URL('../../', import.meta.url).pathname;

/** The innermost stack frame in this repository's own code (not node_modules, not the fuzzer), as `function (path:line)`. */
export function stackTop(e: unknown): string | undefined {
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l)).map((l) => l.trim().replace(/^at /, '').replace(/file:\/\//, ''));
  const ours = frames.find((l) => l.includes(ROOT) && !l.includes('node_modules') && !l.includes('/test/fuzz/'));
  return (ours ?? frames[0])?.replace(ROOT, '').replace(/\?[^:)]*/, '').replace(/:\d+\)$/, ')');
}

/** Classifies a thrown value at `stage`: a clear error, or a failure naming what was wrong with it. */
export function classifyThrow(stage: string, e: unknown): Outcome {
  const message = e instanceof Error ? e.message : String(e);
  if (isClearError(e)) return { kind: 'error', stage, cls: (e as Error).name, message };
  const name = e instanceof Error ? e.name : typeof e;
  let failure = `${name} at ${stage}`;
  if (CLEAR_CLASSES.some((C) => e instanceof C)) failure = `${name} at ${stage} with ${message.trim() === '' ? 'an empty' : 'a multi-line'} message`;
  else if (/Maximum call stack/.test(message)) failure = `stack overflow at ${stage}`;
  else if (/^internal:/.test(message)) failure = `internal error at ${stage}`;
  const shown = message.includes('\n') ? JSON.stringify(message.slice(0, 300)) : message.slice(0, 300);
  return { kind: 'failure', stage, failure, message: shown, stackTop: stackTop(e) };
}

/** A failure that is not a thrown error (a mismatch, a payload that ran, a case that took too long). */
export const failed = (stage: string, failure: string, message: string): Outcome => ({ kind: 'failure', stage, failure, message });

/** The key outcomes are counted under: class for errors, failure class for failures. */
export function outcomeKey(o: Outcome): string {
  switch (o.kind) {
    case 'error':
      return `clear error: ${o.cls}`;
    case 'matched':
      return o.detail ?? 'ran and matched the interpreter';
    case 'skipped':
      return `skipped: ${o.why}`;
    case 'failure':
      // An overflow stops at whichever frame of the recursion ran out of stack: key it by file only.
      return `FAILURE: ${o.failure}${o.stackTop ? ` @ ${o.failure.startsWith('stack overflow') ? o.stackTop.replace(/^.*\(|:\d+\)$/g, '') : o.stackTop}` : ''}`;
  }
}

/** Resets and reads the marker the injection payloads set. */
export const PAYLOAD_MARK = '__pwned';
export function resetPwned(): void {
  delete (globalThis as Record<string, unknown>)[PAYLOAD_MARK];
}
export function pwned(): boolean {
  return (globalThis as Record<string, unknown>)[PAYLOAD_MARK] !== undefined;
}

/**
 * Null when `got` matches `want` within float32 tolerance, else the worst element. Elements whose
 * reference is not finite or beyond 1e30 are not compared: the reference rounds every node's result
 * to float32 while fused kernels keep intermediates in double, so overflow differs legitimately.
 */
export function compareArrays(name: string, got: ArrayLike<number> | undefined, want: ArrayLike<number>): string | null {
  if (!got || typeof got.length !== 'number') return `output '${name}' is missing`;
  if (got.length !== want.length) return `output '${name}' has ${got.length} values, the interpreter ${want.length}`;
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]) && Math.abs(want[i]) < 1e30) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) {
    const [g, e] = [Number(got[i]), Number(want[i])];
    if (!Number.isFinite(e) || Math.abs(e) >= 1e30) continue;
    if (Math.abs(g - e) <= 1e-4 * Math.abs(e) + 1e-5 * Math.max(1, scale)) continue;
    return `output '${name}' element ${i}: compiled ${g}, interpreter ${e}`;
  }
  return null;
}
