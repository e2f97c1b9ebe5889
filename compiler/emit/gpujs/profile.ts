// Opt-in kernel timing for the GPU.js backend (CompileOptions.profile, `kiln profile --backend
// gpujs`): each built kernel is wrapped so its calls add to the exported `kernelTimes` table. Only
// GPU.js's cpu and webasm modes run a kernel to the end before the call returns; on WebGL the
// kernels are pipelined, so a profiled module refuses those modes rather than report wrong times.
import type { ModuleText } from '../writer.ts';
import { internal } from '../../../src/ir/errors.ts';
import type { Kernel } from '../../lower/kernel.ts';
import type { Program } from '../../lower/plan.ts';
import { addProfileTable, PROFILE_TABLE } from '../js/profile.ts';

/** The modes whose kernel calls are synchronous: a call's time is its kernel's. */
export const TIMED_GPU_MODES = ['cpu', 'webasm'] as const;

/**
 * `builds` (kernelBuilds' `const k0 = device.kernel(…);` lines) with each built kernel wrapped in
 * `timedKernel`, which adds to the entry of that kernel in the table.
 */
export function profiledBuilds(builds: readonly string[], kernels: readonly Kernel[]): string[] {
  return builds.map((line, i) => {
    const m = /^const (\w+) = (.*);$/s.exec(line);
    if (!m) internal(`profiled GPU.js build of kernel ${kernels[i].name}: unexpected line '${line}'`);
    return `const ${m[1]} = timedKernel(${m[2]}, ${PROFILE_TABLE}.${kernels[i].name});`;
  });
}

/** The refusal createModel runs first in a profiled module: WebGL modes cannot be timed per kernel. */
export function profiledModeCheck(): string {
  const modes = TIMED_GPU_MODES.map((m) => `'${m}'`).join(', ');
  return [
    `if (![${modes}].includes(device.backend)) throw new Error(\`this module times each kernel, which needs GPU.js's cpu or webasm mode: on '\${device.backend}' kernels run pipelined on the GPU (a call returns before its work is done), so times cannot be attributed to kernels; create it with { mode: 'cpu' } or compile it without profiling\`);`,
  ].join('\n');
}

/** The table (every kernel of every program, at zero), `resetKernelTimes()` and `timedKernel`. */
export function addGpuProfile(f: ModuleText, programs: readonly Program[]) {
  addProfileTable(f, programs.flatMap((p) => p.kernels));
  f.addFunction({
    name: 'timedKernel',
    docs: ["A built kernel whose calls add their milliseconds to `entry` (cpu and webasm modes: a call returns when its work is done)."],
    parameters: [
      { name: 'k', type: 'DeviceKernel' },
      { name: 'entry', type: '{ ms: number; calls: number; }' },
    ],
    returnType: 'DeviceKernel',
    statements: [
      'const timed = (batch: number, ...args: (DeviceTensor | number)[]): DeviceTensor => {',
      'const t0 = performance.now();',
      'const out = k(batch, ...args);',
      'entry.ms += performance.now() - t0;',
      'entry.calls++;',
      'return out;',
      '};',
      // Profiled modules run on cpu or webasm only, where the asynchronous form is the synchronous one.
      'return Object.assign(timed, { async: timed });',
    ],
  });
}
