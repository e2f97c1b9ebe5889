// Small scan graphs shared by the scan tests: a simple RNN (tanh(h·R + x_t)) over [N, T, F]
// with its recurrent kernel as an invariant, and a naive loop that computes the same by hand.
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import type { Dim } from '../../src/ir/shape.ts';

export const inputNode = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float32', shape });

/** acc [H] += Σ over rows of x_t [N, H]: an unbatched carry over a batched sequence. */
export function sumBody(H: number): Graph {
  const acc = inputNode('acc', [H]);
  const x = inputNode('x', ['N', H]);
  return { name: 'sum', inputs: [acc, x], outputs: [{ name: 'acc', node: makeNode('add', [acc, makeNode('reduceSum', [x], { axes: [0], keepdims: false })]) }] };
}

/** A scan nested in a body, stacked over T steps: h' = tanh(h + inner), inner = the sumBody scan over the 2-step sequence [h, x_t], from `zero`. */
export function nestedScan(T: number, H: number): { graph: Graph; h0: Node; xs: Node; z: Node; outer: Node } {
  const h = inputNode('h', ['N', H]);
  const xt = inputNode('xt', ['N', H]);
  const zero = inputNode('zero', [H]);
  const pair = makeNode('concat', [makeNode('reshape', [h], { shape: [-1, 1, H] }), makeNode('reshape', [xt], { shape: [-1, 1, H] })], { axis: 1 });
  const inner = makeNode('scan', [zero, pair], { body: sumBody(H), steps: 2, reverse: false, sequenceCount: 1, stack: false });
  const outerBody: Graph = { name: 'outer', inputs: [h, xt, zero], outputs: [{ name: 'h', node: makeNode('tanh', [makeNode('add', [h, inner])]) }] };
  const [h0, xs, z] = [inputNode('h0', ['N', H]), inputNode('xs', ['N', T, H]), inputNode('z', [H])];
  const outer = makeNode('scan', [h0, xs, z], { body: outerBody, steps: T, reverse: false, sequenceCount: 1, stack: true });
  return { graph: { name: 'nested', inputs: [h0, xs, z], outputs: [{ name: 'y', node: outer }] }, h0, xs, z, outer };
}

/** h' = tanh(h · R + x_t): carry [N, H], slice [N, H], invariant R [H, H]. */
export function rnnBody(H: number): Graph {
  const h = inputNode('h', ['N', H]);
  const x = inputNode('x', ['N', H]);
  const r = inputNode('r', [H, H]);
  const out = makeNode('tanh', [makeNode('add', [makeNode('matmul', [h, r]), x])]);
  return { name: 'rnn_body', inputs: [h, x, r], outputs: [{ name: 'h', node: out }] };
}

export interface RnnScan {
  graph: Graph;
  h0: Node;
  xs: Node;
  r: Node;
  scan: Node;
}

/** scan(h0, xs, r) as a graph with inputs h0 [N, H], xs [N, T, H], r [H, H] and output `y`. */
export function rnnScan(T: number, H: number, o: { reverse?: boolean; stack?: boolean } = {}): RnnScan {
  const h0 = inputNode('h0', ['N', H]);
  const xs = inputNode('xs', ['N', T, H]);
  const r = inputNode('r', [H, H]);
  const scan = makeNode('scan', [h0, xs, r], { body: rnnBody(H), steps: T, reverse: o.reverse ?? false, sequenceCount: 1, stack: o.stack ?? true });
  return { graph: { name: 'rnn', inputs: [h0, xs, r], outputs: [{ name: 'y', node: scan }] }, h0, xs, r, scan };
}

/** The same RNN by a naive loop in doubles: every step's h, [N, T, H] (time order), and the last one run. */
export function rnnByHand(h0: Float32Array, xs: Float32Array, r: Float32Array, N: number, T: number, H: number, reverse: boolean): { stacked: number[]; last: number[] } {
  const stacked = new Array<number>(N * T * H).fill(0);
  let last: number[] = [];
  for (let n = 0; n < N; n++) {
    let h = Array.from(h0.subarray(n * H, (n + 1) * H));
    for (let k = 0; k < T; k++) {
      const t = reverse ? T - 1 - k : k;
      const next = new Array<number>(H).fill(0);
      for (let j = 0; j < H; j++) {
        let z = xs[(n * T + t) * H + j];
        for (let i = 0; i < H; i++) z += h[i] * r[i * H + j];
        next[j] = Math.tanh(z);
      }
      h = next;
      for (let j = 0; j < H; j++) stacked[(n * T + t) * H + j] = h[j];
    }
    last = last.concat(h);
  }
  return { stacked, last };
}

/** Deterministic values in [-1, 1). */
export function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}
