// The statements that run a planned program: buffer declarations, their growth, kernel calls.
// Shared by every entry point an emitted module has (predict, the training step).
import { ARRAY_NAME } from '../../../src/ir/dtype.ts';
import type { Node } from '../../../src/ir/node.ts';
import { BATCH, sampleSize } from '../../../src/ir/shape.ts';
import type { Program, Storage } from '../../lower/plan.ts';
import { scheduleCalls } from './loop.ts';

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
  /** The kernel calls, in order (through `K`, the module's kernel table or its pool-bound copy); a scan's loop joins the call before it. */
  readonly calls: string[];
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
    calls: scheduleCalls(p.schedule, { ref, call: (k) => `K.${k.name}(batch, ${ref(k.writes)}${k.reads.map((r) => `, ${ref(r)}`).join('')});` }),
    slice: (n) => `${ref(n)}.slice(0, ${sampleSize(n.type.shape)}${n.type.shape[0] === BATCH ? ' * batch' : ''})`,
    ref,
  };
}
