// How a loop moves its carry (issue 19, the LSTM's time between its products): a stacked scan
// read only at its final step keeps the final carry alone (compiler/passes/final-step.ts), and a
// body whose last kernel is the only one left to touch the carry writes the next carry in place
// (compiler/lower/plan.ts's resultInPlace), where a body whose result kernel reads the carry
// (a product of it) keeps the copy. An input projection over every step, read by the scan alone,
// is computed in the step instead, merged with the recurrent product where the body adds them
// (compiler/passes/sink-projection.ts). Each checked against naive loops in doubles.
import { beforeEach, describe, expect, it } from 'vitest';
import { compileGraph, optimize } from '../../compiler/pipeline.ts';
import { resultInPlace } from '../../compiler/lower/plan.ts';
import { scheduleLoops } from '../../compiler/lower/loop.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { gru, lstm } from '../../src/dsl/recurrent.ts';
import { makeNode } from '../../src/ir/build.ts';
import { buildTrainingGraph } from '../../compiler/train/step.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { ScanAttrs } from '../../src/ir/ops/scan.ts';
import { compileAndLoad } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';
import { reference, toBias, toKernel, type Kind, type TorchWeights } from '../dsl/recurrent-reference.ts';
import { rnnByHand, rnnScan, values } from '../ir/scan-fixtures.ts';
import { ThreadPool } from '../../runtime/parallel.ts';

beforeEach(() => resetLayerNames());

const [N, T, F, H] = [3, 7, 5, 6];

const scansOf = (g: Graph) => graphNodes(optimize(g)).filter((n) => n.op === 'scan');
const stacked = (g: Graph) => scansOf(g).map((n) => (n.attrs as unknown as ScanAttrs).stack);

/** PyTorch-layout weights for one direction, and the same in the DSL's Keras layout under `prefix`. */
function weightsFor(kind: Kind, rng: Lcg, prefix: string): { torch: TorchWeights; dsl: Record<string, Float32Array> } {
  const G = kind === 'lstm' ? 4 : 3;
  const torch = { wIh: rng.array(G * H * F, -0.5, 0.5), wHh: rng.array(G * H * H, -0.5, 0.5), bIh: rng.array(G * H, -0.3, 0.3), bHh: new Float64Array(G * H) };
  const dsl = {
    [`${prefix}kernel`]: toKernel(kind, torch.wIh, H, F, 'keras'),
    [`${prefix}recurrentKernel`]: toKernel(kind, torch.wHh, H, H, 'keras'),
    [`${prefix}bias`]: toBias(kind, torch.bIh, H, 'keras'),
  };
  return { torch, dsl };
}

