// DSL recurrent layers exported to ONNX. A layer is one `scan` per direction over its cell
// (src/ir/recurrent.ts), which the exporter writes as the ONNX RNN/LSTM/GRU node of that cell.
// Here each file is checked by importing it back into Kiln and running it on the interpreter;
// onnxruntime runs the same exports in test/onnx/scan-export*.test.ts (sequence-first nodes,
// layout 0, between Transposes: onnxruntime's CPU kernels refuse layout 1).
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn } from '../../src/dsl/recurrent.ts';
import { graphParams, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { numel } from '../../src/ir/shape.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { Lcg } from '../reference/lcg.ts';

const T = 5;
const F = 3;
const H = 4;
const N = 2;

beforeEach(() => resetLayerNames());

const builds: Record<string, [(x: ReturnType<typeof input>) => ReturnType<typeof lstm>, string]> = {
  'simpleRnn bidirectional, sequences': [(x) => simpleRnn(x, H, { bidirectional: true, returnSequences: true }), 'RNN'],
  'lstm, two layers, last state': [(x) => lstm(x, H, { layers: 2 }), 'LSTM'],
  'gru (PyTorch variant), sequences': [(x) => gru(x, H, { returnSequences: true, gateOrder: 'pytorch' }), 'GRU'],
  'gru (reset before the product), bidirectional': [(x) => gru(x, H, { bidirectional: true, linearBeforeReset: false }), 'GRU'],
};

describe('DSL recurrent layers exported to ONNX', () => {
  for (const [name, [build, cellOp]] of Object.entries(builds)) {
    it(`${name}: one ${cellOp} node per direction, importing back to what the interpreter computes`, async () => {
      const x = input([T, F], { name: 'x' });
      const graph: Graph = { name: 'rnn', inputs: [x], outputs: [{ name: 'y', node: build(x) as ReturnType<typeof input> }] };
      const rng = new Lcg(3);
      const weights = Object.fromEntries(graphParams(graph).map((p) => [p.attrs.name as string, Float32Array.from(rng.array(numel(p.type.shape), -0.6, 0.6))]));
      const bytes = exportOnnx(graph, weights);
      const ops = new Set(onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType));
      expect([...ops]).toContain(cellOp);
      expect(ops.has('Scan'), 'no general Scan: the cell is recognised').toBe(false);
      const xv = Float32Array.from(rng.array(N * T * F, -1, 1));
      const want = interpret(graph, { x: xv }, weights, N).y as Float32Array;
      const back = importOnnx(bytes, { inputShapes: { x: [N, T, F] } });
      const got = interpret(back, { [String(back.inputs[0].attrs.name)]: xv }, {}, N)[back.outputs[0].name];
      expect(Array.from(got)).toBeAllclose(Array.from(want), { rtol: 1e-5, atol: 1e-6 });
    });
  }
});
