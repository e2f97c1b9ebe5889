// DSL recurrent layers exported to ONNX run in onnxruntime-node with the interpreter's outputs.
// They export as the unrolled primitives (MatMul, Slice, Reshape, Sigmoid, Tanh, Mul, Add, Concat),
// not as ONNX RNN/LSTM/GRU nodes: the IR holds the unrolled steps, not the layer.
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn } from '../../src/dsl/recurrent.ts';
import { graphParams, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { numel } from '../../src/ir/shape.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { Lcg } from '../reference/lcg.ts';

type Ort = typeof import('onnxruntime-node');
let ort: Ort | undefined;
try {
  ort = await import('onnxruntime-node');
} catch (e) {
  console.warn(`onnxruntime-node cannot load here, its checks are skipped: ${e instanceof Error ? e.message : String(e)}`);
}
const itOrt = ort ? it : it.skip;

const T = 5;
const F = 3;
const H = 4;
const N = 2;

beforeEach(() => resetLayerNames());

const builds = {
  'simpleRnn bidirectional, sequences': (x: ReturnType<typeof input>) => simpleRnn(x, H, { bidirectional: true, returnSequences: true }),
  'lstm, two layers, last state': (x: ReturnType<typeof input>) => lstm(x, H, { layers: 2 }),
  'gru (PyTorch variant), sequences': (x: ReturnType<typeof input>) => gru(x, H, { returnSequences: true, gateOrder: 'pytorch' }),
  'gru (reset before the product), bidirectional': (x: ReturnType<typeof input>) => gru(x, H, { bidirectional: true, linearBeforeReset: false }),
};

describe('DSL recurrent layers exported to ONNX', () => {
  for (const [name, build] of Object.entries(builds)) {
    itOrt(`${name}: onnxruntime-node computes what the interpreter computes`, async () => {
      const x = input([T, F], { name: 'x' });
      const graph: Graph = { name: 'rnn', inputs: [x], outputs: [{ name: 'y', node: build(x) }] };
      const rng = new Lcg(3);
      const weights = Object.fromEntries(graphParams(graph).map((p) => [p.attrs.name as string, Float32Array.from(rng.array(numel(p.type.shape), -0.6, 0.6))]));
      const bytes = exportOnnx(graph, weights);
      const ops = new Set(onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType));
      expect([...ops].some((op) => ['RNN', 'LSTM', 'GRU'].includes(op ?? ''))).toBe(false);
      const xv = Float32Array.from(rng.array(N * T * F, -1, 1));
      const want = interpret(graph, { x: xv }, weights, N).y as Float32Array;
      const session = await ort!.InferenceSession.create(bytes);
      const got = (await session.run({ x: new ort!.Tensor('float32', xv, [N, T, F]) })).y;
      expect(got.dims).toEqual([N, ...graph.outputs[0].node.type.shape.slice(1)]);
      expect(Array.from(got.data as Float32Array)).toBeAllclose(Array.from(want), { rtol: 1e-5, atol: 1e-6 });
    });
  }
});
