// Issue 15's goal for time in the IR (docs/design/time.md): an LSTM over 200 steps compiles to a
// module at most 1.5× the size of the one over 20 steps, in about the same time, for inference
// and for training. The layer is one scan (a host loop over one cell body), so neither the
// module nor the compiler's work grows with the steps: the compiler's work is checked by what it
// makes (graph nodes, kernels, buffers: the same at 200 steps as at 20), not by a clock, which a
// busy machine moves by more than the margin. `KILN_MEASURE=1` prints the table of
// docs/design/time.md, compile times included (in this process after a warm-up, best of two).
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { layers, sequential } from '../../src/dsl/sequential.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { input } from '../../src/dsl/layers.ts';
import { lstm } from '../../src/dsl/recurrent.ts';
import { unrollScans } from '../../compiler/passes/unroll-scans.ts';
import { randomWeights, run } from './helpers.ts';

const TRAINING = { loss: { kind: 'mse' as const }, optimizer: { kind: 'adam' as const, lr: 1e-3 } };

function compileLstm(steps: number, training: boolean) {
  resetLayerNames();
  const m = sequential({ name: `lstm${steps}`, input: [steps, 2] }, [layers.lstm(32), layers.dense(1)]);
  const t0 = performance.now();
  const c = compileModel(m.graph, { seed: 1, ...(training ? { training: TRAINING } : {}) });
  const { kernels, buffers } = c.program;
  return { ms: performance.now() - t0, bytes: c.js.length, nodes: graphNodes(m.graph).length, kernels: kernels.length, buffers: buffers.length, scans: graphNodes(m.graph).filter((n) => n.op === 'scan').length };
}

/** The best of two compiles: the first of a pair may pay for garbage collection of the last. */
const best = (steps: number, training: boolean) => {
  const [a, b] = [compileLstm(steps, training), compileLstm(steps, training)];
  return a.ms <= b.ms ? a : b;
};

describe('recurrent layers are scans', () => {
  it('one scan per direction, with its cell described; unrolled, the same values', () => {
    resetLayerNames();
    const x = input([6, 3], { name: 'x' });
    const y = lstm(x, 4, { bidirectional: true, returnSequences: true });
    const graph: Graph = { name: 'bi', inputs: [x], outputs: [{ name: 'y', node: y as Node }] };
    const scans = graphNodes(graph).filter((n) => n.op === 'scan');
    expect(scans.map((n) => n.attrs.cell)).toEqual([
      { kind: 'lstm', hiddenSize: 4, gateOrder: 'ifco', linearBeforeReset: false, direction: 'forward' },
      { kind: 'lstm', hiddenSize: 4, gateOrder: 'ifco', linearBeforeReset: false, direction: 'reverse' },
    ]);
    expect(graphNodes(graph).filter((n) => n.op === 'matmul')).toHaveLength(2);
    const weights = randomWeights(graph);
    const feeds = { x: Float32Array.from({ length: 2 * 6 * 3 }, (_, i) => Math.sin(i)) };
    const [loop, unrolled] = [run(graph, feeds, weights, 2), run(unrollScans(graph), feeds, weights, 2)];
    Array.from(unrolled).forEach((v, i) => expect(v).toBeCloseTo(loop[i], 5));
  });
});

describe('an LSTM over 200 steps against 20 steps', () => {
  for (const training of [false, true]) {
    const mode = training ? 'training' : 'inference';
    it(`${mode}: module ≤ 1.5× the size, the same graph nodes, kernels and buffers`, () => {
      compileLstm(20, training); // warm-up: the compiler's first run pays for loading and JIT
      const short = best(20, training);
      const long = best(200, training);
      expect(short.scans).toBe(1);
      expect(long.bytes / short.bytes, `${long.bytes} against ${short.bytes} bytes`).toBeLessThanOrEqual(1.5);
      expect({ nodes: long.nodes, kernels: long.kernels, buffers: long.buffers }).toEqual({ nodes: short.nodes, kernels: short.kernels, buffers: short.buffers });
      if (process.env.KILN_MEASURE) {
        for (const [steps, r] of [[20, short], [200, long]] as const) console.log(`| ${steps} | ${mode} | ${r.nodes} | ${r.ms.toFixed(0)} | ${r.bytes} |`);
      }
    }, 600_000);
  }
});
