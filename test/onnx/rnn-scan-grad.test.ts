// Fine-tuning an imported RNN/LSTM/GRU differentiates through its scans (backpropagation through
// time, compiler/autodiff/scan-vjp.ts) and the importer's own parts: ONNX's transposed R, the
// split biases, LSTM peepholes, clip, initial states, both layouts, bidirectional outputs. The
// gradients of L = Σ_k Σ out_k ⊙ r_k with respect to every input (x, W, R, B, P, h0, c0: the
// weights are graph inputs here) are checked against central finite differences of L, in
// float64 on the reference interpreter.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel } from '../../src/ir/shape.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { Lcg } from '../reference/lcg.ts';
import { rnnModel, type RnnSpec } from './rnn-models.ts';

const leaf = (name: string, shape: readonly (number | string)[]) => makeNode('input', [], { name, dtype: 'float64', shape: [...shape] as number[] });

/** The imported graph with a scalar loss over all its outputs, and the inputs to differentiate. */
function lossGraph(s: RnnSpec): { graph: Graph; loss: Node; wrt: Node[] } {
  const g = importOnnx(rnnModel({ ...s, double: true, weightsAsInputs: true, fixedBatch: true }));
  expect(graphNodes(g).filter((n) => n.op === 'scan')).toHaveLength(s.direction === 'bidirectional' ? 2 : 1);
  const rs = g.outputs.map((o) => leaf(`r_${o.name}`, o.node.type.shape));
  const terms = g.outputs.map((o, k) => makeNode('reduceSum', [makeNode('mul', [o.node, rs[k]])], { axes: [], keepdims: false }));
  const loss = terms.reduce((a, b) => makeNode('add', [a, b]));
  return { graph: { name: 'loss', inputs: [...g.inputs, ...rs], outputs: [{ name: 'loss', node: loss }] }, loss, wrt: [...g.inputs] };
}

/** Worst relative error of the analytic gradients against central differences, over every coordinate. */
function worstError(s: RnnSpec): number {
  const { graph, loss, wrt } = lossGraph(s);
  expect(wrt.every((n) => n.type.dtype === 'float64')).toBe(true);
  const grads = gradients(loss, wrt);
  const withGrads: Graph = { ...graph, outputs: [...graph.outputs, ...wrt.map((w) => ({ name: `d_${String(w.attrs.name)}`, node: grads.get(w)! }))] };
  const rng = new Lcg(17);
  const feeds = Object.fromEntries(graph.inputs.map((n) => [String(n.attrs.name), Float64Array.from(rng.array(numel(n.type.shape), -0.8, 0.8))]));
  const analytic = interpret(withGrads, feeds, {}, 1);
  const lossAt = (f: Record<string, Float64Array>) => interpret(graph, f, {}, 1).loss[0];
  const h = 1e-6;
  let worst = 0;
  for (const w of wrt) {
    const name = String(w.attrs.name);
    const d = analytic[`d_${name}`];
    expect(d.length).toBe(feeds[name].length);
    for (let i = 0; i < d.length; i++) {
      const [plus, minus] = [Float64Array.from(feeds[name]), Float64Array.from(feeds[name])];
      plus[i] += h;
      minus[i] -= h;
      const fd = (lossAt({ ...feeds, [name]: plus }) - lossAt({ ...feeds, [name]: minus })) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - d[i]) / Math.max(1, Math.abs(fd)));
    }
  }
  return worst;
}

const CASES: [string, RnnSpec][] = [
  ['LSTM, bidirectional, h0/c0, peepholes, Y/Y_h/Y_c', { kind: 'LSTM', steps: 4, batch: 2, input: 2, hidden: 2, direction: 'bidirectional', initial: true, peepholes: true }],
  ['LSTM, batch-first, reverse, clip 0.9', { kind: 'LSTM', steps: 3, batch: 2, input: 2, hidden: 2, layout: 1, direction: 'reverse', clip: 0.9 }],
  ['GRU, linear_before_reset, batch-first, h0', { kind: 'GRU', steps: 4, batch: 2, input: 2, hidden: 2, layout: 1, initial: true, linearBeforeReset: true }],
  ['GRU, reset before the product, bidirectional', { kind: 'GRU', steps: 3, batch: 2, input: 2, hidden: 2, direction: 'bidirectional' }],
  ['RNN, Relu/Tanh bidirectional, h0', { kind: 'RNN', steps: 4, batch: 2, input: 2, hidden: 3, direction: 'bidirectional', initial: true, activations: ['Relu', 'Tanh'] }],
];

describe('gradients through imported recurrent nodes match finite differences', () => {
  it.each(CASES)('%s', (_, s) => {
    expect(worstError(s)).toBeLessThan(1e-6);
  });
});
