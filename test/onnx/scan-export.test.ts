// ONNX export of recurrent scans: a scan over recurrent.ts's cell is written as one ONNX
// LSTM/GRU/RNN node per direction (asserted on the file), runs in onnxruntime-node to what Kiln's
// reference interpreter computes (1e-5), and imports back into Kiln to the same values; a scan
// whose readers ONNX's LSTM cannot serve, or whose body is not the cell, is an ONNX Scan.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel } from '../../src/ir/shape.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { randomFloats } from '../e2e/helpers.ts';
import { inputNode, rnnBody } from '../ir/scan-fixtures.ts';
import { finalOfStacked, hSequence, loadOrt, ModelBuilder, nodeTypes, runOrt } from './scan-helpers.ts';

const ort = await loadOrt();
if (!ort) console.warn('onnxruntime-node cannot load here: the onnxruntime checks are skipped');

const N = 3;
const [T, F, H] = [5, 4, 3];

interface Case {
  graph: Graph;
  weights: Record<string, Float32Array>;
  /** ONNX node types the file must hold (each at least once), and ones it must not. */
  has: string[];
  hasNot: string[];
  /** Why Kiln's import cannot read this file back yet (onnxruntime still checks it). */
  noImport?: string;
}

/** Exports, checks the node types, runs in onnxruntime and imports back: every output within 1e-5 of the interpreter. */
async function check(c: Case): Promise<void> {
  const feeds = Object.fromEntries(c.graph.inputs.map((n, i) => [String(n.attrs.name), randomFloats(numel(n.type.shape, N), 90 + i, -1, 1)]));
  const expected = interpret(c.graph, feeds, c.weights, N);
  const bytes = exportOnnx(c.graph, c.weights);
  const types = nodeTypes(bytes);
  for (const t of c.has) expect(types, `${t} in ${types.join(' ')}`).toContain(t);
  for (const t of c.hasNot) expect(types, `no ${t} in ${types.join(' ')}`).not.toContain(t);
  const shapes = Object.fromEntries(c.graph.inputs.map((n) => [String(n.attrs.name), n.type.shape.map((d) => (d === 'N' ? N : (d as number)))]));
  if (ort) {
    const got = await runOrt(ort, bytes, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { data: v as Float32Array, dims: shapes[k] }])));
    for (const o of c.graph.outputs) expect(got[o.name], `onnxruntime: ${o.name}`).toBeAllclose(expected[o.name], { rtol: 1e-5, atol: 1e-5 });
  }
  if (c.noImport) return;
  const back = importOnnx(bytes, { inputShapes: shapes });
  const again = interpret(back, feeds, {}, N);
  for (const o of c.graph.outputs) expect(again[o.name], `imported back: ${o.name}`).toBeAllclose(expected[o.name], { rtol: 1e-5, atol: 1e-5 });
}

const concat = (parts: Node[], axis: number) => makeNode('concat', parts, { axis });

