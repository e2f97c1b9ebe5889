// Opt-in kernel timing for the JavaScript backend (CompileOptions.profile, `kiln profile`): each
// kernel call is wrapped in performance.now() and its time added to a table the module exports;
// so is each loop as a whole, so that what a loop costs beyond its body's kernels (the copies of
// time slices and carries) is measured too rather than lost. A module compiled without the option
// has none of this.
import type { ModuleText } from '../writer.ts';
import type { Kernel } from '../../lower/kernel.ts';
import { scheduleLoops, type Loop } from '../../lower/loop.ts';
import type { Program } from '../../lower/plan.ts';

/** The exported table's name: kernel (or loop) name → { ms, calls } accumulated since the last reset. */
export const PROFILE_TABLE = 'kernelTimes';

/**
 * A kernel's call, timed into the table. Block-scoped so the start time of one kernel never
 * shadows another's; the kernel name reaches the table as a property of an identifier kernels
 * already are (k0, t3, e1), never as text from a model file.
 */
export function timedCall(call: string, name: string): string {
  return `{ const start = performance.now(); ${call} const e = ${PROFILE_TABLE}.${name}; e.ms += performance.now() - start; e.calls++; }`;
}

/** A loop's whole text timed into the table under `name` (its body's kernels are timed inside it as well). */
export function timedLoop(lines: readonly string[], name: string): string[] {
  return ['{', 'const loopStart = performance.now();', ...lines, `const e = ${PROFILE_TABLE}.${name};`, 'e.ms += performance.now() - loopStart;', 'e.calls++;', '}'];
}

/**
 * The table's name of each loop of a program, in schedule order (nested loops included):
 * `${prefix}loop${i}` with the prefix of the program's kernel names (k, t, e), so the loops of a
 * trainer's two programs stay apart and never take a kernel's name (a prefix and digits).
 */
export function loopTimeNames(p: Pick<Program, 'kernels' | 'schedule'>): Map<Loop, string> {
  const prefix = p.kernels.length ? p.kernels[0].name.replace(/\d+$/, '') : 'k';
  return new Map(scheduleLoops(p.schedule).map((l, i) => [l, `${prefix}loop${i}`]));
}

/** The exported table (every kernel of every entry point and every loop, at zero) and `resetKernelTimes()`. */
export function addProfileTable(f: ModuleText, kernels: readonly Kernel[], loops: readonly string[] = []) {
  const names = [...kernels.map((k) => k.name), ...loops];
  f.addVariableStatement({
    isExported: true,
    docs: ['Milliseconds and calls per kernel (and per loop, copies and all) since the last resetKernelTimes() (a module compiled with profiling).'],
    declarations: [{ name: PROFILE_TABLE, type: 'Record<string, { ms: number; calls: number; }>', initializer: `{ ${names.map((n) => `${n}: { ms: 0, calls: 0 }`).join(', ')} }` }],
  });
  f.addFunction({
    name: 'resetKernelTimes',
    isExported: true,
    docs: ['Sets every kernel time and call count back to zero.'],
    returnType: 'void',
    statements: [`for (const e of Object.values(${PROFILE_TABLE})) { e.ms = 0; e.calls = 0; }`],
  });
}
