// How a JS-backend module gets its kernels and memory: plain, WebAssembly SIMD, or split across
// a ThreadPool's workers (kiln/runtime/node), which look the kernels up in the exported table.
// The model's kernels and the trainer's are separate tables (and separate SIMD binaries), so a
// bundler that sees only createModel used leaves every training kernel out.
import type { ModuleText } from '../writer.ts';
import { BATCH } from '../../../src/ir/shape.ts';
import { kernelSplit } from '../../codegen/js-kernel.ts';
import type { Kernel } from '../../lower/kernel.ts';

/** One entry point's kernels: the model's (`createModel`) or the trainer's (`createTrainer`). */
export interface KernelGroup {
  /** Names the group's declarations start with: `model` or `trainer`. */
  readonly name: 'model' | 'trainer';
  readonly kernels: readonly Kernel[];
}

/** The names of a group's JavaScript table, its splits, its SIMD binary and its SIMD table. */
export function groupNames(group: KernelGroup['name']) {
  return group === 'model'
    ? { kernels: 'modelKernels', splits: 'modelSplits', wasm: 'simdWasm', simd: 'simdKernels' }
    : { kernels: 'trainerKernels', splits: 'trainerSplits', wasm: 'trainerSimdWasm', simd: 'trainerSimdKernels' };
}

/** Whether a group has SIMD kernels, the expression that may turn them off, and the memory to use (a trainer's: its model's). */
export interface SimdSetup {
  readonly hasKernels: boolean;
  readonly enabled: string;
  readonly memory?: string;
}

/**
 * The statements that give a program its kernels (`K`) and memory (`alloc`, where its weights are
 * copied to as well): with a thread pool (`kiln/runtime/node`), shared memory and kernels that
 * split their outer loop across threads.
 */
export function poolSetup(pool: string, simd: SimdSetup, group: KernelGroup['name']): string[] {
  const n = groupNames(group);
  // A trainer runs SIMD kernels only over its model's memory, and only if its model does.
  const open = !simd.hasKernels ? 'undefined' : simd.memory ? `${simd.memory} ? openSimd(${n.wasm}, ${simd.memory}) : undefined` : `${simd.enabled} === false ? undefined : openSimd(${n.wasm})`;
  return [
    `const pool = ${pool};`,
    `const simd = ${open};`,
    `const table = simd ? { ...${n.kernels}, ...${n.simd}(simd) } : ${n.kernels};`,
    `const K = pool ? pool.bind(import.meta.url, table, ${n.splits}, simd?.memory) : table;`,
    `const alloc = simd ? simd.memory.alloc : pool ? pool.alloc : allocArray;`,
  ];
}

/**
 * Each group's kernel table and how its kernels split across threads, and the exported table of
 * every kernel that a worker thread looks kernels up in.
 */
export function addKernelTables(f: ModuleText, groups: readonly KernelGroup[], simd: ReadonlySet<string>) {
  for (const g of groups) {
    const n = groupNames(g.name);
    const splits = g.kernels.map((k) => [k, kernelSplit(k)] as const).filter((e): e is [Kernel, NonNullable<ReturnType<typeof kernelSplit>>] => e[1] !== null);
    f.addVariableStatement({
      docs: [`The ${g.name === 'model' ? "model's" : "trainer's"} kernels by name.`],
      declarations: [{ name: n.kernels, initializer: `{ ${g.kernels.map((k) => k.name).join(', ')} }` }],
    });
    f.addVariableStatement({
      docs: ['How each kernel may split across threads: the extent of its outermost output loop, its multiply-adds per call, and whether it has a SIMD version.'],
      declarations: [{ name: n.splits, type: 'Readonly<Record<string, KernelSplit>>', initializer: `{\n${splits.map(([k, s]) => `${k.name}: { extent: ${s.extent === BATCH ? "'N'" : s.extent}, work: (batch: number) => ${s.work}${simd.has(k.name) ? ', simd: true' : ''} }`).join(',\n')}\n}` }],
    });
  }
  f.addVariableStatement({
    isExported: true,
    docs: ['Every kernel by name (a worker thread of a ThreadPool imports this module and looks them up here).'],
    // Typed loosely on purpose: the declaration file states what a worker may call, not each kernel's arrays.
    declarations: [{ name: 'kernels', type: 'Readonly<Record<string, (...args: never[]) => void>>', initializer: `{ ${groups.flatMap((g) => g.kernels.map((k) => k.name)).join(', ')} }` }],
  });
}
