// Kiln's sequence models export to ONNX and run the same in onnxruntime-node: DSL simpleRnn, lstm
// and gru layers (sequences and final states, bidirectional, stacked, Keras and PyTorch gate
// orders, both GRU forms, initial states) become one ONNX RNN/LSTM/GRU node per layer (both
// directions of a bidirectional layer in one), run in onnxruntime to what Kiln's reference interpreter computes (1e-5), and import back.
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn, type RecurrentOptions } from '../../src/dsl/recurrent.ts';
import { graphParams, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel } from '../../src/ir/shape.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { randomFloats } from '../e2e/helpers.ts';
import { loadOrt, nodeTypes, runOrt } from './scan-helpers.ts';

const ort = await loadOrt();
if (!ort) console.warn('onnxruntime-node cannot load here: the onnxruntime checks are skipped');

const [N, T, F, H] = [3, 6, 4, 5];

beforeEach(() => resetLayerNames());

type Layer = typeof lstm;
interface Case {
  layer: Layer;
  options: RecurrentOptions;
  /** The ONNX node expected, and how many of them. */
  op: 'RNN' | 'LSTM' | 'GRU';
  count: number;
  /** Initial states as graph inputs (h, or h and c, per direction). */
  states?: number;
}

const CASES: Record<string, Case> = {
  'simpleRnn, last state': { layer: simpleRnn as Layer, options: {}, op: 'RNN', count: 1 },
  'simpleRnn relu, sequences and state, bidirectional': { layer: simpleRnn as Layer, options: { activation: 'relu', returnSequences: true, returnState: true, bidirectional: true }, op: 'RNN', count: 1 },
  'lstm (Keras), sequences': { layer: lstm, options: { returnSequences: true }, op: 'LSTM', count: 1 },
  'lstm (PyTorch gate order), sequences with h and c, initial state': { layer: lstm, options: { gateOrder: 'pytorch', returnSequences: true, returnState: true }, op: 'LSTM', count: 1, states: 2 },
  'lstm, bidirectional, last state with h and c': { layer: lstm, options: { bidirectional: true, returnState: true }, op: 'LSTM', count: 1 },
  'lstm, two stacked layers': { layer: lstm, options: { layers: 2, returnSequences: true }, op: 'LSTM', count: 2 },
  'gru (Keras reset_after), sequences': { layer: gru, options: { returnSequences: true }, op: 'GRU', count: 1 },
  'gru (reset before the product), bidirectional, state': { layer: gru, options: { linearBeforeReset: false, bidirectional: true, returnState: true }, op: 'GRU', count: 1 },
  'gru (PyTorch), initial state, sequences': { layer: gru, options: { gateOrder: 'pytorch', returnSequences: true }, op: 'GRU', count: 1, states: 1 },
  'gru (PyTorch order, reset before the product), stacked 2, bidirectional': { layer: gru, options: { gateOrder: 'pytorch', linearBeforeReset: false, layers: 2, bidirectional: true }, op: 'GRU', count: 2 },
};

describe('DSL sequence models exported to ONNX run the same in onnxruntime-node', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: ${c.count} ${c.op} node(s), no Scan`, async () => {
      const x = input([T, F], { name: 'x' });
      const states = Array.from({ length: c.states ?? 0 }, (_, i) => input([H], { name: `s${i}` }));
      const out = c.layer(x, H, { ...c.options, initialState: states.length ? states : undefined } as RecurrentOptions) as Node | Node[];
      const outs = Array.isArray(out) ? out : [out];
      const graph: Graph = { name: 'seq', inputs: [x, ...states], outputs: outs.map((node, i) => ({ name: `y${i}`, node })) };
      const weights = Object.fromEntries(graphParams(graph).map((p, i) => [String(p.attrs.name), randomFloats(numel(p.type.shape), 200 + i, -0.6, 0.6)]));
      const feeds = Object.fromEntries(graph.inputs.map((n, i) => [String(n.attrs.name), randomFloats(numel(n.type.shape, N), 300 + i, -1, 1)]));
      const want = interpret(graph, feeds, weights, N);
      const bytes = exportOnnx(graph, weights);
      const types = nodeTypes(bytes);
      expect(types.filter((t) => t === c.op), types.join(' ')).toHaveLength(c.count);
      expect(types).not.toContain('Scan');
      const dims = Object.fromEntries(graph.inputs.map((n) => [String(n.attrs.name), n.type.shape.map((d) => (d === 'N' ? N : (d as number)))]));
      if (ort) {
        const got = await runOrt(ort, bytes, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: v as Float32Array, dims: dims[k] }])));
        for (const o of graph.outputs) expect(got[o.name], `onnxruntime: ${o.name}`).toBeAllclose(want[o.name], { rtol: 1e-5, atol: 1e-5 });
      }
      const back = importOnnx(bytes, { inputShapes: dims });
      const again = interpret(back, feeds, {}, N);
      for (const o of graph.outputs) expect(again[o.name], `imported back: ${o.name}`).toBeAllclose(want[o.name], { rtol: 1e-5, atol: 1e-5 });
    });
  }

  it('the file does not grow with the sequence: the same layers over 6 and 60 steps have the same nodes', () => {
    const types = (steps: number) => {
      resetLayerNames();
      const x = input([steps, F], { name: 'x' });
      const y = gru(lstm(x, H, { returnSequences: true, bidirectional: true }), H, { returnSequences: true });
      const graph: Graph = { name: 'seq', inputs: [x], outputs: [{ name: 'y', node: y }] };
      const weights = Object.fromEntries(graphParams(graph).map((p, i) => [String(p.attrs.name), randomFloats(numel(p.type.shape), 400 + i, -0.6, 0.6)]));
      return nodeTypes(exportOnnx(graph, weights));
    };
    const short = types(6);
    expect(types(60)).toEqual(short);
    expect(short.filter((t) => t === 'Slice').length, short.join(' ')).toBeLessThanOrEqual(4);
  });
});
