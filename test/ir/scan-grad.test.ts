// Backpropagation through time (compiler/autodiff/scan-vjp.ts): the gradients of a scalar
// L = Σ y ⊙ r through a `scan` over 5 steps, forward and reverse, stacked and final-carry,
// for a simple RNN, an LSTM and GRU cells (both reset placements), checked against central
// finite differences of L. Everything runs in float64 on the reference interpreter, so the
// check is of the gradient graph itself, independent of any backend.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { cellBody, carryWidth, GATE_COUNT, GATE_ORDERS, type CellKind } from '../../src/ir/recurrent.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { values } from './scan-fixtures.ts';

const [N, T, H] = [2, 5, 2];
const leaf = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float64', shape });

interface Case {
  graph: Graph;
  wrt: Node[];
  loss: Node;
}

/** scan of the `kind` cell over xs [N, T, G·H], with the recurrent weights (and GRU's bias) as invariants; L = Σ y ⊙ r. */
function cellCase(kind: CellKind, reverse: boolean, stack: boolean, linearBeforeReset = false): Case {
  const G = GATE_COUNT[kind];
  const W = carryWidth(kind, H);
  const h0 = leaf('h0', ['N', W]);
  const xs = leaf('xs', ['N', T, G * H]);
  const R = leaf('R', [H, G * H]);
  const rb = kind === 'gru' && linearBeforeReset ? leaf('rb', [G * H]) : undefined;
  const emit = (op: Parameters<typeof makeNode>[0], ins: readonly Node[], attrs?: Record<string, unknown>) => makeNode(op, ins, attrs);
  const acts = { f: kind === 'rnn' ? 'tanh' : 'sigmoid', g: 'tanh', h: 'tanh' } as const;
  const { body, invariants } = cellBody({ kind, units: H, order: GATE_ORDERS.keras, emit, recurrent: R, transposed: false, linearBeforeReset, recurrentBias: rb, activations: acts }, { dtype: 'float64', shape: ['N', G * H] });
  const y = makeNode('scan', [h0, xs, ...invariants], { body, steps: T, reverse, sequenceCount: 1, stack });
  const r = leaf('r', [...y.type.shape]);
  const loss = makeNode('reduceSum', [makeNode('mul', [y, r])], { axes: [], keepdims: false });
  const wrt = [h0, xs, R, ...(rb ? [rb] : [])];
  const inputs = [h0, xs, R, ...(rb ? [rb] : []), r];
  return { graph: { name: 'bptt', inputs, outputs: [{ name: 'loss', node: loss }] }, wrt, loss };
}

function feedsFor(c: Case): Record<string, Float64Array> {
  return Object.fromEntries(c.graph.inputs.map((n, i) => [String(n.attrs.name), Float64Array.from(values(numel(n.type.shape, N), 11 + i))]));
}

/** Worst relative error of the analytic gradients against central differences, over every input coordinate. */
function worstError(c: Case): number {
  const grads = gradients(c.loss, c.wrt);
  const withGrads: Graph = { ...c.graph, outputs: [...c.graph.outputs, ...c.wrt.map((w) => ({ name: `d_${String(w.attrs.name)}`, node: grads.get(w)! }))] };
  const feeds = feedsFor(c);
  const analytic = interpret(withGrads, feeds, {}, N);
  const lossAt = (f: Record<string, Float64Array>) => interpret(c.graph, f, {}, N).loss[0];
  const h = 1e-6;
  let worst = 0;
  for (const w of c.wrt) {
    const name = String(w.attrs.name);
    const d = analytic[`d_${name}`];
    expect(d.length).toBe(feeds[name].length);
    for (let i = 0; i < d.length; i++) {
      const plus = Float64Array.from(feeds[name]);
      const minus = Float64Array.from(feeds[name]);
      plus[i] += h;
      minus[i] -= h;
      const fd = (lossAt({ ...feeds, [name]: plus }) - lossAt({ ...feeds, [name]: minus })) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - d[i]) / Math.max(1, Math.abs(fd)));
    }
  }
  return worst;
}

describe('scan: gradients through time match finite differences (5 steps)', () => {
  const cells: [string, CellKind, boolean][] = [
    ['simple RNN', 'rnn', false],
    ['LSTM', 'lstm', false],
    ['GRU (reset before the product)', 'gru', false],
    ['GRU (linear before reset, recurrent bias invariant)', 'gru', true],
  ];
  for (const [label, kind, lbr] of cells) {
    for (const reverse of [false, true]) {
      for (const stack of [true, false]) {
        it(`${label}, ${reverse ? 'reverse' : 'forward'}, ${stack ? 'every step stacked' : 'final carry'}`, () => {
          expect(worstError(cellCase(kind, reverse, stack, lbr))).toBeLessThan(1e-6);
        });
      }
    }
  }

  it('differentiates a batched invariant and an int sequence is left alone', () => {
    // h' = h ⊙ v + x_t, v batched [N, H]: dv = Σ_t λ_post(t) ⊙ h_prev(t).
    const h = leaf('h', ['N', H]);
    const x = leaf('x', ['N', H]);
    const v = leaf('v', ['N', H]);
    const body: Graph = { name: 'b', inputs: [h, x, v], outputs: [{ name: 'h', node: makeNode('add', [makeNode('mul', [h, v]), x]) }] };
    const [h0, xs, v0] = [leaf('h0', ['N', H]), leaf('xs', ['N', T, H]), leaf('v0', ['N', H])];
    const y = makeNode('scan', [h0, xs, v0], { body, steps: T, reverse: false, sequenceCount: 1, stack: true });
    const r = leaf('r', [...y.type.shape]);
    const loss = makeNode('reduceSum', [makeNode('mul', [y, r])], { axes: [], keepdims: false });
    expect(worstError({ graph: { name: 'g', inputs: [h0, xs, v0, r], outputs: [{ name: 'loss', node: loss }] }, wrt: [h0, xs, v0], loss })).toBeLessThan(1e-6);
  });
});
