// The WebAssembly SIMD half of a JS-backend module: the kernels that are contractions
// (compiler/codegen/wasm) as one embedded wasm module, and the table that puts them in place of
// their JavaScript versions. The JavaScript kernels stay in the module: they are the readable
// definition, and what runs where WebAssembly SIMD or shared memory is missing.
import { VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import { commentSafe } from '../../codegen/names.ts';
import { inputName } from '../../codegen/js.ts';
import { encodeModule } from '../../codegen/wasm/binary.ts';
import { renderJsKernel } from '../../codegen/js-kernel.ts';
import { renderSimdKernel } from '../../codegen/wasm/simd-kernel.ts';
import { describeOps, type Kernel } from '../../lower/kernel.ts';

/** Adds `simdWasm`, `simdKernels` and `workerKernels` when some kernel has a SIMD version; returns the names of those that have. */
export function addSimdTable(f: SourceFile, kernels: readonly Kernel[]): ReadonlySet<string> {
  const rendered = kernels.map((k) => [k, renderSimdKernel(k)] as const).filter((e): e is [Kernel, NonNullable<ReturnType<typeof renderSimdKernel>>] => e[1] !== null);
  if (!rendered.length) return new Set();
  const bytes = encodeModule(rendered.map(([, s]) => s.fn));
  f.addVariableStatement({
    declarationKind: VariableDeclarationKind.Const,
    docs: [`WebAssembly SIMD versions of ${rendered.length} contraction kernels (${rendered.map(([k]) => k.name).join(', ')}), ${bytes.length} bytes.`],
    declarations: [{ name: 'simdWasm', initializer: `fromBase64('${Buffer.from(bytes).toString('base64')}')` }],
  });
  // Epilogues the vector code lacks run as JavaScript over the stored sums, in place.
  const epilogues = rendered.flatMap(([, s]) => (s.epilogue ? [renderJsKernel(s.epilogue)] : []));
  if (epilogues.length) f.addStatements(['// Epilogues of SIMD kernels (functions WebAssembly SIMD lacks), applied in place to their sums.', ...epilogues]);
  let slot = 0;
  const entries = rendered.map(([k, s]) => {
    const arrays = [`out: ${ARRAY_NAME[k.dtype]}`, ...k.inputs.map((t, i) => `${inputName(i)}: ${ARRAY_NAME[t.dtype]}`)];
    const hi = k.shape[0] === BATCH ? 'batch' : String(k.shape[0]);
    const names = k.inputs.map((_, i) => inputName(i));
    const args = ['out', ...names].map((a) => `a(${a}, ${slot++})`);
    const call = `e.${k.name}(batch, lo, hi, ${args.join(', ')})`;
    const body = s.epilogue ? `{\n${call};\n${s.epilogue.name}(batch, out, ${[...names, 'out'].join(', ')}, lo, hi);\n}` : call;
    return [`/** ${k.name}: ${commentSafe(describeOps(k))}. ${s.how}${s.epilogue ? ` Then ${s.epilogue.name}.` : ''} */`, `${k.name}: (batch: number, ${arrays.join(', ')}, lo = 0, hi = ${hi}): void => ${body},`].join('\n');
  });
  f.addFunction({
    name: 'simdKernels',
    docs: ['The SIMD kernels over one memory: each takes the arguments of its JavaScript version and passes byte addresses.'],
    parameters: [{ name: 's', type: 'SimdKernels' }],
    statements: [`const e = s.exports;`, `const a = s.address;`, `return {\n${entries.join('\n')}\n};`],
  });
  f.addFunction({
    name: 'workerKernels',
    isExported: true,
    docs: ["The kernel table of a ThreadPool's worker thread, over the memory the main thread's model allocated in."],
    parameters: [{ name: 'memory', type: 'WebAssembly.Memory' }],
    statements: [`return { ...kernels, ...simdKernels(workerSimd(simdWasm, memory)) };`],
  });
  return new Set(rendered.map(([k]) => k.name));
}