describe('a stacked scan read only at its final step', () => {
  it('bidirectional LSTM returning its states: both scans keep their final carry alone, and h, c match the naive loops both ways', async () => {
    const x = input([T, F], { name: 'x' });
    const [y, hF, cF, hB, cB] = lstm(x, H, { name: 'r', bidirectional: true, returnState: true });
    const g: Graph = { name: 'bilstm', inputs: [x], outputs: Object.entries({ y, hF, cF, hB, cB }).map(([name, node]) => ({ name, node })) };
    expect(stacked(g)).toEqual([false, false]);
    const rng = new Lcg(3);
    const fw = weightsFor('lstm', rng, 'r/forward/');
    const bw = weightsFor('lstm', rng, 'r/backward/');
    const xv = rng.array(N * T * F, -1, 1);
    const [a, b] = [reference('lstm', xv, N, T, F, H, fw.torch), reference('lstm', xv, N, T, F, H, bw.torch, { reverse: true })];
    for (const simd of [true, false]) {
      const { model } = await compileAndLoad(g, 'loop-carry', 'bilstm', { ...fw.dsl, ...bw.dsl }, 'js', { simd });
      const got = model.run({ x: Float32Array.from(xv) }, N);
      for (const [name, want] of Object.entries({ hF: a.h, cF: a.c, hB: b.h, cB: b.c })) expect(got[name], `${name}, simd ${simd}`).toBeAllclose(want, { rtol: 1e-4, atol: 1e-5 });
    }
  });

  it("GRU with PyTorch's linear-before-reset, whole sequence: the projection sunk into the step (its slices read, so not merged), matches the naive loop", async () => {
    const x = input([T, F], { name: 'x' });
    const g: Graph = { name: 'gru_lbr', inputs: [x], outputs: [{ name: 'y', node: gru(x, H, { name: 'g', returnSequences: true }) }] };
    expect(scansOf(g).map((n) => n.inputs[1].op)).toEqual(['input']);
    const rng = new Lcg(8);
    const w = weightsFor('gru', rng, 'g/');
    w.torch.bHh = rng.array(3 * H, -0.3, 0.3);
    const weights = { ...w.dsl, 'g/recurrentBias': toBias('gru', w.torch.bHh, H, 'keras') };
    const xv = rng.array(N * T * F, -1, 1);
    for (const simd of [true, false]) {
      const { model } = await compileAndLoad(g, 'loop-carry', 'gru-lbr', weights, 'js', { simd });
      expect(model.run({ x: Float32Array.from(xv) }, N).y, `simd ${simd}`).toBeAllclose(reference('gru', xv, N, T, F, H, w.torch).seq, { rtol: 1e-4, atol: 1e-5 });
    }
  });

  it('GRU returning its last state: unstacked, matches the naive loop', async () => {
    const x = input([T, F], { name: 'x' });
    const g: Graph = { name: 'gru', inputs: [x], outputs: [{ name: 'h', node: gru(x, H, { name: 'g', linearBeforeReset: false, useBias: true }) }] };
    expect(stacked(g)).toEqual([false]);
    const rng = new Lcg(4);
    const w = weightsFor('gru', rng, 'g/');
    const xv = rng.array(N * T * F, -1, 1);
    const { model } = await compileAndLoad(g, 'loop-carry', 'gru', w.dsl);
    expect(model.run({ x: Float32Array.from(xv) }, N).h).toBeAllclose(reference('gru', xv, N, T, F, H, w.torch, { linearBeforeReset: false }).h, { rtol: 1e-4, atol: 1e-5 });
  });

  for (const reverse of [false, true]) {
    it(`a hand-built RNN scan${reverse ? ', reversed (its final step is time 0)' : ''}: the final-step slice reads the unstacked carry`, async () => {
      const s = rnnScan(T, H, { reverse });
      const last = reverse ? 0 : T - 1;
      const slice = makeNode('slice', [s.scan], { starts: [last], ends: [last + 1], axes: [1], steps: [1] });
      const g: Graph = { ...s.graph, outputs: [{ name: 'y', node: makeNode('reshape', [slice], { shape: [-1, H] }) }] };
      expect(stacked(g)).toEqual([false]);
      const [h0, xs, r] = [values(N * H, 1), values(N * T * H, 2), values(H * H, 3)];
      const { model } = await compileAndLoad(g, 'loop-carry', `rnn-final-${reverse}`);
      expect(model.run({ h0, xs, r }, N).y).toBeAllclose(rnnByHand(h0, xs, r, N, T, H, reverse).last, { rtol: 1e-5, atol: 1e-6 });
    });
  }

  it('stays stacked where another step is read, or the whole sequence', () => {
    const s = rnnScan(T, H);
    const at = (k: number) => makeNode('slice', [s.scan], { starts: [k], ends: [k + 1], axes: [1], steps: [1] });
    expect(stacked({ ...s.graph, outputs: [{ name: 'a', node: at(T - 1) }, { name: 'b', node: at(T - 2) }] })).toEqual([true]);
    expect(stacked(s.graph)).toEqual([true]);
    const x = input([T, F], { name: 'x' });
    expect(stacked({ name: 'seq', inputs: [x], outputs: [{ name: 'y', node: lstm(x, H, { name: 'r', returnSequences: true }) }] })).toEqual([true]);
  });
});

