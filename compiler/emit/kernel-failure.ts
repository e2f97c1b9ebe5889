// Run-time errors inside a kernel name the kernel and the layers it came from: "kernel k3 (layers
// conv2d_1) failed: <message>". The JavaScript backend wraps each entry point's kernel sequence in
// one try/catch with a `current` index (no cost on the normal path beyond an integer store per
// kernel); the GPU.js backend wraps each built kernel. The names come from the module's manifest.
import type { ModuleText } from './writer.ts';
import { internal } from '../../src/ir/errors.ts';
import { intLiteral } from '../codegen/literal.ts';

/**
 * Each entry point's kernels by index, `{ name, layers }` (the manifest's, without its ops): kept
 * apart from `manifest` so a bundle of createModel alone carries neither the manifest nor any
 * name of the trainer's kernels.
 */
export const MODEL_KERNELS = 'modelKernelInfo';
export const TRAINER_KERNELS = 'trainerKernelInfo';

/**
 * `kernelFailed(e, kernel)`: the error `e` with "kernel kN (layers …) failed: " before its message
 * (and in its stack, which Node prints for an uncaught error). Its class is kept, so a caller's
 * `instanceof` still works; a thrown non-Error becomes an Error with it as `cause`.
 */
export function addKernelFailure(f: ModuleText) {
  f.addFunction({
    name: 'kernelFailed',
    docs: ['The error a kernel threw, its message starting with the kernel and the layers it came from.'],
    parameters: [
      { name: 'e', type: 'unknown' },
      { name: 'k', type: '{ readonly name: string; readonly layers: readonly string[]; }' },
    ],
    returnType: 'unknown',
    statements: [
      "const where = `kernel ${k.name} (${k.layers.length ? `layers ${k.layers.join(', ')}` : 'no layer'}) failed: `;",
      'if (!(e instanceof Error)) return new Error(where + String(e), { cause: e });',
      'if (e.message.startsWith(where)) return e;',
      'const old = e.message;',
      'try {',
      'e.message = where + old;',
      // V8 formats the stack on first read: it may already show the new message.
      "if (typeof e.stack === 'string' && !e.stack.includes(e.message)) e.stack = e.stack.replace(old, () => e.message);",
      'return e;',
      '} catch {',
      // A frozen error: a new one, with the original as its cause.
      'return new Error(where + old, { cause: e });',
      '}',
    ],
  });
}

/** A kernel's call preceded by `current = index`: the entry of the kernel-info table its errors are named by. */
export function trackedCall(call: string, index: number): string {
  return `current = ${intLiteral(index)};\n${call}`;
}

/**
 * An entry point's statements (kernel calls made by `trackedCall`, loops around some of them)
 * inside one try/catch that rethrows through `kernelFailed` with entry `current` of `table`: a
 * kernel inside a loop body sets `current` on each step, so its errors name it, not the kernel
 * the loop follows. No statements: none.
 */
export function trackedBlock(statements: readonly string[], table: string): string[] {
  if (!statements.length) return [];
  return ['let current = 0;', 'try {', ...statements, '} catch (e) {', `throw kernelFailed(e, ${table}[current]);`, '}'];
}

/** `namedKernel(k, entry)` for the GPU.js backend: a built kernel whose errors name it (through kernelFailed). */
export function addNamedKernel(f: ModuleText) {
  f.addVariableStatement({
    docs: ['A built kernel whose errors say which kernel and layers they came from.'],
    declarations: [
      {
        name: 'namedKernel',
        initializer:
          // The asynchronous form (WebGPU's) names its failures too, rejections included.
          '(k: DeviceKernel, entry: { readonly name: string; readonly layers: readonly string[]; }): DeviceKernel => Object.assign(' +
          '(batch: number, ...args: (DeviceTensor | number)[]): DeviceTensor => {\ntry {\nreturn k(batch, ...args);\n} catch (e) {\nthrow kernelFailed(e, entry);\n}\n}, ' +
          '{\nasync: async (batch: number, ...args: (DeviceTensor | number)[]): Promise<DeviceTensor> => {\ntry {\nreturn await k.async(batch, ...args);\n} catch (e) {\nthrow kernelFailed(e, entry);\n}\n}\n})',
      },
    ],
  });
}

/** GPU.js kernelBuilds' `const k0 = device.kernel(…);` lines, each kernel wrapped in namedKernel with entry `offset + i` of `table`. */
export function namedBuilds(builds: readonly string[], table: string, offset = 0): string[] {
  return builds.map((line, i) => {
    const m = /^const (\w+) = (.*);$/s.exec(line);
    if (!m) internal(`GPU.js kernel build ${i}: unexpected line '${line}'`);
    return `const ${m[1]} = namedKernel(${m[2]}, ${table}[${intLiteral(offset + i)}]);`;
  });
}
