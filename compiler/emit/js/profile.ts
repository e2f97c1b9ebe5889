// Opt-in kernel timing for the JavaScript backend (CompileOptions.profile, `kiln profile`): each
// kernel call is wrapped in performance.now() and its time added to a table the module exports.
// A module compiled without the option has none of this.
import { VariableDeclarationKind, type SourceFile } from 'ts-morph';
import type { Kernel } from '../../lower/kernel.ts';

/** The exported table's name: kernel name → { ms, calls } accumulated since the last reset. */
export const PROFILE_TABLE = 'kernelTimes';

/**
 * `calls[i]` (the call of `kernels[i]`) timed into the table. Block-scoped so the start time of
 * one kernel never shadows another's; the kernel name reaches the table as a property of an
 * identifier kernels already are (k0, t3, e1), never as text from a model file.
 */
export function profiledCalls(calls: readonly string[], kernels: readonly Kernel[]): string[] {
  return calls.map((call, i) => {
    const name = kernels[i].name;
    return `{ const t0 = performance.now(); ${call} const e = ${PROFILE_TABLE}.${name}; e.ms += performance.now() - t0; e.calls++; }`;
  });
}

/** The exported table (every kernel of every entry point, at zero) and `resetKernelTimes()`. */
export function addProfileTable(f: SourceFile, kernels: readonly Kernel[]) {
  f.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['Milliseconds and calls per kernel since the last resetKernelTimes() (a module compiled with profiling).'],
    declarations: [{ name: PROFILE_TABLE, type: 'Record<string, { ms: number; calls: number }>', initializer: `{ ${kernels.map((k) => `${k.name}: { ms: 0, calls: 0 }`).join(', ')} }` }],
  });
  f.addFunction({
    name: 'resetKernelTimes',
    isExported: true,
    docs: ['Sets every kernel time and call count back to zero.'],
    returnType: 'void',
    statements: [`for (const e of Object.values(${PROFILE_TABLE})) { e.ms = 0; e.calls = 0; }`],
  });
}
