// Finite-difference gradient checks through several time steps (BPTT) of simpleRnn, lstm and gru,
// forward and backward in time (bidirectional), with respect to the input, every weight and the
// initial states: the harness compiles the gradients and compares them with central differences.
// Each layer is one scan per direction (src/ir/recurrent.ts), so this is BPTT through the scan's
// VJP (compiler/autodiff/scan-vjp.ts), compiled to the JavaScript backend's loops.
import { makeNode } from '../../src/ir/build.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn } from '../../src/dsl/recurrent.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { graphParams } from '../../src/ir/graph.ts';
import { gradSuite, type GradCase, type GradInput } from '../grad/check.ts';
import { graphOf } from './helpers.ts';

/** A body rebuilt in float64 (the harness checks in float64; the DSL builds float32 bodies). */
function float64Body(body: Graph): Graph {
  const done = new Map<Node, Node>();
  const inputs = body.inputs.map((n) => makeNode('input', [], { ...n.attrs, dtype: 'float64' }, n.meta));
  body.inputs.forEach((n, i) => done.set(n, inputs[i]));
  for (const n of graphNodes(body)) {
    if (done.has(n)) continue;
    const attrs: Record<string, unknown> = { ...n.attrs };
    if (n.op === 'const' && attrs.dtype === 'float32') attrs.dtype = 'float64';
    if (n.op === 'scan') attrs.body = float64Body(attrs.body as Graph);
    done.set(n, makeNode(n.op, n.inputs.map((x) => done.get(x)!), attrs, n.meta));
  }
  return { name: body.name, inputs, outputs: [{ name: body.outputs[0].name, node: done.get(body.outputs[0].node)! }] };
}

/**
 * helpers.ts's layerCase, with scans rebuilt on float64 bodies: every input and parameter a
 * float64 input of the case, constants float64.
 */
function layerCase(name: string, build: () => { inputs: Node[]; output: Node }): GradCase {
  resetLayerNames();
  const { inputs, output } = build();
  const graph = graphOf(inputs, output);
  const leaves = [...inputs, ...graphParams(graph)];
  const specs: GradInput[] = leaves.map((n) => ({ shape: [...n.type.shape], range: n.op === 'param' ? [-0.8, 0.8] : [-2, 2] }));
  const order = graphNodes(graph);
  const bodies = new Map<Graph, Graph>();
  return {
    name,
    inputs: specs,
    batch: 2,
    tol: 1e-5,
    maxCoords: 24,
    build: (xs) => {
      const done = new Map<Node, Node>();
      leaves.forEach((leaf, i) => done.set(leaf, xs[i]));
      for (const n of order) {
        if (done.has(n)) continue;
        const attrs: Record<string, unknown> = { ...n.attrs };
        if (n.op === 'const' && attrs.dtype === 'float32') attrs.dtype = 'float64';
        if (n.op === 'scan') {
          const body = attrs.body as Graph;
          if (!bodies.has(body)) bodies.set(body, float64Body(body));
          attrs.body = bodies.get(body);
        }
        done.set(n, makeNode(n.op, n.inputs.map((x) => done.get(x)!), attrs, n.meta));
      }
      return done.get(output)!;
    },
  };
}

const T = 4;
const F = 3;
const H = 2;

gradSuite('recurrent', 'gradients through time of the recurrent layers', [
  layerCase('rnn-bidirectional-seq', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: simpleRnn(x, H, { bidirectional: true, returnSequences: true }) };
  }),
  layerCase('rnn-initial-state', () => {
    const x = input([T, F], { name: 'x' });
    const h0 = input([H], { name: 'h0' });
    return { inputs: [x, h0], output: simpleRnn(x, H, { initialState: [h0] }) };
  }),
  layerCase('lstm-bidirectional-seq', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: lstm(x, H, { bidirectional: true, returnSequences: true }) };
  }),
  layerCase('lstm-states-last', () => {
    const x = input([T, F], { name: 'x' });
    const h0 = input([H], { name: 'h0' });
    const c0 = input([H], { name: 'c0' });
    return { inputs: [x, h0, c0], output: lstm(x, H, { initialState: [h0, c0], gateOrder: 'pytorch' }) };
  }),
  layerCase('gru-bidirectional-seq', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: gru(x, H, { bidirectional: true, returnSequences: true }) };
  }),
  layerCase('gru-reset-before-stacked', () => {
    const x = input([T, F], { name: 'x' });
    return { inputs: [x], output: gru(x, H, { linearBeforeReset: false, layers: 2 }) };
  }),
]);