describe('the next carry written in place', () => {
  it("an LSTM step: the new carry's kernel writes the carry's own buffer (no copy closes the step), and the sequence matches the naive loop", async () => {
    const x = input([T, F], { name: 'x' });
    const g: Graph = { name: 'lstm', inputs: [x], outputs: [{ name: 'y', node: lstm(x, H, { name: 'r', returnSequences: true }) }] };
    const { program } = compileGraph(g);
    const [loop] = scheduleLoops(program.schedule);
    expect(resultInPlace(loop)).toBeDefined();
    expect(program.storageOf(loop.result)).toEqual(program.storageOf(loop.carry));
    const rng = new Lcg(6);
    const w = weightsFor('lstm', rng, 'r/');
    const xv = rng.array(N * T * F, -1, 1);
    for (const simd of [true, false]) {
      const { model } = await compileAndLoad(g, 'loop-carry', 'lstm-seq', w.dsl, 'js', { simd });
      expect(model.run({ x: Float32Array.from(xv) }, N).y, `simd ${simd}`).toBeAllclose(reference('lstm', xv, N, T, F, H, w.torch).seq, { rtol: 1e-4, atol: 1e-5 });
    }
  });

  it('on two threads (a ThreadPool splitting every kernel by rows), the in-place carry gives the same bits as one thread', async () => {
    const x = input([T, F], { name: 'x' });
    const g: Graph = { name: 'lstm', inputs: [x], outputs: [{ name: 'y', node: lstm(x, H, { name: 'r', returnSequences: true }) }] };
    const w = weightsFor('lstm', new Lcg(12), 'r/');
    const xv = Float32Array.from(new Lcg(13).array(7 * T * F, -1, 1));
    const pool = new ThreadPool({ threshold: 1 });
    try {
      const { model: one } = await compileAndLoad(g, 'loop-carry', 'lstm-threads', w.dsl, 'js', { simd: true });
      const { model: two } = await compileAndLoad(g, 'loop-carry', 'lstm-threads', w.dsl, 'js', { simd: true, pool });
      expect(Array.from(two.run({ x: xv }, 7).y as Float32Array)).toEqual(Array.from(one.run({ x: xv }, 7).y as Float32Array));
    } finally {
      pool.close();
    }
  });

  it('an RNN step tanh(h·R + x): its one kernel reads the carry it would overwrite (a product of every h), so the result is copied', async () => {
    const s = rnnScan(T, H);
    const { program } = compileGraph(s.graph);
    const [loop] = scheduleLoops(program.schedule);
    expect(resultInPlace(loop)).toBeUndefined();
    expect(program.storageOf(loop.result)).not.toEqual(program.storageOf(loop.carry));
    const [h0, xs, r] = [values(N * H, 4), values(N * T * H, 5), values(H * H, 6)];
    const { model } = await compileAndLoad(s.graph, 'loop-carry', 'rnn-stacked');
    expect(model.run({ h0, xs, r }, N).y).toBeAllclose(rnnByHand(h0, xs, r, N, T, H, false).stacked, { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('an input projection sunk into the step', () => {
  it('RNN over xs = X·W + b: the scan reads X, its body one product [x_t | h]·[W; R] + b, and matches the naive loop', async () => {
    const Fx = 3;
    const s = rnnScan(T, H);
    const X = makeNode('input', [], { name: 'X', dtype: 'float32', shape: ['N', T, Fx] });
    const W = makeNode('input', [], { name: 'W', dtype: 'float32', shape: [Fx, H] });
    const b = makeNode('input', [], { name: 'b', dtype: 'float32', shape: [H] });
    const xs = makeNode('add', [makeNode('matmul', [X, W]), b]);
    const scan = makeNode('scan', [s.h0, xs, s.r], s.scan.attrs as Record<string, unknown>);
    const g: Graph = { name: 'rnn_proj', inputs: [s.h0, X, W, b, s.r], outputs: [{ name: 'y', node: scan }] };
    const [opt] = scansOf(g);
    expect(opt.inputs[1]).toBe(X);
    const body = (opt.attrs as unknown as ScanAttrs).body;
    const products = graphNodes(body).filter((n) => n.op === 'matmul');
    expect(products.map((n) => n.inputs.map((i) => i.type.shape.join('×')))).toEqual([[`N×${Fx + H}`, `${Fx + H}×${H}`]]);
    // R is inside [W; R]: the scan no longer passes it on its own.
    expect(opt.inputs).not.toContain(s.r);
    const [h0, Xv, Wv, bv, r] = [values(N * H, 7), values(N * T * Fx, 8), values(Fx * H, 9), values(H, 10), values(H * H, 11)];
    const xsv = new Float32Array(N * T * H);
    for (let q = 0; q < N * T; q++) for (let j = 0; j < H; j++) {
      let z = bv[j];
      for (let f = 0; f < Fx; f++) z += Xv[q * Fx + f] * Wv[f * H + j];
      xsv[q * H + j] = z;
    }
    for (const simd of [true, false]) {
      const { model } = await compileAndLoad(g, 'loop-carry', 'rnn-proj', undefined, 'js', { simd });
      expect(model.run({ h0, X: Xv, W: Wv, b: bv, r }, N).y, `simd ${simd}`).toBeAllclose(rnnByHand(h0, xsv, r, N, T, H, false).stacked, { rtol: 1e-5, atol: 1e-5 });
    }
  });

  it("stays outside the loop in a training step, where the backward scan reads the projection", () => {
    const x = input([T, F], { name: 'x' });
    const g: Graph = { name: 'lstm', inputs: [x], outputs: [{ name: 'y', node: lstm(x, H, { name: 'r' }) }] };
    const inference = scansOf(g);
    expect(inference.map((n) => n.inputs[1].op)).toEqual(['input']);
    const t = buildTrainingGraph(g, { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } } as Parameters<typeof buildTrainingGraph>[1]);
    const forward = scansOf(t.graph).filter((n) => (n.attrs as unknown as ScanAttrs).cell);
    expect(forward.length).toBeGreaterThan(0);
    for (const n of forward) expect(n.inputs[1].op).not.toBe('input');
  });
});