describe('ONNX export of recurrent scans as LSTM/GRU/RNN nodes', () => {
  it('simpleRnn, every step: one RNN node, no projection MatMul left', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('rnn', x, { kind: 'rnn', units: H, stack: true });
    await check({ graph: m.graph('rnn', { y: s }), weights: m.weights, has: ['RNN'], hasNot: ['Scan', 'MatMul'] });
  });

  it('simpleRnn with relu, reverse, final state, initial state given, weights in ONNX layout (the importer\'s)', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('rnn', x, { kind: 'rnn', units: H, stack: false, reverse: true, initial: 'h0', onnxLayout: true, activations: { f: 'relu', g: 'tanh', h: 'tanh' } });
    await check({ graph: m.graph('rnn_relu', { h: s }), weights: m.weights, has: ['RNN'], hasNot: ['Scan'] });
  });

  for (const order of ['keras', 'pytorch', 'onnx'] as const) {
    it(`lstm (${order} gate order): sequence, last h and last c from the stacked carry`, async () => {
      const m = new ModelBuilder();
      const x = m.input('x', ['N', T, F]);
      const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: true, order });
      const outputs = { y: hSequence(s, 'lstm', H), h: finalOfStacked(s, 'h', H, false), c: finalOfStacked(s, 'c', H, false) };
      await check({ graph: m.graph('lstm', outputs), weights: m.weights, has: ['LSTM'], hasNot: ['Scan'] });
    });
  }

  it('lstm whose final c is read through a chain of slices (c of every step, then its last step, as the DSL reads it)', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: true, reverse: true });
    const cAll = makeNode('slice', [s], { starts: [H], ends: [2 * H], axes: [2] });
    const c = makeNode('reshape', [makeNode('slice', [cAll], { starts: [0], ends: [1], axes: [1] })], { shape: [-1, H] });
    await check({ graph: m.graph('lstm_chain', { y: hSequence(s, 'lstm', H), c }), weights: m.weights, has: ['LSTM'], hasNot: ['Scan'] });
  });

  it('lstm over a sequence-first [T, B, F] input (PyTorch\'s layout): X goes to the LSTM node untransposed', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', [T, 2, F]);
    const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: true, order: 'pytorch', sequenceFirst: true, initial: 'hc0' });
    const c = { graph: m.graph('lstm_tbf', { y: hSequence(s, 'lstm', H) }), weights: m.weights, has: ['LSTM'], hasNot: ['Scan', 'MatMul'] };
    await check(c);
    const lstmNode = onnx.ModelProto.decode(exportOnnx(c.graph, c.weights)).graph!.node!.find((n) => n.opType === 'LSTM')!;
    expect(lstmNode.input![0]).toBe('x');
  });

  it('lstm whose h is read with bounds counted from the end: the packed [h|c] rebuilt, so they still point at h', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: true });
    const y = makeNode('slice', [s], { starts: [-2 * H], ends: [-H], axes: [-1] });
    await check({ graph: m.graph('lstm_neg', { y }), weights: m.weights, has: ['LSTM', 'Pad'], hasNot: ['Scan'] });
  });

  it('lstm, reverse, final carry only, initial state given: the packed [h|c] as an output', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: false, reverse: true, initial: 'hc0' });
    await check({ graph: m.graph('lstm_final', { hc: s }), weights: m.weights, has: ['LSTM'], hasNot: ['Scan'] });
  });

  it('lstm with peepholes and clip (the importer\'s): one LSTM node', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: true, onnxLayout: true, order: 'onnx', peepholes: true, clip: 0.8, initial: 'hc0' });
    await check({ graph: m.graph('lstm_peep', { y: hSequence(s, 'lstm', H) }), weights: m.weights, has: ['LSTM'], hasNot: ['Scan', 'Pad'] });
  });

  for (const [label, order, lbr] of [
    ['Keras, reset before the product', 'keras', false],
    ['Keras reset_after', 'keras', true],
    ['PyTorch', 'pytorch', true],
    ['PyTorch order, reset before the product', 'pytorch', false],
  ] as const) {
    for (const reverse of [false, true]) {
      it(`gru (${label}), ${reverse ? 'reverse' : 'forward'}: one GRU node`, async () => {
        const m = new ModelBuilder();
        const x = m.input('x', ['N', T, F]);
        const s = m.cell('gru', x, { kind: 'gru', units: H, stack: true, order, linearBeforeReset: lbr, reverse, initial: reverse ? 'h0' : undefined });
        await check({ graph: m.graph('gru', { y: s, h: finalOfStacked(s, 'h', H, reverse) }), weights: m.weights, has: ['GRU'], hasNot: ['Scan'] });
      });
    }
  }

  it('bidirectional lstm: the forward and reverse scans share one LSTM node (direction bidirectional), sequences concatenated', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const fw = m.cell('bi_fw', x, { kind: 'lstm', units: H, stack: true });
    const bw = m.cell('bi_bw', x, { kind: 'lstm', units: H, stack: true, reverse: true });
    const y = concat([hSequence(fw, 'lstm', H), hSequence(bw, 'lstm', H)], 2);
    const h = concat([finalOfStacked(fw, 'h', H, false), finalOfStacked(bw, 'h', H, true)], 1);
    const c = { graph: m.graph('bilstm', { y, h }), weights: m.weights, has: ['LSTM'], hasNot: ['Scan'] };
    await check(c);
    const cells = onnx.ModelProto.decode(exportOnnx(c.graph, c.weights)).graph!.node!.filter((n) => n.opType === 'LSTM');
    expect(cells).toHaveLength(1);
    expect(new TextDecoder().decode(cells[0].attribute!.find((a) => a.name === 'direction')!.s!)).toBe('bidirectional');
  });

  it('a forward and a reverse cell that differ (activations) share one node; one with an initial state does not pair', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const fw = m.cell('rnn_fw', x, { kind: 'rnn', units: H, stack: true, activations: { f: 'relu', g: 'tanh', h: 'tanh' } });
    const bw = m.cell('rnn_bw', x, { kind: 'rnn', units: H, stack: false, reverse: true });
    const given = m.cell('rnn_given', x, { kind: 'rnn', units: H, stack: false, reverse: true, initial: 'h0' });
    const c = { graph: m.graph('birnn', { y: fw, h: bw, g: given }), weights: m.weights, has: ['RNN'], hasNot: ['Scan'] };
    await check(c);
    const dirs = onnx.ModelProto.decode(exportOnnx(c.graph, c.weights)).graph!.node!.filter((n) => n.opType === 'RNN').map((n) => new TextDecoder().decode(n.attribute!.find((a) => a.name === 'direction')!.s!));
    expect(dirs.sort()).toEqual(['bidirectional', 'reverse']);
  });

  it('two stacked gru layers: the second reads the first one\'s sequence', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const l1 = m.cell('gru_1', x, { kind: 'gru', units: H, stack: true, linearBeforeReset: true });
    const l2 = m.cell('gru_2', l1, { kind: 'gru', units: 2, stack: false, linearBeforeReset: true });
    const c = { graph: m.graph('gru2', { h: l2 }), weights: m.weights, has: ['GRU'], hasNot: ['Scan'] };
    await check(c);
    expect(nodeTypes(exportOnnx(c.graph, c.weights)).filter((t) => t === 'GRU')).toHaveLength(2);
  });
});

