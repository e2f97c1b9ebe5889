// The WebAssembly SIMD half of a JS-backend module: the kernels that are contractions
// (compiler/codegen/wasm) as an embedded wasm module per entry point (the model's, the trainer's,
// so that inference alone carries no training kernel), and the tables that put them in place of
// their JavaScript versions. The JavaScript kernels stay in the module: they are the readable
// definition, and what runs where WebAssembly SIMD or shared memory is missing.
import type { ModuleText } from '../writer.ts';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import { commentSafe } from '../../codegen/names.ts';
import { inputName } from '../../codegen/js.ts';
import { encodeModule } from '../../codegen/wasm/binary.ts';
import { renderJsKernel } from '../../codegen/js-kernel.ts';
import { renderSimdKernel } from '../../codegen/wasm/simd-kernel.ts';
import { describeOps, type Kernel } from '../../lower/kernel.ts';
import { groupNames, type KernelGroup } from './pool.ts';

/** A kernel with its SIMD version. */
export type SimdVersion = readonly [Kernel, NonNullable<ReturnType<typeof renderSimdKernel>>];

/** The kernels of `kernels` that have a SIMD version, with it. */
export function simdVersions(kernels: readonly Kernel[]): SimdVersion[] {
  return kernels.map((k) => [k, renderSimdKernel(k)] as const).filter((e): e is SimdVersion => e[1] !== null);
}

/**
 * Adds a group's SIMD binary and table (`simdWasm` and `simdKernels` for the model) when some of
 * its kernels have a SIMD version, or `always` (a model whose trainer has some opens the memory
 * they share); returns the names of the kernels that have one.
 */
export function addSimdTable(f: ModuleText, group: KernelGroup['name'], rendered: readonly SimdVersion[], always = false): ReadonlySet<string> {
  if (!rendered.length && !always) return new Set();
  const n = groupNames(group);
  const bytes = encodeModule(rendered.map(([, s]) => s.fn));
  f.addVariableStatement({
    docs: [`WebAssembly SIMD versions of ${rendered.length} contraction kernels (${rendered.map(([k]) => k.name).join(', ') || 'none: it only opens the memory'}), ${bytes.length} bytes.`],
    // Pure: a bundler may drop it when nothing that uses it is imported.
    declarations: [{ name: n.wasm, initializer: `/* @__PURE__ */ fromBase64('${Buffer.from(bytes).toString('base64')}')` }],
  });
  // Epilogues the vector code lacks run as JavaScript over the stored sums, in place.
  const epilogues = rendered.flatMap(([, s]) => (s.epilogue ? [renderJsKernel(s.epilogue)] : []));
  if (epilogues.length) f.addStatements(['// Epilogues of SIMD kernels (functions WebAssembly SIMD lacks), applied in place to their sums.', ...epilogues]);
  let slot = 0;
  const entries = rendered.map(([k, s]) => {
    const arrays = [`out: ${ARRAY_NAME[k.dtype]}`, ...k.inputs.map((t, i) => `${inputName(i)}: ${ARRAY_NAME[t.dtype]}`)];
    // A scalar output (a row kernel's loss, simd-rows.ts) is one call over everything: [0, 1).
    const hi = k.shape.length === 0 ? '1' : k.shape[0] === BATCH ? 'batch' : String(k.shape[0]);
    const names = k.inputs.map((_, i) => inputName(i));
    const args = ['out', ...names].map((a) => `a(${a}, ${slot++})`);
    const call = `e.${k.name}(batch, lo, hi, ${args.join(', ')})`;
    const body = s.epilogue ? `{\n${call};\n${s.epilogue.name}(batch, out, ${[...names, 'out'].join(', ')}, lo, hi);\n}` : call;
    return [`/** ${k.name}: ${commentSafe(describeOps(k))}. ${s.how}${s.epilogue ? ` Then ${s.epilogue.name}.` : ''} */`, `${k.name}: (batch: number, ${arrays.join(', ')}, lo = 0, hi = ${hi}): void => ${body},`].join('\n');
  });
  f.addFunction({
    name: n.simd,
    docs: ['The SIMD kernels over one memory: each takes the arguments of its JavaScript version and passes byte addresses.'],
    parameters: [{ name: 's', type: 'SimdKernels' }],
    statements: [`const e = s.exports;`, `const a = s.address;`, `return {\n${entries.join('\n')}\n};`],
  });
  return new Set(rendered.map(([k]) => k.name));
}

/** `workerKernels`: a worker's table, every kernel with the SIMD versions of the groups that have them. */
export function addWorkerKernels(f: ModuleText, groups: readonly KernelGroup['name'][]) {
  f.addFunction({
    name: 'workerKernels',
    isExported: true,
    docs: ["The kernel table of a ThreadPool's worker thread, over the memory the main thread's model allocated in."],
    parameters: [{ name: 'memory', type: 'WebAssembly.Memory' }],
    returnType: 'Readonly<Record<string, (...args: never[]) => void>>',
    statements: [`return { ...kernels${groups.map((g) => `, ...${groupNames(g).simd}(workerSimd(${groupNames(g).wasm}, memory))`).join('')} };`],
  });
}
