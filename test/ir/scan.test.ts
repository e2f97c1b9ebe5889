// The loop node `scan` (docs/design/time.md): its shape rule and errors, its meaning in the
// reference interpreter (against a naive loop written by hand), its JSON form and its printout,
// and CSE treating its body by identity.
import { describe, expect, it } from 'vitest';
import { eliminateCommonSubexpressions } from '../../compiler/passes/cse.ts';
import { makeNode } from '../../src/ir/build.ts';
import { KilnError, ShapeError } from '../../src/ir/errors.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { printGraph } from '../../src/ir/print.ts';
import { inputNode, rnnBody, rnnByHand, rnnScan, values } from './scan-fixtures.ts';

const [N, T, H] = [2, 5, 3];

function runRnn(reverse: boolean, stack: boolean) {
  const { graph } = rnnScan(T, H, { reverse, stack });
  const h0 = values(N * H, 1);
  const xs = values(N * T * H, 2);
  const r = values(H * H, 3);
  const y = interpret(graph, { h0, xs, r }, {}, N).y;
  return { y, expected: rnnByHand(h0, xs, r, N, T, H, reverse) };
}

describe('scan: shape rule', () => {
  it('stacks every carry on axis 1, or returns the final carry', () => {
    expect(rnnScan(T, H).scan.type.shape).toEqual(['N', T, H]);
    expect(rnnScan(T, H, { stack: false }).scan.type.shape).toEqual(['N', H]);
  });

  const bad = (inputs: Parameters<typeof makeNode>[1], attrs: Record<string, unknown>) => () => makeNode('scan', inputs, attrs);
  const base = { body: rnnBody(H), steps: T, reverse: false, sequenceCount: 1, stack: true };
  const ins = () => [inputNode('h0', ['N', H]), inputNode('xs', ['N', T, H]), inputNode('r', [H, H])];

  it('rejects a sequence whose time axis is not `steps` long, naming both', () => {
    expect(bad(ins(), { ...base, steps: T + 1 })).toThrow(/sequence 0 must be \[N, 6, …\].*got \[N, 5, 3\]/);
  });
  it('rejects a carry of another type than the body takes', () => {
    const wrong = [inputNode('h0', ['N', H + 1]), inputNode('xs', ['N', T, H]), inputNode('r', [H, H])];
    expect(bad(wrong, base)).toThrow(ShapeError);
    expect(bad(wrong, base)).toThrow(/body input 0 is float32\[N, 3\], but the carry is float32\[N, 4\]/);
  });
  it('rejects a body whose output is not the carry type', () => {
    const h = inputNode('h', ['N', H]);
    const body: Graph = { name: 'b', inputs: [h], outputs: [{ name: 'y', node: makeNode('reduceSum', [h], { axes: [1], keepdims: false }) }] };
    expect(bad([inputNode('h0', ['N', H])], { ...base, body, sequenceCount: 0 })).toThrow(/the body returns float32\[N\], but the carry is float32\[N, 3\]/);
  });
  it('rejects a body with parameters of its own, and a wrong input count', () => {
    const h = inputNode('h', ['N', H]);
    const w = makeNode('param', [], { name: 'w', dtype: 'float32', shape: [H], init: { kind: 'zeros' }, trainable: true });
    const body: Graph = { name: 'b', inputs: [h], outputs: [{ name: 'y', node: makeNode('add', [h, w]) }] };
    expect(bad([inputNode('h0', ['N', H])], { ...base, body, sequenceCount: 0 })).toThrow(/weights enter a scan as invariants/);
    expect(bad([inputNode('h0', ['N', H])], { ...base, sequenceCount: 0 })).toThrow(/the body takes 3 input\(s\), but the scan has 1/);
  });
  it('rejects a body that is not a graph, as a one-line Kiln error', () => {
    const e = (() => {
      try {
        makeNode('scan', ins(), { ...base, body: 'x' });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(e).toBeInstanceOf(KilnError);
    expect(e!.message).toMatch(/attribute body must be a graph/);
    expect(e!.message).not.toContain('\n');
  });
});

describe('scan: work', () => {
  it('counts its body once per step (matmul 2·H², add H, tanh 4·H as elementwise.ts prices it, per sample and step)', () => {
    const { scan } = rnnScan(T, H);
    const flops = opDef('scan').flops!(scan.inputs.map((i) => i.type), scan.type, scan.attrs);
    expect(flops).toBe(T * (2 * H * H + H + 4 * H));
  });
});

describe('scan: reference interpreter', () => {
  for (const reverse of [false, true]) {
    it(`matches a naive loop, every step stacked (${reverse ? 'reverse' : 'forward'})`, () => {
      const { y, expected } = runRnn(reverse, true);
      expect(Array.from(y)).toEqual(expected.stacked.map((v) => expect.closeTo(v, 5)));
    });
    it(`matches a naive loop, final carry only (${reverse ? 'reverse' : 'forward'})`, () => {
      const { y, expected } = runRnn(reverse, false);
      expect(Array.from(y)).toEqual(expected.last.map((v) => expect.closeTo(v, 5)));
    });
  }

  it('accumulates into an unbatched carry (a sum over time and batch)', () => {
    const acc = inputNode('acc', [H]);
    const x = inputNode('x', ['N', H]);
    const body: Graph = { name: 'sum', inputs: [acc, x], outputs: [{ name: 'acc', node: makeNode('add', [acc, makeNode('reduceSum', [x], { axes: [0], keepdims: false })]) }] };
    const a0 = inputNode('a0', [H]);
    const xs = inputNode('xs', ['N', T, H]);
    const s = makeNode('scan', [a0, xs], { body, steps: T, reverse: false, sequenceCount: 1, stack: false });
    const data = values(N * T * H, 4);
    const y = interpret({ name: 'g', inputs: [a0, xs], outputs: [{ name: 'y', node: s }] }, { a0: new Float32Array([1, 2, 3]), xs: data }, {}, N).y;
    const expected = [1, 2, 3].map((v, j) => v + Array.from({ length: N * T }, (_, i) => data[i * H + j]).reduce((p, q) => p + q, 0));
    expect(Array.from(y)).toEqual(expected.map((v) => expect.closeTo(v, 5)));
  });
});

describe('scan: JSON and printing', () => {
  it('round-trips through JSON with its body nested, computing the same', () => {
    const { graph } = rnnScan(T, H, { reverse: true });
    const json = graphToJson(graph);
    const scanJson = json.nodes.find((n) => n.op === 'scan')!;
    expect((scanJson.attrs.body as { format: string }).format).toBe('kiln.graph');
    const back = graphFromJson(JSON.parse(JSON.stringify(json)));
    expect(graphToJson(back)).toEqual(json);
    const feeds = { h0: values(N * H, 1), xs: values(N * T * H, 2), r: values(H * H, 3) };
    expect(interpret(back, feeds, {}, N).y).toEqual(interpret(graph, feeds, {}, N).y);
  });

  it('rejects a malformed body in JSON with a Kiln error', () => {
    const json = graphToJson(rnnScan(T, H).graph);
    (json.nodes.find((n) => n.op === 'scan')!.attrs.body as { format: string }).format = 'nope';
    expect(() => graphFromJson(json)).toThrow(/not a Kiln graph/);
  });

  it('prints the body nested under the scan line, as a lambda', () => {
    const text = printGraph(rnnScan(T, H).graph);
    expect(text).toContain('= scan[steps=5 reverse=false sequenceCount=1 stack=true](%0, %1, %2)');
    expect(text).toContain('    { lambda %0: f32[N,3] h, %1: f32[N,3] x, %2: f32[3,3] r .');
    expect(text).toMatch(/ {6}%5: f32\[N,3\] = tanh\(%4\)\n {6}return %5 \}/);
  });
});

describe('scan: passes treat the body as opaque', () => {
  it('CSE merges two scans of the same body object and inputs, and keeps bodies apart by identity', () => {
    const { graph, h0, xs, r, scan } = rnnScan(T, H);
    const twin = makeNode('scan', [h0, xs, r], scan.attrs as Record<string, unknown>);
    const other = makeNode('scan', [h0, xs, r], { ...scan.attrs, body: rnnBody(H) });
    const g: Graph = { ...graph, outputs: [{ name: 'a', node: scan }, { name: 'b', node: twin }, { name: 'c', node: other }] };
    const out = eliminateCommonSubexpressions(g);
    expect(out.outputs[0].node).toBe(out.outputs[1].node);
    expect(out.outputs[2].node).not.toBe(out.outputs[0].node);
    expect(graphNodes(out).filter((n) => n.op === 'scan')).toHaveLength(2);
  });
});
