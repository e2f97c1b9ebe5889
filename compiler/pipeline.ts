// The compiler's passes in order. Each is a pure function Graph → Graph, so the CLI can print
// the IR after any of them and a test can run any one alone.
import type { Graph } from '../src/ir/graph.ts';
import { checkGraph } from './check/check.ts';
import { fuse, type FusedGraph } from './fuse/fuse.ts';
import { planProgram, type Program } from './lower/plan.ts';
import { eliminateCommonSubexpressions } from './passes/cse.ts';
import { decomposeComposites } from './passes/decompose.ts';
import { foldConstants } from './passes/fold.ts';
import { padConvolutions } from './passes/pad-conv.ts';
import { eliminateDeadCode } from './passes/simplify.ts';
import { dropUnreadSteps } from './passes/final-step.ts';
import { sinkProjections } from './passes/sink-projection.ts';

export interface Pass {
  readonly name: string;
  readonly run: (g: Graph) => Graph;
}

/** Graph-to-graph passes, in the order the compiler runs them. */
export const PASSES: readonly Pass[] = [
  { name: 'check', run: checkGraph },
  { name: 'decompose', run: decomposeComposites },
  { name: 'pad-conv', run: padConvolutions },
  { name: 'dce', run: eliminateDeadCode },
  // After dce: its restacking may leave a scan's final step the only part of its output read.
  { name: 'final-step', run: dropUnreadSteps },
  { name: 'sink-projection', run: sinkProjections },
  { name: 'fold', run: foldConstants },
  { name: 'cse', run: eliminateCommonSubexpressions },
  { name: 'check-after', run: checkGraph },
];

/** Runs the graph passes; `after` sees the graph after each (for `kiln ir --after`). */
export function optimize(g: Graph, after?: (pass: string, g: Graph) => void): Graph {
  return PASSES.reduce((graph, pass) => {
    const next = pass.run(graph);
    after?.(pass.name, next);
    return next;
  }, g);
}

/** The whole middle end: passes, fusion, lowering, memory planning. */
export function compileGraph(g: Graph, kernelPrefix = 'k'): { optimized: Graph; fused: FusedGraph; program: Program } {
  const optimized = optimize(g);
  const fused = fuse(optimized);
  // Loop bodies go through the same passes when their loops are planned.
  return { optimized, fused, program: planProgram(fused, kernelPrefix, (body) => optimize(body)) };
}
