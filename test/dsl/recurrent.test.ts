// The DSL's simpleRnn, lstm and gru against naive loops written from PyTorch's formulas
// (recurrent-reference.ts): every gate order, both GRU variants, bidirectional, stacked, initial
// states, returnSequences/returnState, sequence-first input, the sequential form, and bad options.
import { beforeEach, describe, expect, it } from 'vitest';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm, simpleRnn, type RecurrentOptions } from '../../src/dsl/recurrent.ts';
import { layers, sequential } from '../../src/dsl/sequential.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { Lcg } from '../reference/lcg.ts';
import { reference, toBias, toKernel, type Kind, type TorchWeights } from './recurrent-reference.ts';

const G: Record<Kind, number> = { rnn: 1, lstm: 4, gru: 3 };
const LAYER = { rnn: simpleRnn, lstm, gru } as const;

function torchWeights(kind: Kind, F: number, H: number, rng: Lcg): TorchWeights {
  const n = G[kind] * H;
  return { wIh: rng.array(n * F, -0.6, 0.6), wHh: rng.array(n * H, -0.6, 0.6), bIh: rng.array(n, -0.3, 0.3), bHh: rng.array(n, -0.3, 0.3) };
}

/** Kiln's weights for one direction from PyTorch's (biases merged where the cell adds them). */
function kilnWeights(kind: Kind, w: TorchWeights, F: number, H: number, order: 'pytorch' | 'keras' | 'onnx', prefix: string, lbr: boolean): Record<string, Float32Array> {
  const sum = w.bIh.map((v, i) => v + w.bHh[i]);
  const out: Record<string, Float32Array> = {
    [`${prefix}kernel`]: toKernel(kind, w.wIh, H, F, order),
    [`${prefix}recurrentKernel`]: toKernel(kind, w.wHh, H, H, order),
  };
  if (kind === 'gru' && lbr) {
    out[`${prefix}bias`] = toBias(kind, w.bIh, H, order);
    out[`${prefix}recurrentBias`] = toBias(kind, w.bHh, H, order);
  } else out[`${prefix}bias`] = toBias(kind, Float64Array.from(sum), H, order);
  return out;
}

function run(inputs: Node[], outputs: Node[], feeds: Record<string, Float32Array>, weights: Record<string, Float32Array>, batch: number): Float64Array[] {
  const g: Graph = { name: 'rnn', inputs, outputs: outputs.map((node, i) => ({ name: `y${i}`, node })) };
  const r = interpret(g, feeds, weights, batch);
  return outputs.map((_, i) => Float64Array.from(r[`y${i}`] as ArrayLike<number>));
}

/** [N, T, H] → [N, H] at time t. */
const atTime = (seq: Float64Array, N: number, T: number, H: number, t: number) => Float64Array.from({ length: N * H }, (_, i) => seq[(Math.floor(i / H) * T + t) * H + (i % H)]);

function expectClose(got: Float64Array, want: Float64Array, tol = 2e-5) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]))));
  expect(worst).toBeLessThan(tol);
}

beforeEach(() => resetLayerNames());

const N = 3;
const T = 5;
const F = 4;
const H = 3;

