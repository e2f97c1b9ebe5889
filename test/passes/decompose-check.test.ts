// decomposeComposites and checkGraph alone, and every graph pass (and the whole pipeline) preserving semantics.
import { describe, expect, it } from 'vitest';
import { checkGraph } from '../../compiler/check/check.ts';
import { PASSES, optimize } from '../../compiler/pipeline.ts';
import { decomposeComposites } from '../../compiler/passes/decompose.ts';
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node, TensorType } from '../../src/ir/node.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { constNode, expectSameSemantics, graphOf, inputNode, opsOf, paramNode, randomData } from './util.ts';

const PRIMITIVE_KINDS = new Set(['source', 'elementwise', 'reduce', 'movement', 'view']);
const kindsOf = (g: Graph) => graphNodes(g).map((n) => opDef(n.op).kind);

describe('decomposeComposites', () => {
  it('turns softmax into reduceMax, sub, exp, reduceSum, div', () => {
    const x = inputNode('x', ['N', 5]);
    const g = graphOf([x], { y: makeNode('softmax', [x], { axis: -1 }) });
    const after = decomposeComposites(g);
    expect(kindsOf(after).every((k) => PRIMITIVE_KINDS.has(k))).toBe(true);
    expect(opsOf(after).sort()).toEqual(['div', 'exp', 'input', 'reduceMax', 'reduceSum', 'sub']);
    expect(after.outputs[0].node.op).toBe('div');
    expectSameSemantics(g, after, 3);
  });

  it('turns logSoftmax into primitives ending in sub(shifted, log(sum))', () => {
    const x = inputNode('x', ['N', 3, 4]);
    const g = graphOf([x], { y: makeNode('logSoftmax', [x], { axis: 1 }) });
    const after = decomposeComposites(g);
    expect(kindsOf(after).every((k) => PRIMITIVE_KINDS.has(k))).toBe(true);
    expect(opsOf(after).sort()).toEqual(['exp', 'input', 'log', 'reduceMax', 'reduceSum', 'sub', 'sub']);
    const out = after.outputs[0].node;
    expect(out.op).toBe('sub');
    expect(out.inputs[1].op).toBe('log');
    expect(out.type).toEqual(x.type);
    expectSameSemantics(g, after, 2);
  });

  it('computes softmax values that match the textbook formula', () => {
    const x = inputNode('x', ['N', 3]);
    const after = decomposeComposites(graphOf([x], { y: makeNode('softmax', [x], { axis: -1 }) }));
    const data = [1, 2, 3, -1000, 0, 1000];
    const y = interpret(after, { x: Float32Array.from(data) }, {}, 2).y;
    const rowSoftmax = (r: number[]) => r.map((v) => Math.exp(v - Math.max(...r)) / r.reduce((s, u) => s + Math.exp(u - Math.max(...r)), 0));
    expect(y).toBeAllclose([...rowSoftmax([1, 2, 3]), ...rowSoftmax([-1000, 0, 1000])]);
  });

  it('decomposes composites nested inside other ops and keeps layer metadata', () => {
    const x = inputNode('x', ['N', 4]);
    const meta = { layer: 'head', layerKind: 'Dense' };
    const s = makeNode('softmax', [makeNode('logSoftmax', [x], { axis: -1 }, meta)], { axis: -1 }, meta);
    const g = graphOf([x], { y: makeNode('relu', [s]) });
    const after = decomposeComposites(g);
    expect(opsOf(after)).not.toContain('softmax');
    expect(opsOf(after)).not.toContain('logSoftmax');
    for (const n of graphNodes(after)) if (n.op !== 'input' && n.op !== 'relu') expect(n.meta.layer).toBe('head');
    expectSameSemantics(g, after, 2);
  });

  it('leaves a graph without composites unchanged', () => {
    const x = inputNode('x', ['N', 4]);
    const y = makeNode('exp', [x]);
    const after = decomposeComposites(graphOf([x], { y }));
    expect(after.outputs[0].node).toBe(y);
  });
});

