// PyTorch-style recurrent exports import: LSTM/GRU nodes fed zero initial states built at run time
// (Shape → Gather → Unsqueeze → Concat → ConstantOfShape), sequence-first [T, N, F] (batch fixed
// by the user, with a clear error otherwise) and batch-first (layout 1, batch kept symbolic);
// checked against naive loops from PyTorch's formulas, and against the DSL layer on the same weights.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm } from '../../src/dsl/recurrent.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { Lcg } from '../reference/lcg.ts';
import { reference, toKernel, toBias, type TorchWeights } from '../dsl/recurrent-reference.ts';

const DT = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
const sym = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: DT.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
const int64 = (name: string, values: number[], dims = [values.length]) => ({ name, dataType: DT.INT64, dims, int64Data: values });
const floats = (name: string, dims: number[], values: ArrayLike<number>) => ({ name, dataType: DT.FLOAT, dims, floatData: Array.from(values) });

const T = 4;
const F = 3;
const H = 2;
type Kind = 'lstm' | 'gru';
const G = { lstm: 4, gru: 3 };
/** PyTorch's gate block at each ONNX position: LSTM i,o,f,c from i,f,g,o; GRU z,r,h from r,z,n. */
const ONNX_FROM_TORCH = { lstm: [0, 3, 1, 2], gru: [1, 0, 2] };

/** A PyTorch [G·H, cols] matrix with its row blocks in ONNX's gate order. */
function onnxRows(kind: Kind, m: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(m.length);
  ONNX_FROM_TORCH[kind].forEach((src, pos) => out.set(m.subarray(src * H * cols, (src + 1) * H * cols), pos * H * cols));
  return out;
}

function torchWeights(kind: Kind, rng: Lcg): TorchWeights {
  const n = G[kind] * H;
  return { wIh: rng.array(n * F, -0.7, 0.7), wHh: rng.array(n * H, -0.7, 0.7), bIh: rng.array(n, -0.3, 0.3), bHh: rng.array(n, -0.3, 0.3) };
}

/**
 * What torch.onnx.export writes for nn.LSTM/nn.GRU called without initial states: zero states
 * [1, N, H] (or [N, 1, H] batch-first) made from the input's run-time shape, the node, then Y.
 */
function exported(kind: Kind, w: TorchWeights, batchFirst: boolean): Uint8Array {
  const n = G[kind] * H;
  const batchAt = batchFirst ? 0 : 1;
  const stateDims = batchFirst ? ['n1', 'one', 'hidden'] : ['one', 'n1', 'hidden'];
  const rnnInputs = ['x', 'W', 'R', 'B', '', 'h0', ...(kind === 'lstm' ? ['h0'] : [])];
  const attrs = [{ name: 'hidden_size', type: A.INT, i: H }, ...(batchFirst ? [{ name: 'layout', type: A.INT, i: 1 }] : []), ...(kind === 'gru' ? [{ name: 'linear_before_reset', type: A.INT, i: 1 }] : [])];
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      opsetImport: [{ version: 14 }],
      graph: {
        input: [sym('x', batchFirst ? ['batch', T, F] : [T, 'batch', F])],
        output: [sym('y', batchFirst ? ['batch', T, 1, H] : [T, 1, 'batch', H]), sym('hn', batchFirst ? ['batch', 1, H] : [1, 'batch', H])],
        initializer: [
          int64('at', [batchAt], []),
          int64('axes', [0]),
          int64('one', [1]),
          int64('hidden', [H]),
          floats('W', [1, n, F], onnxRows(kind, w.wIh, F)),
          floats('R', [1, n, H], onnxRows(kind, w.wHh, H)),
          floats('B', [1, 2 * n], [...onnxRows(kind, w.bIh, 1), ...onnxRows(kind, w.bHh, 1)]),
        ],
        node: [
          { opType: 'Shape', input: ['x'], output: ['shape'] },
          { opType: 'Gather', input: ['shape', 'at'], output: ['n'], attribute: [{ name: 'axis', type: A.INT, i: 0 }] },
          { opType: 'Unsqueeze', input: ['n', 'axes'], output: ['n1'] },
          { opType: 'Concat', input: stateDims, output: ['state_shape'], attribute: [{ name: 'axis', type: A.INT, i: 0 }] },
          { opType: 'ConstantOfShape', input: ['state_shape'], output: ['h0'], attribute: [{ name: 'value', type: A.TENSOR, t: floats('', [1], [0]) }] },
          { opType: kind === 'lstm' ? 'LSTM' : 'GRU', input: rnnInputs, output: ['y', 'hn'], attribute: attrs },
        ],
      },
    }),
  ).finish();
}

