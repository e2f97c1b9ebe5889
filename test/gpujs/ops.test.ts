// Every op's forward and backward kernels through the GPU.js renderer, on GPU.js's webasm
// backend (float32, as on a GPU) and its cpu backend, against the reference interpreter: the
// gradient-check cases of test/grad (each an op, the loss Σ y ⊙ r and its gradients) compiled
// with `backend: 'gpujs'`, a module per family.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { compileAndLoad, prepareCase, type GradCase } from '../grad/check.ts';
import { CASES as binary } from '../grad/cases/binary.ts';
import { CASES as convPool } from '../grad/cases/conv-pool.ts';
import { CASES as linalg } from '../grad/cases/linalg.ts';
import { CASES as movement } from '../grad/cases/movement.ts';
import { CASES as reduce } from '../grad/cases/reduce.ts';
import { CASES as unary } from '../grad/cases/unary.ts';

const FAMILIES: [string, readonly GradCase[]][] = [
  ['unary', unary],
  ['binary', binary],
  ['reduce', reduce],
  ['linalg', linalg],
  ['movement', movement],
  ['conv-pool', convPool],
];

/** float32 kernels against the float64 interpreter: errors of a few float32 ulps, accumulated. */
const TOLERANCE = { rtol: 2e-4, atol: 2e-5 };

describe.each(['webasm', 'cpu'] as const)('GPU.js kernels on the %s backend agree with the interpreter', (mode) => {
  for (const [family, cases] of FAMILIES) {
    for (const batch of new Set(cases.map((c) => c.batch ?? 2))) {
      const group = cases.filter((c) => (c.batch ?? 2) === batch);
      it(`${family} ops, batch ${batch}: ${group.length} cases, forward and gradients`, async () => {
        const prepared = group.map((c, k) => prepareCase(c, `c${k}_`));
        const graph: Graph = { name: `gpujs_${family.replace(/-/g, '_')}`, inputs: prepared.flatMap((p) => p.graph.inputs), outputs: prepared.flatMap((p) => p.graph.outputs) };
        const feeds = Object.assign({}, ...prepared.map((p) => p.feeds));
        const { model } = await compileAndLoad(graph, family, `batch${batch}`, undefined, 'gpujs', { mode });
        expect((model as unknown as { backend: string }).backend).toBe(mode);
        const got = model.run(feeds, batch);
        const want = interpret(graph, feeds, {}, batch);
        for (const o of graph.outputs) expect(got[o.name], `${o.name} (${o.node.op})`).toBeAllclose(want[o.name], TOLERANCE);
      });
    }
  }
});
