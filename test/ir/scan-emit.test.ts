// scan compiled for the JavaScript backend (compiler/lower/loop.ts, compiler/emit/js/loop.ts):
// the emitted host loop agrees with the reference interpreter (forward, reverse, stacked, final
// carry, an unbatched accumulator, an LSTM cell, a nested scan, a gradient graph of scans, with
// and without SIMD kernels); unrollScans computes the same; and the module does not grow with T.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { emitJsModule } from '../../compiler/emit/js/module.ts';
import { unrollScans } from '../../compiler/passes/unroll-scans.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { cellBody, GATE_ORDERS } from '../../src/ir/recurrent.ts';
import { numel } from '../../src/ir/shape.ts';
import { compileAndLoad } from '../grad/check.ts';
import { inputNode, nestedScan, rnnBody, rnnByHand, rnnScan, sumBody, values } from './scan-fixtures.ts';

const [N, T, H] = [3, 6, 4];

function feedsOf(g: Graph, batch: number): Record<string, Float32Array> {
  return Object.fromEntries(g.inputs.map((n, i) => [String(n.attrs.name), values(numel(n.type.shape, batch), 21 + i)]));
}

async function agrees(g: Graph, name: string, simd = false): Promise<void> {
  const feeds = feedsOf(g, N);
  const expected = interpret(g, feeds, {}, N);
  const { model } = await compileAndLoad(g, 'scan', `${name}${simd ? '-simd' : ''}`, {}, 'js', { simd });
  const got = model.run(feeds, N);
  for (const o of g.outputs) {
    expect(got[o.name].length, o.name).toBe(expected[o.name].length);
    Array.from(got[o.name]).forEach((v, i) => expect(v, `${o.name}[${i}]`).toBeCloseTo(expected[o.name][i], 4));
  }
}

/** An LSTM cell scanned over projections [N, T, 4H], weights as invariants; output: the stacked h and c. */
function lstmGraph(reverse: boolean): Graph {
  const h0 = inputNode('h0', ['N', 2 * H]);
  const xs = inputNode('xs', ['N', T, 4 * H]);
  const R = inputNode('R', [H, 4 * H]);
  const emit = (op: Parameters<typeof makeNode>[0], ins: readonly Node[], attrs?: Record<string, unknown>) => makeNode(op, ins, attrs);
  const { body, invariants } = cellBody({ kind: 'lstm', units: H, order: GATE_ORDERS.keras, emit, recurrent: R, transposed: false, activations: { f: 'sigmoid', g: 'tanh', h: 'tanh' } }, { dtype: 'float32', shape: ['N', 4 * H] });
  const y = makeNode('scan', [h0, xs, ...invariants], { body, steps: T, reverse, sequenceCount: 1, stack: true });
  return { name: 'lstm', inputs: [h0, xs, R], outputs: [{ name: 'y', node: y }] };
}

describe('scan on the JavaScript backend', () => {
  for (const reverse of [false, true]) {
    for (const stack of [true, false]) {
      const label = `${reverse ? 'reverse' : 'forward'}-${stack ? 'stacked' : 'final'}`;
      it(`RNN ${label}: the emitted loop matches a naive loop`, async () => {
        const { graph } = rnnScan(T, H, { reverse, stack });
        const feeds = feedsOf(graph, N);
        const { model } = await compileAndLoad(graph, 'scan', `rnn-${label}`);
        const y = model.run(feeds, N).y;
        const hand = rnnByHand(feeds.h0, feeds.xs, feeds.r, N, T, H, reverse);
        expect(Array.from(y)).toEqual((stack ? hand.stacked : hand.last).map((v) => expect.closeTo(v, 5)));
      });
    }
  }

  it('an output computed after the loop, and a batch larger than the first', async () => {
    const { graph, scan } = rnnScan(T, H);
    const g: Graph = { ...graph, outputs: [{ name: 'y', node: makeNode('relu', [makeNode('mul', [scan, scan])]) }] };
    await agrees(g, 'rnn-after');
    const feeds = feedsOf(g, 5);
    const { model } = await compileAndLoad(g, 'scan', 'rnn-after');
    model.run(feedsOf(g, 2), 2);
    const got = model.run(feeds, 5).y;
    const expected = interpret(g, feeds, {}, 5).y;
    Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 4));
  });

  it('an LSTM cell (h and c packed in one carry), with and without SIMD kernels', async () => {
    await agrees(lstmGraph(false), 'lstm');
    await agrees(lstmGraph(true), 'lstm-reverse', true);
  });

  it('an unbatched accumulator and a scan nested in a body', async () => {
    const { h0, xs, z, outer } = nestedScan(T, H);
    const a0 = inputNode('a0', [H]);
    const total = makeNode('scan', [a0, xs], { body: sumBody(H), steps: T, reverse: true, sequenceCount: 1, stack: false });
    await agrees({ name: 'nested', inputs: [h0, xs, z, a0], outputs: [{ name: 'y', node: outer }, { name: 'total', node: total }] }, 'nested');
  });

  it('a gradient graph of scans (BPTT) runs and matches the interpreter', async () => {
    const g = lstmGraph(false);
    const r = inputNode('r', ['N', T, 2 * H]);
    const loss = makeNode('reduceSum', [makeNode('mul', [g.outputs[0].node, r])], { axes: [], keepdims: false });
    const grads = gradients(loss, g.inputs);
    const graph: Graph = { name: 'lstm_grad', inputs: [...g.inputs, r], outputs: [{ name: 'loss', node: loss }, ...g.inputs.map((n) => ({ name: `d_${String(n.attrs.name)}`, node: grads.get(n)! }))] };
    await agrees(graph, 'lstm-grad');
  });

  it('unrollScans computes what the loop computes, with no scan left', () => {
    for (const g of [lstmGraph(true), rnnScan(T, H, { stack: false }).graph]) {
      const unrolled = unrollScans(g);
      expect(graphNodes(unrolled).some((n) => n.op === 'scan')).toBe(false);
      const feeds = feedsOf(g, N);
      const [a, b] = [interpret(g, feeds, {}, N).y, interpret(unrolled, feeds, {}, N).y];
      Array.from(b).forEach((v, i) => expect(v).toBeCloseTo(a[i], 5));
    }
  });

  it('the module does not grow with the number of steps; the body compiles to kernels once', () => {
    const size = (steps: number) => {
      const { program } = compileGraph(rnnScan(steps, H).graph);
      return { bytes: emitJsModule(program, { graphHash: 'x' }).js.length, kernels: program.kernels.length };
    };
    const [short, long] = [size(20), size(2000)];
    expect(long.kernels).toBe(short.kernels);
    expect(long.bytes).toBeLessThan(short.bytes + 64);
    expect(rnnBody(H).inputs).toHaveLength(3);
  });
});
