// How a JS-backend module gets its kernels and memory: plain, WebAssembly SIMD, or split across
// a ThreadPool's workers (kiln/runtime/node), which look the kernels up in the exported table.
import { VariableDeclarationKind, type SourceFile } from 'ts-morph';
import { BATCH } from '../../../src/ir/shape.ts';
import { kernelSplit } from '../../codegen/js-kernel.ts';
import type { Kernel } from '../../lower/kernel.ts';

/** Whether a module has SIMD kernels, the expression that may turn them off, and the memory to use (a trainer's: its model's). */
export interface SimdSetup {
  readonly hasKernels: boolean;
  readonly enabled: string;
  readonly memory?: string;
}

/**
 * The statements that give a program its kernels (`K`) and memory (`alloc`): with a thread pool
 * (`kiln/runtime/node`), shared memory and kernels that split their outer loop across threads.
 */
export function poolSetup(pool: string, simd: SimdSetup): string[] {
  // A trainer runs SIMD kernels only over its model's memory, and only if its model does.
  const open = !simd.hasKernels ? 'undefined' : simd.memory ? `${simd.memory} ? openSimd(simdWasm, ${simd.memory}) : undefined` : `${simd.enabled} === false ? undefined : openSimd(simdWasm)`;
  return [
    `const pool = ${pool};`,
    `const simd = ${open};`,
    `const table = simd ? { ...kernels, ...simdKernels(simd) } : kernels;`,
    `const K = pool ? pool.bind(import.meta.url, table, splits, simd?.memory) : table;`,
    `const alloc = simd ? simd.memory.alloc : pool ? pool.alloc : allocArray;`,
    `const place = <T extends Float32Array | Float64Array | Int32Array>(a: T): T => simd?.memory.adopt(a) ?? pool?.share(a) ?? a;`,
  ];
}

/** The kernel table workers look kernels up in, and how each kernel splits across threads. */
export function addKernelTable(f: SourceFile, kernels: readonly Kernel[], simd: ReadonlySet<string>) {
  const splits = kernels.map((k) => [k, kernelSplit(k)] as const).filter((e): e is [Kernel, NonNullable<ReturnType<typeof kernelSplit>>] => e[1] !== null);
  f.addVariableStatement({
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    docs: ['Every kernel by name (a worker thread of a ThreadPool imports this module and looks them up here).'],
    declarations: [{ name: 'kernels', initializer: `{ ${kernels.map((k) => k.name).join(', ')} }` }],
  });
  f.addVariableStatement({
    declarationKind: VariableDeclarationKind.Const,
    docs: ['How each kernel may split across threads: the extent of its outermost output loop, its multiply-adds per call, and whether it has a SIMD version.'],
    declarations: [{ name: 'splits', type: 'Readonly<Record<string, KernelSplit>>', initializer: `{\n${splits.map(([k, s]) => `${k.name}: { extent: ${s.extent === BATCH ? "'N'" : s.extent}, work: (batch: number) => ${s.work}${simd.has(k.name) ? ', simd: true' : ''} }`).join(',\n')}\n}` }],
  });
}
