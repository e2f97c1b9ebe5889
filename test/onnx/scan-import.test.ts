// ONNX Scan imported as Kiln's `scan` (src/onnx/ops-scan.ts): ONNX's own scan9_sum body (running
// sums), scanned axes and directions, a state the body passes through as an invariant, a Kiln
// scan exported and read back (outer-scope weights), each against sums and loops written by
// hand; the shapes it refuses, and Loop. Most cases run the op mapping through a context built
// here, as the importer builds one (outer-scope lookup and body import); the last goes through
// the importer itself.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { UnsupportedError } from '../../src/ir/errors.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import type { OnnxContext } from '../../src/onnx/context.ts';
// Through the importer's table, where Scan is registered.
import { ONNX_OPS } from '../../src/onnx/ops.ts';
import { importModel } from '../../src/onnx/import.ts';
import { onnx, type GraphProto, type ModelProto, type NodeProto } from '../../src/onnx/proto.ts';
import { rnnByHand, rnnScan, values } from '../ir/scan-fixtures.ts';

const F32 = onnx.TensorProto.DataType.FLOAT;
const info = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: F32, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const node = (opType: string, input: string[], output: string[]): NodeProto => ({ opType, input, output, name: output[0] });

/** Runs the Scan mapping on Kiln nodes by name, as the importer would, with outer-scope names resolved from `values`. */
function runScan(inputs: string[], outputs: string[], attrs: Record<string, unknown>, vals: Record<string, Node>, opType = 'Scan', opset = 17): Node[] {
  const label = `node "s" (${opType}, opset ${opset})`;
  const ctx: OnnxContext & { outer(name: string): Node | undefined; importBody(g: GraphProto, s: Readonly<Record<string, readonly number[]>>, name: string): Graph } = {
    opType,
    opset,
    label,
    count: inputs.length,
    has: (i) => i < inputs.length && inputs[i] !== '',
    input: (i) => vals[inputs[i]],
    constant: () => undefined,
    wantsOutput: (k) => k < outputs.length && outputs[k] !== '',
    elemType: () => undefined,
    attr: (name) => attrs[name],
    emit: (op, ins, a = {}) => makeNode(op, ins, a, { layer: 's' }),
    constNode: () => {
      throw new Error('not used');
    },
    strings: () => {
      throw new Error('not used');
    },
    unsupported: (why) => {
      throw new UnsupportedError(`${label}: ${why}`);
    },
    outer: (name) => vals[name],
    importBody: (graph, inputShapes, name) => importModel({ graph, opsetImport: [{ domain: '', version: opset }] } as ModelProto, { inputShapes, name }),
  };
  const r = ONNX_OPS[opType](ctx);
  return (Array.isArray(r) ? r : [r]) as Node[];
}

const leaf = (name: string, shape: number[]) => makeNode('input', [], { name, dtype: 'float32', shape });

/** ONNX's scan9_sum body: sum_out = sum_in + next; scan_out = sum_out. */
function sumBody(width: number): GraphProto {
  return {
    name: 'sum_body',
    input: [info('sum_in', [width]), info('next', [width])],
    output: [info('sum_out', [width]), info('scan_out', [width])],
    node: [node('Add', ['sum_in', 'next'], ['sum_out']), node('Identity', ['sum_out'], ['scan_out'])],
  };
}

function evaluate(inputs: Node[], outputs: Record<string, Node>, feeds: Record<string, Float32Array>): Record<string, number[]> {
  const graph: Graph = { name: 'g', inputs, outputs: Object.entries(outputs).map(([name, n]) => ({ name, node: n })) };
  const out = interpret(graph, feeds, {}, 1);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v)]));
}

