// `--json` output of check, compile, train and conformance: one JSON object on stdout, success or failure.
//
// Every object has `ok` (boolean) and `command` (its name). On success the rest is the command's
// report (cli/commands.ts CheckReport, CompileReport; trainJson below; cli/conformance/command.ts
// ConformanceReport; summary's is compiler/inspect/summary.ts's with memory plans; `ok` is false for a conformance run with a failed case). On failure:
//   { "ok": false, "command": "check", "exitCode": 1,
//     "error": { "message": "…one line…", "kind": "user" | "usage" | "interrupted" | "internal" } }
// and the process exits with `exitCode` (1 error, 2 usage, 130 interrupted), as without --json.
import { describeFailure, EXIT } from './errors.ts';
import type { TrainResult } from './train.ts';

/** Commands that take `--json`. */
export const JSON_COMMANDS = new Set(['check', 'compile', 'train', 'conformance', 'summary', 'predict', 'evaluate']);

export type FailureKind = 'user' | 'usage' | 'interrupted' | 'internal';

export interface JsonFailure {
  readonly ok: false;
  readonly command: string;
  readonly exitCode: number;
  readonly error: { readonly message: string; readonly kind: FailureKind };
}

export const toJson = (value: unknown): string => JSON.stringify(value, null, 2);

/** The JSON object for an error that ended `command`. */
export function failureJson(command: string, e: unknown): JsonFailure {
  const { line, code, internal } = describeFailure(e);
  const kind: FailureKind = internal ? 'internal' : code === EXIT.interrupted ? 'interrupted' : 'user';
  // The first line without its "error: " prefix; an internal error's second line (report it) stays out.
  const message = line.split('\n')[0].replace(/^(error|internal error|interrupted): /, '');
  return { ok: false, command, exitCode: code, error: { message, kind } };
}

/** The JSON object for a usage error commander reported (an unknown option, a missing argument). */
export function usageJson(command: string, text: string): JsonFailure {
  const message = text.trim().split('\n')[0].replace(/^error: /, '') || 'usage error';
  return { ok: false, command, exitCode: EXIT.usage, error: { message, kind: 'usage' } };
}

/** `argv`'s command name and whether it asks for `--json` (options after `--` do not count). */
export function jsonRequest(argv: readonly string[]): { command: string; json: boolean } {
  const own = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length);
  const command = own.find((a) => !a.startsWith('-')) ?? '';
  return { command, json: JSON_COMMANDS.has(command) && own.includes('--json') };
}

/** `kiln train --json`: the epochs' logs, why the fit stopped early (`stopped`), the final training loss, validation and test figures, files written. */
export function trainJson(r: TrainResult) {
  return {
    ok: true as const,
    command: 'train',
    model: r.model,
    epochs: r.logs,
    // Why the fit ended early (early stopping, Ctrl-C, a callback's error message), if it did.
    ...(r.history.stopped ? { stopped: { epoch: r.history.stopped.epoch, reason: r.history.stopped.reason } } : {}),
    finalLoss: r.finalLoss,
    ...(r.valAccuracy === undefined ? {} : { validationAccuracy: r.valAccuracy }),
    test: r.test && { loss: r.test.loss, accuracy: r.test.accuracy },
    files: { ...(r.save === undefined ? {} : { save: r.save }), ...(r.png === undefined ? {} : { png: r.png }) },
  };
}
