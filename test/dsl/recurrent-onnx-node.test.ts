// The DSL layers rebuild ONNX's own RNN/LSTM/GRU node tests (../shared/onnx-node-tests): the
// node's W, R, B become the layer's kernel, recurrent kernel and bias (gate order 'onnx', GRU
// without linear_before_reset), and the layer computes the test's expected Y / Y_h.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn } from '../../src/dsl/recurrent.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { decodeTensor } from '../../src/onnx/tensor.ts';
import { REPO_ROOT } from '../../cli/conformance/run.ts';

const CASES = path.resolve(REPO_ROOT, '..', 'shared', 'onnx-node-tests');
const TESTS = [
  ['test_lstm_defaults', 'lstm', 0],
  ['test_gru_defaults', 'gru', 0],
  ['test_gru_with_initial_bias', 'gru', 0],
  ['test_simple_rnn_with_initial_bias', 'rnn', 0],
  ['test_lstm_batchwise', 'lstm', 1],
  ['test_gru_batchwise', 'gru', 1],
  ['test_simple_rnn_batchwise', 'rnn', 1],
] as const;

function tensor(file: string): { dims: number[]; data: Float32Array } {
  const t = decodeTensor(onnx.TensorProto.decode(readFileSync(file)), file);
  return { dims: t.dims.map(Number), data: Float32Array.from(t.data as ArrayLike<number>) };
}

/** [rows, cols] row-major → [cols, rows]. */
function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

beforeEach(() => resetLayerNames());

describe.skipIf(!existsSync(CASES))('ONNX RNN/LSTM/GRU node tests rebuilt with the DSL layers', () => {
  it.each(TESTS)('%s', (name, kind, layout) => {
    const dir = path.join(CASES, name, 'test_data_set_0');
    const files = readdirSync(dir);
    const [X, W, R] = [0, 1, 2].map((i) => tensor(path.join(dir, `input_${i}.pb`)));
    const B = files.includes('input_3.pb') ? tensor(path.join(dir, 'input_3.pb')) : undefined;
    const outputs = files.filter((f) => f.startsWith('output_')).sort().map((f) => tensor(path.join(dir, f)));
    const [, GH, F] = W.dims;
    const H = R.dims[2];
    const [S, N] = layout === 1 ? [X.dims[1], X.dims[0]] : [X.dims[0], X.dims[1]];
    const x = layout === 1 ? input([S, F], { name: 'X' }) : input([S, N, F], { name: 'X', batched: false });
    const layer = { lstm, gru, rnn: simpleRnn }[kind];
    const [seq, h] = layer(x, H, { name: 'r', gateOrder: 'onnx', batchFirst: layout === 1, returnSequences: true, returnState: true, ...(kind === 'gru' ? { linearBeforeReset: false } : {}) });
    const weights: Record<string, Float32Array> = { 'r/kernel': transposed(W.data, GH, F), 'r/recurrentKernel': transposed(R.data, GH, H) };
    // ONNX's Wb + Rb both add outside the reset in a GRU without linear_before_reset: one bias.
    weights['r/bias'] = B ? B.data.subarray(0, GH).map((v, i) => v + B.data[GH + i]) : new Float32Array(GH);
    const g: Graph = { name, inputs: [x], outputs: [{ name: 'seq', node: seq }, { name: 'h', node: h }] };
    const got = interpret(g, { X: X.data }, weights, layout === 1 ? N : 1);
    // Y_h [1, N, H] or [N, 1, H] holds the last state in [N, H] order; Y (batchwise) [N, S, 1, H] the sequence.
    const wanted = outputs.length === 1 ? [['h', outputs[0]]] : [['seq', outputs[0]], ['h', outputs[1]]];
    for (const [key, want] of wanted as [string, { data: Float32Array }][]) {
      expect(Array.from(got[key] as Float32Array)).toBeAllclose(Array.from(want.data), { rtol: 1e-5, atol: 1e-6 });
    }
  });
});