describe('ONNX Scan import', () => {
  // x is [T = 3, 2] scanned on axis 0 (ONNX's default), as in ONNX's test_scan9_sum.
  const init = Float32Array.from([1, 2]);
  const x = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const close = (v: number[]) => v.map((e) => expect.closeTo(e, 5));

  it('scan9_sum: running sums on axis 0, the final sum and every step', () => {
    const [i, xs] = [leaf('initial', [2]), leaf('x', [3, 2])];
    const [final, steps] = runScan(['initial', 'x'], ['y', 'z'], { body: sumBody(2), num_scan_inputs: 1 }, { initial: i, x: xs });
    const got = evaluate([i, xs], { y: final, z: steps }, { initial: init, x });
    expect(got.y).toEqual(close([1 + 1 + 3 + 5, 2 + 2 + 4 + 6]));
    expect(got.z).toEqual(close([2, 4, 5, 8, 10, 14]));
  });

  it('reverse input, outputs appended in iteration order (direction 0) or prepended (1), on axis 1', () => {
    const [i, xs] = [leaf('initial', [2]), leaf('x', [3, 2])];
    const attrs = { body: sumBody(2), num_scan_inputs: 1, scan_input_directions: [1] };
    const [, appended] = runScan(['initial', 'x'], ['', 'z'], attrs, { initial: i, x: xs });
    const [, prepended] = runScan(['initial', 'x'], ['', 'z'], { ...attrs, scan_output_directions: [1], scan_output_axes: [1] }, { initial: i, x: xs });
    const got = evaluate([i, xs], { a: appended, p: prepended }, { initial: init, x });
    // Iterations visit rows 2, 1, 0: sums (6, 8), (9, 12), (10, 14).
    expect(got.a).toEqual(close([6, 8, 9, 12, 10, 14]));
    // Prepended: row t holds the sum after visiting row t, [3, 2] read with time on axis 1: [2, 3].
    expect(got.p).toEqual(close([10, 9, 6, 14, 12, 8]));
  });

  it('a state passed through unchanged is an invariant: an RNN against a naive loop', () => {
    const [N, T, H] = [2, 4, 3];
    const body: GraphProto = {
      name: 'rnn_body',
      input: [info('h', [N, H]), info('r', [H, H]), info('x_t', [N, H])],
      output: [info('h_next', [N, H]), info('r_next', [H, H]), info('h_all', [N, H])],
      node: [node('MatMul', ['h', 'r'], ['hr']), node('Add', ['hr', 'x_t'], ['pre']), node('Tanh', ['pre'], ['h_next']), node('Identity', ['r'], ['r_next']), node('Identity', ['h_next'], ['h_all'])],
    };
    const [h0, r, xs] = [leaf('h0', [N, H]), leaf('r', [H, H]), leaf('xs', [N, T, H])];
    const outs = runScan(['h0', 'r', 'xs'], ['h', 'r_out', 'ys'], { body, num_scan_inputs: 1, scan_input_axes: [1], scan_output_axes: [1] }, { h0, r, xs });
    expect(outs[1]).toBe(r);
    const feeds = { h0: values(N * H, 1), r: values(H * H, 2), xs: values(N * T * H, 3) };
    const got = evaluate([h0, r, xs], { h: outs[0], ys: outs[2] }, feeds);
    const want = rnnByHand(feeds.h0, feeds.xs, feeds.r, N, T, H, false);
    expect(got.ys).toEqual(close(want.stacked));
    expect(got.h).toEqual(close(want.last));
  });

  for (const reverse of [false, true]) {
    it(`a Kiln scan exported as ONNX Scan reads back (${reverse ? 'reverse' : 'forward'}; weights from the outer scope)`, () => {
      const [N, T, H] = [2, 5, 3];
      const { graph } = rnnScan(T, H, { reverse, stack: true });
      const model = onnx.ModelProto.decode(exportOnnx(graph, {}));
      const s = model.graph!.node!.find((n) => n.opType === 'Scan')!;
      const attrs = Object.fromEntries(s.attribute!.map((a) => [a.name, a.g ?? (a.ints?.length ? a.ints.map(Number) : Number(a.i))]));
      const vals = { h0: leaf('h0', [N, H]), xs: leaf('xs', [N, T, H]), r: leaf('r', [H, H]) };
      const outs = runScan(s.input!, s.output!, attrs, vals);
      const feeds = { h0: values(N * H, 4), xs: values(N * T * H, 5), r: values(H * H, 6) };
      const got = evaluate(Object.values(vals), { y: outs[1] }, feeds);
      expect(got.y).toEqual(close(rnnByHand(feeds.h0, feeds.xs, feeds.r, N, T, H, reverse).stacked));
    });
  }

  it('a Kiln scan without sequences (exported with a tick input the body never reads) reads back', () => {
    const [N, T, H] = [2, 3, 3];
    const h = makeNode('input', [], { name: 'h', dtype: 'float32', shape: ['N', H] });
    const rIn = makeNode('input', [], { name: 'r_in', dtype: 'float32', shape: [H, H] });
    const body: Graph = { name: 'decay', inputs: [h, rIn], outputs: [{ name: 'h', node: makeNode('tanh', [makeNode('matmul', [h, rIn])]) }] };
    const [h0, r] = [makeNode('input', [], { name: 'h0', dtype: 'float32', shape: ['N', H] }), makeNode('input', [], { name: 'r', dtype: 'float32', shape: [H, H] })];
    const y = makeNode('scan', [h0, r], { body, steps: T, reverse: false, sequenceCount: 0, stack: true });
    const model = onnx.ModelProto.decode(exportOnnx({ name: 'g', inputs: [h0, r], outputs: [{ name: 'y', node: y }] }, {}));
    const s = model.graph!.node!.find((n) => n.opType === 'Scan')!;
    const tick = model.graph!.initializer!.find((t) => t.name === s.input![1])!;
    const attrs = Object.fromEntries(s.attribute!.map((a) => [a.name, a.g ?? (a.ints?.length ? a.ints.map(Number) : Number(a.i))]));
    const vals = { h0: leaf('h0', [N, H]), r: leaf('r', [H, H]), [s.input![1]]: leaf('tick', tick.dims!.map(Number)) };
    const outs = runScan(s.input!, s.output!, attrs, vals);
    const feeds = { h0: values(N * H, 10), r: values(H * H, 11), tick: new Float32Array(T) };
    const got = evaluate(Object.values(vals), { y: outs[1] }, feeds);
    // By hand: h_t = tanh(h_{t-1} · R), every step kept, [N, T, H].
    const want: number[] = [];
    for (let n = 0; n < N; n++) {
      let cur = Array.from(feeds.h0.subarray(n * H, (n + 1) * H));
      for (let t = 0; t < T; t++) {
        cur = Array.from({ length: H }, (_, j) => Math.tanh(cur.reduce((acc, v, i) => acc + v * feeds.r[i * H + j], 0)));
        want.push(...cur);
      }
    }
    expect(got.y).toEqual(close(want));
  });

  it('refuses, naming the node: two carries, a scan output that is not the carry, mixed directions, a body read it cannot resolve', () => {
    const [i, j, xs] = [leaf('initial', [2]), leaf('other', [2]), leaf('x', [3, 2])];
    const two: GraphProto = {
      name: 'b',
      input: [info('a', [2]), info('b', [2]), info('n', [2])],
      output: [info('a2', [2]), info('b2', [2])],
      node: [node('Add', ['a', 'n'], ['a2']), node('Sub', ['b', 'n'], ['b2'])],
    };
    expect(() => runScan(['initial', 'other', 'x'], ['p', 'q'], { body: two, num_scan_inputs: 1 }, { initial: i, other: j, x: xs })).toThrow(/node "s" \(Scan, opset 17\): Kiln's scan threads one carry; this Scan updates 2 state variables/);
    const notCarry: GraphProto = { ...sumBody(2), output: [info('sum_out', [2]), info('next', [2])] };
    expect(() => runScan(['initial', 'x'], ['y', 'z'], { body: notCarry, num_scan_inputs: 1 }, { initial: i, x: xs })).toThrow(/scan output 0 is not the carry's new value/);
    const both = leaf('y2', [3, 2]);
    const twoSeq: GraphProto = { ...sumBody(2), input: [...sumBody(2).input!, info('m', [2])] };
    expect(() => runScan(['initial', 'x', 'y2'], ['y'], { body: twoSeq, num_scan_inputs: 2, scan_input_directions: [0, 1] }, { initial: i, x: xs, y2: both })).toThrow(/scan inputs run in different directions/);
    const short: GraphProto = { ...sumBody(2), output: [] };
    expect(() => runScan(['initial', 'x'], ['y'], { body: short, num_scan_inputs: 1 }, { initial: i, x: xs })).toThrow(/the body has 0 output\(s\), fewer than the 1 state variable\(s\)/);
    expect(() => runScan(['initial', 'x'], ['y'], { body: sumBody(2), num_scan_inputs: 5 }, { initial: i, x: xs })).toThrow(/expected 2 body inputs/);
    const reads: GraphProto = { ...sumBody(2), node: [node('Add', ['sum_in', 'bias'], ['sum_out']), node('Identity', ['sum_out'], ['scan_out'])] };
    expect(() => runScan(['initial', 'x'], ['y'], { body: reads, num_scan_inputs: 1 }, { initial: i, x: xs })).toThrow(/reads 'bias' from the enclosing graph/);
  });

  it('refuses bodies nested deeper than 32 levels, naming the node', () => {
    let body = sumBody(2);
    for (let k = 0; k < 40; k++) {
      const outer: GraphProto = {
        name: `level${k}`,
        input: [info('sum_in', [2]), info('next', [2])],
        output: [info('sum_out', [2])],
        node: [node('Unsqueeze', ['next', 'one'], ['next2']), { opType: 'Scan', name: `inner${k}`, input: ['sum_in', 'next2'], output: ['sum_out'], attribute: [{ name: 'body', type: 5, g: body }, { name: 'num_scan_inputs', type: 2, i: 1 }] }],
        initializer: [{ name: 'one', dims: [1], dataType: onnx.TensorProto.DataType.INT64, int64Data: [0] }],
      };
      body = outer;
    }
    const [i, xs] = [leaf('initial', [2]), leaf('x', [3, 2])];
    expect(() => runScan(['initial', 'x'], ['y'], { body, num_scan_inputs: 1 }, { initial: i, x: xs })).toThrow(/\(Scan, opset 17\): Scan bodies nested more than 32 deep are not supported/);
  });

  it('refuses Loop with the reason, as an UnsupportedError', () => {
    expect(() => runScan(['', ''], ['y'], {}, {}, 'Loop')).toThrow(UnsupportedError);
    expect(() => runScan(['', ''], ['y'], {}, {}, 'Loop')).toThrow(/Loop \(a trip count or condition computed at run time\) is not supported/);
  });

  it('a Kiln scan exported as ONNX Scan imports back through importOnnxBatched with the batch symbolic', () => {
    const [N, T, H] = [2, 4, 3];
    const { graph } = rnnScan(T, H, { reverse: true });
    const back = importOnnxBatched(exportOnnx(graph, {}));
    expect(back.batchAxes).toBeUndefined();
    expect(back.inputs.map((n) => n.type.shape)).toEqual([['N', H], ['N', T, H], [H, H]]);
    const feeds = { h0: values(N * H, 7), xs: values(N * T * H, 8), r: values(H * H, 9) };
    const got = interpret(back, feeds, {}, N)[back.outputs[0].name];
    expect(Array.from(got)).toEqual(close(rnnByHand(feeds.h0, feeds.xs, feeds.r, N, T, H, true).stacked));
  });
});