describe('checkGraph', () => {
  it('returns a well-typed graph unchanged', () => {
    const x = inputNode('x', ['N', 4]);
    const g = graphOf([x], { y: makeNode('relu', [x]) });
    expect(checkGraph(g)).toBe(g);
  });

  it('rejects two outputs with the same name', () => {
    const x = inputNode('x', ['N', 4]);
    const g: Graph = { name: 'dup', inputs: [x], outputs: [{ name: 'y', node: makeNode('relu', [x]) }, { name: 'y', node: makeNode('exp', [x]) }] };
    expect(() => checkGraph(g)).toThrow(KilnError);
    expect(() => checkGraph(g)).toThrow(/two outputs named 'y'/);
  });

  it('rejects two parameters with the same name', () => {
    const x = inputNode('x', ['N', 3]);
    const g = graphOf([x], { y: makeNode('add', [makeNode('add', [x, paramNode('w', [3])]), paramNode('w', [3])]) });
    expect(() => checkGraph(g)).toThrow(KilnError);
    expect(() => checkGraph(g)).toThrow(/'w'/);
  });

  it('rejects an input and a parameter sharing a name', () => {
    const x = inputNode('w', ['N', 3]);
    const g = graphOf([x], { y: makeNode('add', [x, paramNode('w', [3])]) });
    expect(() => checkGraph(g)).toThrow(/two graph leaves are named 'w'/);
  });

  it('rejects an input the graph does not declare', () => {
    const x = inputNode('x', ['N', 3]);
    const hidden = inputNode('hidden', ['N', 3]);
    const g = graphOf([x], { y: makeNode('add', [x, hidden]) });
    expect(() => checkGraph(g)).toThrow(KilnError);
    expect(() => checkGraph(g)).toThrow(/'hidden' that is not declared/);
  });

  it('rejects a node whose recorded type disagrees with its rule', () => {
    const x = inputNode('x', ['N', 3]);
    const good = makeNode('relu', [x]);
    const forgedType: TensorType = { dtype: 'float32', shape: ['N', 4] };
    const forged: Node = Object.freeze({ ...good, id: good.id + 100000, type: forgedType });
    const g = graphOf([x], { y: forged });
    expect(() => checkGraph(g)).toThrow(/records float32\[N, 4\] but its rule gives float32\[N, 3\]/);
  });
});

/** A graph exercising every pass: composites, no-ops, foldable constants and duplicates. */
function kitchenSink(): Graph {
  const x = inputNode('x', ['N', 6]);
  const w = paramNode('w', [6, 4]);
  const b = paramNode('b', [4]);
  const shift = makeNode('mul', [constNode([1, 2, 3, 4], [4]), constNode([0.25], [])]);
  const h1 = makeNode('relu', [makeNode('add', [makeNode('matmul', [makeNode('identity', [x]), w]), b])]);
  const h2 = makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w]), b])]);
  const z = makeNode('dropout', [makeNode('add', [makeNode('add', [h1, h2]), shift])], { rate: 0.5 });
  return graphOf([x], { probs: makeNode('softmax', [z], { axis: -1 }), logp: makeNode('logSoftmax', [makeNode('reshape', [z], { shape: [-1, 4] })], { axis: 1 }) });
}

describe('every pass preserves semantics', () => {
  it.each(PASSES.map((p) => [p.name, p] as const))('%s alone', (_name, pass) => {
    const g = kitchenSink();
    expectSameSemantics(g, pass.run(g), 3, 11);
  });

  it('the whole pipeline, applied to its own output, is a fixed point in meaning', () => {
    const g = kitchenSink();
    const once = optimize(g);
    expectSameSemantics(g, once, 4, 5);
    expectSameSemantics(g, optimize(once), 4, 5);
    expect(opsOf(once)).not.toContain('softmax');
    expect(opsOf(once)).not.toContain('identity');
    expect(opsOf(once)).not.toContain('dropout');
    expect(opsOf(once).filter((o) => o === 'matmul')).toHaveLength(1);
  });

  it('optimize reports every pass by name, in order', () => {
    const seen: string[] = [];
    optimize(kitchenSink(), (name) => seen.push(name));
    expect(seen).toEqual(PASSES.map((p) => p.name));
  });

  it('randomData gives each leaf the right length (sanity of the helper)', () => {
    const g = kitchenSink();
    const { feeds, weights } = randomData(g, 3);
    expect(feeds.x).toHaveLength(18);
    expect(weights.w).toHaveLength(24);
    expect(weights.b).toHaveLength(4);
  });
});