const run = (g: Graph, x: Float32Array, batch: number) => interpret(g, { x }, {}, batch) as Record<string, Float32Array>;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-5) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThan(tol);
}

/** x [N, T, F] as [T, N, F]. */
function seqFirst(x: Float64Array, N: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let n = 0; n < N; n++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) out[(t * N + n) * F + f] = x[(n * T + t) * F + f];
  return out;
}

beforeEach(() => resetLayerNames());

describe.each(['lstm', 'gru'] as const)('a PyTorch-style %s export with run-time zero states', (kind) => {
  const w = torchWeights(kind, new Lcg(kind === 'lstm' ? 21 : 22));

  it('batch-first (layout 1): imports with the batch symbolic and matches the formulas at batch 1 and 3', () => {
    const g = importOnnxBatched(exported(kind, w, true));
    expect(g.inputs[0].type.shape).toEqual(['N', T, F]);
    expect(g.outputs.map((o) => o.node.type.shape)).toEqual([['N', T, 1, H], ['N', 1, H]]);
    for (const N of [1, 3]) {
      const x = new Lcg(N).array(N * T * F, -1, 1);
      const got = run(g, Float32Array.from(x), N);
      const ref = reference(kind, x, N, T, F, H, w);
      expectClose(got.y, ref.seq);
      expectClose(got.hn, ref.h);
    }
  });

  it('sequence-first [T, N, F]: per sample without a size (seq-batch-axis.test.ts), the formulas with one', () => {
    const bytes = exported(kind, w, false);
    expect(importOnnxBatched(bytes).batchAxes).toEqual({ inputs: [1], outputs: [2, 1] });
    const N = 2;
    const g = importOnnxBatched(bytes, { inputShapes: { x: [T, N, F] } });
    expect(g.inputs[0].type.shape).toEqual([T, N, F]);
    const x = new Lcg(5).array(N * T * F, -1, 1);
    const got = run(g, Float32Array.from(seqFirst(x, N)), 1);
    const ref = reference(kind, x, N, T, F, H, w);
    expectClose(got.y, reorderSeq(ref.seq, N));
    expectClose(got.hn, ref.h);
  });

  it('the DSL layer with the same weights (gate order onnx) computes what the import computes', () => {
    const x = input([T, F], { name: 'x' });
    const y = kind === 'lstm' ? lstm(x, H, { name: 'r', gateOrder: 'onnx', returnSequences: true }) : gru(x, H, { name: 'r', gateOrder: 'onnx', returnSequences: true });
    const dsl: Graph = { name: 'dsl', inputs: [x], outputs: [{ name: 'y', node: y }] };
    const weights: Record<string, Float32Array> = {
      'r/kernel': toKernel(kind, w.wIh, H, F, 'onnx'),
      'r/recurrentKernel': toKernel(kind, w.wHh, H, H, 'onnx'),
    };
    if (kind === 'gru') {
      weights['r/bias'] = toBias(kind, w.bIh, H, 'onnx');
      weights['r/recurrentBias'] = toBias(kind, w.bHh, H, 'onnx');
    } else weights['r/bias'] = toBias(kind, w.bIh.map((v, i) => v + w.bHh[i]), H, 'onnx');
    const N = 3;
    const xv = Float32Array.from(new Lcg(9).array(N * T * F, -1, 1));
    const fromDsl = interpret(dsl, { x: xv }, weights, N).y;
    const fromOnnx = run(importOnnxBatched(exported(kind, w, true)), xv, N).y;
    expectClose(fromDsl as Float32Array, fromOnnx, 1e-6);
  });
});

/** Y of a sequence-first node, [T, 1, N, H], from the reference's [N, T, H]. */
function reorderSeq(seq: Float64Array, N: number): Float64Array {
  const out = new Float64Array(seq.length);
  for (let n = 0; n < N; n++) for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) out[(t * N + n) * H + j] = seq[(n * T + t) * H + j];
  return out;
}

