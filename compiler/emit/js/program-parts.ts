// The statements that run a planned program: buffer declarations, their growth, kernel calls.
// Shared by every entry point an emitted module has (predict, the training step).
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import type { Node } from '../../../src/ir/node.ts';
import { BATCH, sampleSize } from '../../../src/ir/shape.ts';
import type { Kernel } from '../../lower/kernel.ts';
import type { Loop } from '../../lower/loop.ts';
import type { Program, Storage } from '../../lower/plan.ts';
import { trackedBlock, trackedCall } from '../kernel-failure.ts';
import { scheduleLines } from './loop.ts';
import { loopTimeNames, timedCall, timedLoop } from './profile.ts';

/** How generated code names a value's storage; `prefix` keeps two programs' names apart. */
export function storageRef(s: Storage, prefix = ''): string {
  switch (s.kind) {
    case 'input':
      return `${prefix}x${s.index}`;
    case 'param':
      return `${prefix}p${s.index}`;
    case 'const':
      return `${prefix}c${s.index}`;
    case 'buffer':
      return `${prefix}b${s.id}`;
    default:
      return s satisfies never;
  }
}

export interface ProgramParts {
  /** `let` declarations of the planned buffers (batch-sized ones start empty). */
  readonly declarations: string[];
  /** Body of `reserve(batch)`: reallocates the batch-sized buffers. */
  readonly reserve: string[];
  /**
   * The kernel calls and loops, in order (through `K`, the module's kernel table or its pool-bound
   * copy), inside the try/catch that names a failing kernel by its entry in `table` (`offset` plus
   * its index in the program's kernels, loop bodies' included); with `profile`, each kernel call
   * and each loop timed.
   */
  statements(table: string, offset: number, profile: boolean): string[];
  /** An expression copying node `n`'s value out (its batch rows only). */
  slice(n: Node): string;
  ref(n: Node): string;
}

export function programParts(p: Program, prefix = ''): ProgramParts {
  const ref = (n: Node) => storageRef(p.storageOf(n), prefix);
  return {
    // `alloc` and `K` are the model's: shared memory and split kernels when it has a thread pool.
    declarations: p.buffers.map((b) => `let ${prefix}b${b.id} = alloc(${ARRAY_NAME[b.dtype]}, ${b.batched ? 0 : b.perSample});`),
    reserve: p.buffers.filter((b) => b.batched).map((b) => `${prefix}b${b.id} = alloc(${ARRAY_NAME[b.dtype]}, ${b.perSample} * batch);`),
    statements: (table, offset, profile) => {
      const index = new Map(p.kernels.map((k, i) => [k, offset + i]));
      const loopNames = loopTimeNames(p);
      const call = (k: Kernel) => {
        const text = `K.${k.name}(batch, ${ref(k.writes)}${k.reads.map((r) => `, ${ref(r)}`).join('')});`;
        return trackedCall(profile ? timedCall(text, k.name) : text, index.get(k)!);
      };
      const loop = (l: Loop, lines: readonly string[]) => timedLoop(lines, loopNames.get(l)!);
      return trackedBlock(scheduleLines(p.schedule, { ref, call, ...(profile ? { loop } : {}) }), table);
    },
    slice: (n) => `${ref(n)}.slice(0, ${sampleSize(n.type.shape)}${n.type.shape[0] === BATCH ? ' * batch' : ''})`,
    ref,
  };
}
