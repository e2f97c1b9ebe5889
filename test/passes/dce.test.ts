// Dead-code elimination alone: no-op views, casts and transposes are bypassed, unreachable nodes dropped, values kept.
import { describe, expect, it } from 'vitest';
import { eliminateDeadCode } from '../../compiler/passes/simplify.ts';
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes } from '../../src/ir/graph.ts';
import { countOp, expectSameSemantics, graphOf, inputNode, opsOf, paramNode } from './util.ts';

describe('eliminateDeadCode', () => {
  it.each([
    ['identity', {}],
    ['dropout', { rate: 0.5 }],
  ] as const)('bypasses %s', (op, attrs) => {
    const x = inputNode('x', ['N', 4]);
    const v = makeNode(op, [makeNode('relu', [x])], attrs);
    const y = makeNode('exp', [v]);
    const g = graphOf([x], { y });
    const after = eliminateDeadCode(g);
    expect(countOp(after, op)).toBe(0);
    expect(opsOf(after)).toEqual(['input', 'relu', 'exp']);
    // exp now reads relu directly.
    const exp = after.outputs[0].node;
    expect(exp.inputs[0].op).toBe('relu');
    expectSameSemantics(g, after);
  });

  it('bypasses a reshape to the same shape but keeps a real one', () => {
    const x = inputNode('x', ['N', 2, 3]);
    const same = makeNode('reshape', [x], { shape: [-1, 2, 3] });
    const real = makeNode('reshape', [x], { shape: [-1, 6] });
    const g = graphOf([x], { a: makeNode('neg', [same]), b: makeNode('neg', [real]) });
    const after = eliminateDeadCode(g);
    const reshapes = graphNodes(after).filter((n) => n.op === 'reshape');
    expect(reshapes).toHaveLength(1);
    expect(reshapes[0].type.shape).toEqual(['N', 6]);
    expect(after.outputs[0].node.inputs[0]).toBe(after.inputs[0]);
    expectSameSemantics(g, after);
  });

  it('bypasses a cast to the same dtype but keeps a converting one', () => {
    const x = inputNode('x', ['N', 5]);
    const same = makeNode('cast', [x], { to: 'float32' });
    const conv = makeNode('cast', [x], { to: 'int32' });
    const g = graphOf([x], { a: makeNode('abs', [same]), b: conv });
    const after = eliminateDeadCode(g);
    const casts = graphNodes(after).filter((n) => n.op === 'cast');
    expect(casts).toHaveLength(1);
    expect(casts[0].type.dtype).toBe('int32');
    expect(after.outputs[0].node.inputs[0].op).toBe('input');
    expectSameSemantics(g, after);
  });

  it('bypasses an identity-permutation transpose but keeps a real one', () => {
    const w = paramNode('w', [3, 4]);
    const x = inputNode('x', ['N', 3, 4]);
    const idT = makeNode('transpose', [x], { perm: [0, 1, 2] });
    const realT = makeNode('transpose', [w], { perm: [1, 0] });
    const g = graphOf([x], { a: makeNode('relu', [idT]), b: makeNode('relu', [realT]) });
    const after = eliminateDeadCode(g);
    const ts = graphNodes(after).filter((n) => n.op === 'transpose');
    expect(ts).toHaveLength(1);
    expect(ts[0].attrs.perm).toEqual([1, 0]);
    expectSameSemantics(g, after);
  });

  it('collapses a chain of no-ops, including one that is itself an output', () => {
    const x = inputNode('x', ['N', 3]);
    let h = makeNode('identity', [x]);
    h = makeNode('dropout', [h], { rate: 0.1 });
    h = makeNode('reshape', [h], { shape: [-1, 3] });
    h = makeNode('cast', [h], { to: 'float32' });
    const g = graphOf([x], { y: makeNode('sigmoid', [h]), raw: h });
    const after = eliminateDeadCode(g);
    expect(opsOf(after)).toEqual(['input', 'sigmoid']);
    expect(after.outputs.map((o) => o.name)).toEqual(['y', 'raw']);
    expect(after.outputs[1].node).toBe(after.inputs[0]);
    expectSameSemantics(g, after);
  });

  it('drops nodes that no output reaches once no-ops are bypassed', () => {
    const x = inputNode('x', ['N', 4]);
    const w = paramNode('w', [4, 4]);
    const used = makeNode('matmul', [x, w]);
    const unusedBranch = makeNode('tanh', [makeNode('exp', [x])]); // never reaches an output
    void unusedBranch;
    const g = graphOf([x], { y: makeNode('identity', [makeNode('relu', [used])]) });
    const after = eliminateDeadCode(g);
    const ops = opsOf(after);
    expect(ops).not.toContain('tanh');
    expect(ops).not.toContain('exp');
    expect(ops).not.toContain('identity');
    expect(ops.sort()).toEqual(['input', 'matmul', 'param', 'relu']);
    expectSameSemantics(g, after);
  });

  it('leaves a graph without no-ops unchanged (same node objects)', () => {
    const x = inputNode('x', ['N', 4]);
    const y = makeNode('relu', [makeNode('neg', [x])]);
    const g = graphOf([x], { y });
    const after = eliminateDeadCode(g);
    expect(after.outputs[0].node).toBe(y);
    expect(after.inputs[0]).toBe(x);
  });

  it('keeps declared inputs and output names and order', () => {
    const a = inputNode('a', ['N', 2]);
    const b = inputNode('b', ['N', 2]);
    const g = graphOf([a, b], { second: makeNode('identity', [b]), first: makeNode('add', [a, makeNode('dropout', [b], { rate: 0.3 })]) });
    const after = eliminateDeadCode(g);
    expect(after.inputs.map((n) => n.attrs.name)).toEqual(['a', 'b']);
    expect(after.outputs.map((o) => o.name)).toEqual(['second', 'first']);
    expect(countOp(after, 'dropout') + countOp(after, 'identity')).toBe(0);
    expectSameSemantics(g, after);
  });
});
