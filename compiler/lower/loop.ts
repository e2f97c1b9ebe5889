// Loops in a plan: a scan becomes a host loop over its body's own kernels (lowered once, however
// many steps), with buffers for the carry and each sequence's time slice. The body's kernels join
// the program's flat kernel list, so every backend renders them like any other.
import type { Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import { sampleSize, type Dim } from '../../src/ir/shape.ts';
import type { FusedGraph } from '../fuse/fuse.ts';
import type { Kernel } from './kernel.ts';

/** One sequence of a loop: each step copies time slice t of `source` ([rows, T, …]) into the body input `slice`. */
export interface LoopSequence {
  readonly source: Node;
  readonly slice: Node;
  readonly rows: Dim;
  /** Elements per row of one time slice. */
  readonly width: number;
}

/**
 * A scan as the host runs it: copy `init` into the carry, then for each step copy the sequences'
 * slices in, run `body`, copy `result` (the body's output) into the carry and, when stacking,
 * the carry into the scan's output at time t. Storage of `carry` is the carry buffer (the scan's
 * own buffer when it returns only the final carry). Where neither the result's kernel nor any
 * step after it reads the carry, the result lives in the carry buffer itself and there is
 * nothing to copy (plan.ts's resultInPlace).
 */
export interface Loop {
  readonly node: Node;
  readonly steps: number;
  readonly reverse: boolean;
  readonly stack: boolean;
  /** The body's carry input, and the outer value it starts from. */
  readonly carry: Node;
  readonly init: Node;
  readonly sequences: readonly LoopSequence[];
  /** The body's invariant inputs, and the outer values whose storage they read in place. */
  readonly invariants: readonly (readonly [inner: Node, outer: Node])[];
  readonly result: Node;
  readonly body: readonly Step[];
  /** The body graph after the compiler's passes. */
  readonly graph: Graph;
}

/** The host schedule: kernel calls and loops, in order. */
export type Step = { readonly kind: 'kernel'; readonly kernel: Kernel } | { readonly kind: 'loop'; readonly loop: Loop };

/** Everything a planner needs to know of a loop before its body is planned. */
export function loopShell(scan: Node, graph: Graph, body: readonly Step[]): Loop {
  const a = scan.attrs as unknown as ScanAttrs;
  const [init, ...rest] = scan.inputs;
  const S = a.sequenceCount;
  return {
    node: scan,
    steps: a.steps,
    reverse: a.reverse,
    stack: a.stack,
    carry: graph.inputs[0],
    init,
    sequences: rest.slice(0, S).map((source, j) => ({ source, slice: graph.inputs[j + 1], rows: source.type.shape[0], width: sampleSize(source.type.shape.slice(2)) })),
    invariants: rest.slice(S).map((outer, k) => [graph.inputs[S + 1 + k], outer] as const),
    result: graph.outputs[0].node,
    body,
    graph,
  };
}

/** Every kernel of a schedule, loops' bodies included (each list's own kernels before its loops'). */
export function scheduleKernels(steps: readonly Step[]): Kernel[] {
  const own = steps.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
  return [...own, ...steps.flatMap((s) => (s.kind === 'loop' ? scheduleKernels(s.loop.body) : []))];
}

/** Every loop of a schedule, nested ones included. */
export function scheduleLoops(steps: readonly Step[]): Loop[] {
  return steps.flatMap((s) => (s.kind === 'loop' ? [s.loop, ...scheduleLoops(s.loop.body)] : []));
}

export type { FusedGraph };