describe('real torch.onnx.export files (fixtures/make-pytorch-rnn.py; PyTorch 1.13, opset 14)', () => {
  const fixture = (stem: string) => ({
    bytes: new Uint8Array(readFileSync(new URL(`./fixtures/${stem}.onnx`, import.meta.url))),
    expected: JSON.parse(readFileSync(new URL(`./fixtures/${stem}.json`, import.meta.url), 'utf8')) as { x: number[]; xShape: number[]; y: number[]; h: number[] },
  });
  for (const kind of ['lstm', 'gru']) {
    for (const layout of ['seq-first', 'batch-first']) {
      it(`nn.${kind.toUpperCase()} ${layout}: imports at the batch given and computes PyTorch's outputs`, () => {
        const { bytes, expected } = fixture(`torch-${kind}-${layout}`);
        const g = importOnnxBatched(bytes, { inputShapes: { x: expected.xShape } });
        const got = run(g, Float32Array.from(expected.x), 1);
        expectClose(got.y, expected.y, 1e-5);
        expectClose(got.h, expected.h, 1e-5);
      });
    }
  }

  it('without a batch size: a sequence-first file, and a batch-first one whose batch moves inside, import per sample', () => {
    expect(importOnnxBatched(fixture('torch-lstm-seq-first').bytes).batchAxes).toEqual({ inputs: [1], outputs: [1, 1] });
    // PyTorch transposes a batch-first input to sequence-first around the node and returns h [1, N, H].
    expect(importOnnxBatched(fixture('torch-gru-batch-first').bytes).batchAxes).toEqual({ inputs: [0], outputs: [0, 1] });
  });
});

describe('Range and Expand (src/onnx/ops-shape.ts)', () => {
  /** y = op(...) of a graph with input x [batch, 3] and the given initializers and nodes. */
  const model = (initializer: object[], node: object[], outDims: (number | string)[]) =>
    onnx.ModelProto.encode(onnx.ModelProto.create({ opsetImport: [{ version: 13 }], graph: { input: [sym('x', ['batch', 3])], output: [sym('y', outDims)], initializer, node } })).finish();

  it('Range(1, 7, 2) is [1, 3, 5], added to x at batch 1 and 2', () => {
    const bytes = model([floats('start', [], [1]), floats('limit', [], [7]), floats('delta', [], [2])], [
      { opType: 'Range', input: ['start', 'limit', 'delta'], output: ['r'] },
      { opType: 'Add', input: ['x', 'r'], output: ['y'] },
    ], ['batch', 3]);
    const g = importOnnxBatched(bytes);
    for (const N of [1, 2]) {
      const x = Float32Array.from({ length: 3 * N }, (_, i) => i / 10);
      expect(Array.from(run(g, x, N).y)).toBeAllclose(Array.from(x, (v, i) => v + [1, 3, 5][i % 3]));
    }
  });

  it('Range with delta 0 is a clear error', () => {
    const bytes = model([floats('start', [], [1]), floats('limit', [], [7]), floats('delta', [], [0])], [
      { opType: 'Range', input: ['start', 'limit', 'delta'], output: ['r'] },
      { opType: 'Add', input: ['x', 'r'], output: ['y'] },
    ], ['batch', 3]);
    expect(() => importOnnxBatched(bytes)).toThrow(/delta must be a finite nonzero number, got 0/);
  });

  it('Expand broadcasts both ways ([3] with [2, 1, 1] → [2, 1, 3]) and to the run-time shape of x', () => {
    const both = model([floats('c', [3], [1, 2, 3]), int64('to', [2, 1, 1])], [
      { opType: 'Expand', input: ['c', 'to'], output: ['e'] },
      { opType: 'Mul', input: ['e', 'x'], output: ['y'] },
    ], [2, 'batch', 3]);
    // x [1, 3] here: the batch is 1 and fixed, so the product has shape [2, 1, 3].
    const g = importOnnxBatched(both, { inputShapes: { x: [1, 3] } });
    expect(g.outputs[0].node.type.shape).toEqual([2, 1, 3]);
    expect(Array.from(run(g, Float32Array.from([1, 10, 100]), 1).y)).toEqual([1, 20, 300, 1, 20, 300]);
    // Shape(x) → Expand: a constant row repeated over the batch, at batch 1 and 4.
    const batched = model([floats('c', [3], [1, 2, 3])], [
      { opType: 'Shape', input: ['x'], output: ['s'] },
      { opType: 'Expand', input: ['c', 's'], output: ['e'] },
      { opType: 'Add', input: ['e', 'x'], output: ['y'] },
    ], ['batch', 3]);
    const gb = importOnnxBatched(batched);
    expect(gb.outputs[0].node.type.shape).toEqual(['N', 3]);
    for (const N of [1, 4]) expect(Array.from(run(gb, new Float32Array(3 * N), N).y)).toEqual(Array.from({ length: 3 * N }, (_, i) => [1, 2, 3][i % 3]));
  });
});