describe.each(['rnn', 'lstm', 'gru'] as const)('%s against the PyTorch formulas', (kind) => {
  const orders = kind === 'rnn' ? (['keras'] as const) : (['pytorch', 'keras', 'onnx'] as const);
  it.each(orders)('whole sequence and final states, gate order %s', (order) => {
    const rng = new Lcg(11);
    const w = torchWeights(kind, F, H, rng);
    const xv = rng.array(N * T * F, -1, 1);
    const x = input([T, F], { name: 'x' });
    const opts: RecurrentOptions = { name: 'r', returnSequences: true, returnState: true, gateOrder: order };
    const outs = LAYER[kind](x, H, { ...opts, returnState: true });
    const got = run([x], outs, { x: Float32Array.from(xv) }, kilnWeights(kind, w, F, H, order, 'r/', true), N);
    const ref = reference(kind, xv, N, T, F, H, w);
    expectClose(got[0], ref.seq);
    expectClose(got[1], ref.h);
    if (kind === 'lstm') expectClose(got[2], ref.c);
    expect(outs.length).toBe(kind === 'lstm' ? 3 : 2);
  });

  it('last state only (returnSequences false), given initial states', () => {
    const rng = new Lcg(12);
    const w = torchWeights(kind, F, H, rng);
    const xv = rng.array(N * T * F, -1, 1);
    const h0 = rng.array(N * H, -1, 1);
    const c0 = rng.array(N * H, -1, 1);
    const x = input([T, F], { name: 'x' });
    const hIn = input([H], { name: 'h0' });
    const cIn = input([H], { name: 'c0' });
    const y = LAYER[kind](x, H, { name: 'r', initialState: kind === 'lstm' ? [hIn, cIn] : [hIn] });
    expect(y.type.shape).toEqual(['N', H]);
    const inputs = kind === 'lstm' ? [x, hIn, cIn] : [x, hIn];
    const [got] = run(inputs, [y], { x: Float32Array.from(xv), h0: Float32Array.from(h0), c0: Float32Array.from(c0) }, kilnWeights(kind, w, F, H, 'keras', 'r/', true), N);
    expectClose(got, reference(kind, xv, N, T, F, H, w, { h0, c0 }).h);
  });

  it('bidirectional: forward and backward states concatenated on the features', () => {
    const rng = new Lcg(13);
    const wf = torchWeights(kind, F, H, rng);
    const wb = torchWeights(kind, F, H, rng);
    const xv = rng.array(N * T * F, -1, 1);
    const x = input([T, F], { name: 'x' });
    const [seq, ...states] = LAYER[kind](x, H, { name: 'b', bidirectional: true, returnSequences: true, returnState: true });
    expect(seq.type.shape).toEqual(['N', T, 2 * H]);
    const weights = { ...kilnWeights(kind, wf, F, H, 'keras', 'b/forward/', true), ...kilnWeights(kind, wb, F, H, 'keras', 'b/backward/', true) };
    const got = run([x], [seq, ...states], { x: Float32Array.from(xv) }, weights, N);
    const fw = reference(kind, xv, N, T, F, H, wf);
    const bw = reference(kind, xv, N, T, F, H, wb, { reverse: true });
    const want = new Float64Array(N * T * 2 * H);
    for (let i = 0; i < N * T; i++) {
      want.set(fw.seq.subarray(i * H, (i + 1) * H), i * 2 * H);
      want.set(bw.seq.subarray(i * H, (i + 1) * H), i * 2 * H + H);
    }
    expectClose(got[0], want);
    // Keras's state order: forward h (c), backward h (c); the backward final state is at time 0.
    expectClose(got[1], fw.h);
    expectClose(got[kind === 'lstm' ? 3 : 2], bw.h);
    expectClose(got[kind === 'lstm' ? 3 : 2], atTime(bw.seq, N, T, H, 0));
  });

  it('two stacked layers (layers: 2) equal two layers applied by hand', () => {
    const rng = new Lcg(14);
    const w1 = torchWeights(kind, F, H, rng);
    const w2 = torchWeights(kind, H, H, rng);
    const xv = rng.array(N * T * F, -1, 1);
    const x = input([T, F], { name: 'x' });
    const y = LAYER[kind](x, H, { name: 's', layers: 2, returnSequences: true });
    const weights = { ...kilnWeights(kind, w1, F, H, 'keras', 's/', true), ...kilnWeights(kind, w2, H, H, 'keras', 's_l2/', true) };
    const [got] = run([x], [y], { x: Float32Array.from(xv) }, weights, N);
    const first = reference(kind, xv, N, T, F, H, w1);
    expectClose(got, reference(kind, first.seq, N, T, H, H, w2).seq);
  });

  it('sequence-first input [T, B, F] with a fixed B (batchFirst: false)', () => {
    const rng = new Lcg(15);
    const w = torchWeights(kind, F, H, rng);
    const xv = rng.array(N * T * F, -1, 1);
    // The same data laid out [T, N, F].
    const xt = new Float64Array(N * T * F);
    for (let n = 0; n < N; n++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) xt[(t * N + n) * F + f] = xv[(n * T + t) * F + f];
    const x = input([T, N, F], { name: 'x', batched: false });
    const y = LAYER[kind](x, H, { name: 'q', batchFirst: false, returnSequences: true, gateOrder: 'pytorch' });
    expect(y.type.shape).toEqual([T, N, H]);
    const [got] = run([x], [y], { x: Float32Array.from(xt) }, kilnWeights(kind, w, F, H, 'pytorch', 'q/', true), 1);
    const ref = reference(kind, xv, N, T, F, H, w).seq;
    const want = new Float64Array(N * T * H);
    for (let n = 0; n < N; n++) for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) want[(t * N + n) * H + j] = ref[(n * T + t) * H + j];
    expectClose(got, want);
  });
});

describe('gru variants and the sequential form', () => {
  it('linearBeforeReset: false is the GRU of Cho et al. (reset before the product)', () => {
    const rng = new Lcg(16);
    const w = torchWeights('gru', F, H, rng);
    const xv = rng.array(N * T * F, -1, 1);
    const x = input([T, F], { name: 'x' });
    const y = gru(x, H, { name: 'g', linearBeforeReset: false, returnSequences: true });
    const [got] = run([x], [y], { x: Float32Array.from(xv) }, kilnWeights('gru', w, F, H, 'keras', 'g/', false), N);
    const want = reference('gru', xv, N, T, F, H, w, { linearBeforeReset: false }).seq;
    expectClose(got, want);
    // And it differs from PyTorch's variant on the same weights (the test can tell them apart).
    const lbr = reference('gru', xv, N, T, F, H, w).seq;
    expect(Math.max(...want.map((v, i) => Math.abs(v - lbr[i])))).toBeGreaterThan(1e-3);
  });

  it('sequential layers.lstm then dense', () => {
    const m = sequential({ name: 'seq', input: [T, F] }, [layers.lstm(H, { returnSequences: false }), layers.dense(2)]);
    expect(m.graph.outputs[0].node.type.shape).toEqual(['N', 2]);
  });

  it('refuses bad options with a one-line error naming the layer', () => {
    const x = input([T, F], { name: 'x' });
    expect(() => lstm(x, 0)).toThrow(/units/);
    expect(() => lstm(x, 3, { linearBeforeReset: true })).toThrow(/linearBeforeReset is a GRU option/);
    expect(() => gru(x, 3, { activation: 'softmax' as never })).toThrow(/unknown activation "softmax"/);
    expect(() => lstm(x, 3, { initialState: [input([3], { name: 'h' })] })).toThrow(/initialState needs 2 tensors/);
    expect(() => lstm(input([F], { name: 'flat' }), 3)).toThrow(/needs a 3-D input/);
    expect(() => simpleRnn(x, 3, { batchFirst: false })).toThrow(/batched: false/);
  });
});