describe('ONNX export of recurrent scans that ONNX recurrent nodes cannot serve: ONNX Scan', () => {
  it('an LSTM whose c is read at a step other than the final one', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: true });
    await check({ graph: m.graph('lstm_c', { cs: makeNode('slice', [s], { starts: [H], ends: [2 * H], axes: [2] }) }), weights: m.weights, has: ['Scan', 'Expand'], hasNot: ['LSTM'] });
  });

  it('a stacked LSTM carry that is itself a graph output', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('lstm', x, { kind: 'lstm', units: H, stack: true, reverse: true });
    await check({ graph: m.graph('lstm_all', { hc: s }), weights: m.weights, has: ['Scan'], hasNot: ['LSTM'] });
  });

  it('a cell whose recurrent weights are a graph input (not known at export)', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('gru', x, { kind: 'gru', units: H, stack: true });
    // Swap the recurrent weights for an input of the same shape: the same cell, weights fed at run time.
    const r = m.input('r', [H, 3 * H]);
    const swapped = makeNode('scan', [s.inputs[0], s.inputs[1], r], s.attrs as Record<string, unknown>);
    await check({ graph: m.graph('gru_fed', { y: swapped }), weights: m.weights, has: ['Scan', 'MatMul'], hasNot: ['GRU'] });
  });

  it('a scan whose cell attribute claims what its body does not compute', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const s = m.cell('gru', x, { kind: 'gru', units: H, stack: true, linearBeforeReset: false });
    // The body is the reset-before-product GRU; the claim says linear before reset.
    const lying = makeNode('scan', s.inputs, { ...(s.attrs as Record<string, unknown>), cell: { ...(s.attrs.cell as object), linearBeforeReset: true } });
    await check({ graph: m.graph('gru_claim', { y: lying }), weights: m.weights, has: ['Scan'], hasNot: ['GRU'] });
  });

  it('a scan nested in a scan body: Scan inside Scan, the inner reading the weights through both scopes', async () => {
    const [T1, T2] = [3, 4];
    const m = new ModelBuilder();
    const xs = m.input('xs', ['N', T1, T2, H]);
    const h0 = m.input('h0', ['N', H]);
    const r = m.param('r', [H, H]);
    const inner = rnnBody(H);
    const [carry, seq, rIn] = [inputNode('carry', ['N', H]), inputNode('seq', ['N', T2, H]), inputNode('r_in', [H, H])];
    const innerScan = makeNode('scan', [carry, seq, rIn], { body: inner, steps: T2, reverse: false, sequenceCount: 1, stack: false });
    const outerBody: Graph = { name: 'outer_body', inputs: [carry, seq, rIn], outputs: [{ name: 'carry', node: innerScan }] };
    const y = makeNode('scan', [h0, xs, r], { body: outerBody, steps: T1, reverse: true, sequenceCount: 1, stack: true });
    const c = { graph: m.graph('nested', { y }), weights: m.weights, has: ['Scan'], hasNot: [] };
    await check(c);
    const body = onnx.ModelProto.decode(exportOnnx(c.graph, c.weights)).graph!.node!.find((n) => n.opType === 'Scan')!.attribute!.find((a) => a.name === 'body')!.g!;
    expect((body.node ?? []).map((n) => n.opType)).toContain('Scan');
  });

  it('a zero state over the batch in a graph without a batched input is refused, naming the layer', () => {
    const zero = makeNode('expand', [makeNode('const', [], { dtype: 'float32', shape: [], values: [0] })], { shape: ['N', 3] }, { layer: 'state' });
    const x = inputNode('x', [3]);
    const g: Graph = { name: 'nobatch', inputs: [x], outputs: [{ name: 'y', node: makeNode('add', [zero, x]) }] };
    expect(() => exportOnnx(g, {})).toThrow(/layer 'state' \(expand\): needs the batch size, but graph 'nobatch' has no input with a batch dimension/);
  });

  it('every opset Kiln writes (13 to 22): recurrent nodes and Scan run in onnxruntime to the same values', async () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const fw = m.cell('bi_fw', x, { kind: 'lstm', units: H, stack: true });
    const bw = m.cell('bi_bw', x, { kind: 'lstm', units: H, stack: true, reverse: true });
    const g = m.cell('gru', hSequence(fw, 'lstm', H), { kind: 'gru', units: H, stack: false, linearBeforeReset: true });
    const general = m.cell('lstm_c', x, { kind: 'lstm', units: H, stack: true });
    const outputs = { y: concat([hSequence(fw, 'lstm', H), hSequence(bw, 'lstm', H)], 2), h: g, cs: makeNode('slice', [general], { starts: [H], ends: [2 * H], axes: [2] }) };
    const graph = m.graph('opsets', outputs);
    const feeds = { x: randomFloats(N * T * F, 5, -1, 1) };
    const want = interpret(graph, feeds, m.weights, N);
    for (const opset of [13, 14, 16, 18, 19, 21, 22]) {
      const bytes = exportOnnx(graph, m.weights, { opset });
      expect(nodeTypes(bytes).filter((t) => ['LSTM', 'GRU', 'Scan'].includes(t)).sort()).toEqual(['GRU', 'LSTM', 'Scan']);
      if (!ort) continue;
      const got = await runOrt(ort, bytes, { x: { data: feeds.x, dims: [N, T, F] } });
      for (const k of Object.keys(outputs)) expect(got[k], `opset ${opset}: ${k}`).toBeAllclose(want[k], { rtol: 1e-5, atol: 1e-5 });
    }
  });

  it('a scan without sequences (steps counted by a tick input ONNX Scan needs)', async () => {
    const h = inputNode('h', ['N', H]);
    const rIn = inputNode('r_in', [H, H]);
    const body: Graph = { name: 'decay', inputs: [h, rIn], outputs: [{ name: 'h', node: makeNode('tanh', [makeNode('matmul', [h, rIn])]) }] };
    const m = new ModelBuilder();
    const h0 = m.input('h0', ['N', H]);
    const r = m.param('r', [H, H]);
    const y = makeNode('scan', [h0, r], { body, steps: 4, reverse: true, sequenceCount: 0, stack: true });
    await check({ graph: m.graph('no_seq', { y }), weights: m.weights, has: ['Scan'], hasNot: [] });
  });

  it('a cell whose weights are missing or misshapen is refused by the parameter\'s own error, naming it', () => {
    const m = new ModelBuilder();
    const x = m.input('x', ['N', T, F]);
    const g = m.graph('lstm_w', { y: hSequence(m.cell('lstm', x, { kind: 'lstm', units: H, stack: true }), 'lstm', H) });
    const { ['lstm/recurrentKernel']: _dropped, ...missing } = m.weights;
    expect(() => exportOnnx(g, missing)).toThrow(/no weights for parameter 'lstm\/recurrentKernel'/);
    expect(() => exportOnnx(g, { ...m.weights, 'lstm/kernel': new Float32Array(3) })).toThrow(/parameter 'lstm\/kernel' has 3 values, its shape \[4, 12\] needs 48/);
  });
});
