// Common-subexpression elimination alone: duplicates (same op, attrs in any key order, inputs) merge; others do not.
import { describe, expect, it } from 'vitest';
import { eliminateCommonSubexpressions } from '../../compiler/passes/cse.ts';
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { countOp, constNode, expectSameSemantics, graphOf, inputNode, paramNode } from './util.ts';

describe('eliminateCommonSubexpressions', () => {
  it('merges two identical nodes into one', () => {
    const x = inputNode('x', ['N', 3]);
    const y = inputNode('y', ['N', 3]);
    const a1 = makeNode('add', [x, y]);
    const a2 = makeNode('add', [x, y]);
    const g = graphOf([x, y], { z: makeNode('mul', [a1, a2]) });
    const after = eliminateCommonSubexpressions(g);
    const mul = after.outputs[0].node;
    expect(mul.inputs[0]).toBe(mul.inputs[1]);
    expect(countOp(after, 'add')).toBe(1);
    expectSameSemantics(g, after);
  });

  it('merges duplicates transitively (duplicate chains become one chain)', () => {
    const x = inputNode('x', ['N', 4]);
    const chain = () => makeNode('tanh', [makeNode('exp', [makeNode('neg', [x])])]);
    const g = graphOf([x], { a: chain(), b: chain(), c: makeNode('add', [chain(), chain()]) });
    const after = eliminateCommonSubexpressions(g);
    expect(countOp(after, 'neg')).toBe(1);
    expect(countOp(after, 'exp')).toBe(1);
    expect(countOp(after, 'tanh')).toBe(1);
    expect(after.outputs[0].node).toBe(after.outputs[1].node);
    expectSameSemantics(g, after);
  });

  it('merges nodes whose attributes differ only in key order', () => {
    const x = inputNode('x', ['N', 3, 4]);
    const w = paramNode('w', [5, 4]);
    const m1 = makeNode('matmul', [x, w], { transA: false, transB: true });
    const m2 = makeNode('matmul', [x, w], { transB: true, transA: false });
    const c1 = makeNode('clip', [m1], { min: -1, max: 1 });
    const c2 = makeNode('clip', [m2], { max: 1, min: -1 });
    const g = graphOf([x], { a: c1, b: c2 });
    const after = eliminateCommonSubexpressions(g);
    expect(countOp(after, 'matmul')).toBe(1);
    expect(countOp(after, 'clip')).toBe(1);
    expect(after.outputs[0].node).toBe(after.outputs[1].node);
    expectSameSemantics(g, after);
  });

  it('merges equal constants (same dtype, shape and values)', () => {
    const x = inputNode('x', ['N', 2]);
    const g = graphOf([x], { y: makeNode('add', [makeNode('mul', [x, constNode([2, 3], [2])]), constNode([2, 3], [2])]) });
    const after = eliminateCommonSubexpressions(g);
    expect(countOp(after, 'const')).toBe(1);
    expectSameSemantics(g, after);
  });

  it('does not merge nodes with different attributes', () => {
    const x = inputNode('x', ['N', 3]);
    const g = graphOf([x], {
      a: makeNode('leakyRelu', [x], { alpha: 0.1 }),
      b: makeNode('leakyRelu', [x], { alpha: 0.2 }),
      c: makeNode('clip', [x], { min: 0, max: 1 }),
      d: makeNode('clip', [x], { min: 0, max: 2 }),
    });
    const after = eliminateCommonSubexpressions(g);
    expect(countOp(after, 'leakyRelu')).toBe(2);
    expect(countOp(after, 'clip')).toBe(2);
    expectSameSemantics(g, after);
  });

  it('does not merge constants that differ in values, shape or dtype', () => {
    const g = graphOf([], {
      a: constNode([1, 2], [2]),
      b: constNode([2, 1], [2]),
      c: constNode([1, 2], [1, 2]),
      d: constNode([1, 2], [2], 'float64'),
    });
    const after = eliminateCommonSubexpressions(g);
    expect(new Set(after.outputs.map((o) => o.node)).size).toBe(4);
  });

  it('does not merge same-op nodes with different inputs or input order', () => {
    const x = inputNode('x', ['N', 3]);
    const y = inputNode('y', ['N', 3]);
    const g = graphOf([x, y], { a: makeNode('sub', [x, y]), b: makeNode('sub', [y, x]), c: makeNode('exp', [x]), d: makeNode('exp', [y]) });
    const after = eliminateCommonSubexpressions(g);
    expect(countOp(after, 'sub')).toBe(2);
    expect(countOp(after, 'exp')).toBe(2);
    expectSameSemantics(g, after);
  });

  it('keeps distinct inputs and parameters apart (they differ by name)', () => {
    const x = inputNode('x', ['N', 3]);
    const y = inputNode('y', ['N', 3]);
    const p = paramNode('p', [3]);
    const q = paramNode('q', [3]);
    const g = graphOf([x, y], { a: makeNode('add', [x, p]), b: makeNode('add', [y, q]) });
    const after = eliminateCommonSubexpressions(g);
    expect(graphNodes(after).filter((n) => n.op === 'input')).toHaveLength(2);
    expect(graphNodes(after).filter((n) => n.op === 'param')).toHaveLength(2);
    expectSameSemantics(g, after);
  });

  it('preserves semantics of a diamond with shared and duplicated work', () => {
    const x = inputNode('x', ['N', 4]);
    const w = paramNode('w', [4, 4]);
    const h1 = makeNode('relu', [makeNode('matmul', [x, w])]);
    const h2 = makeNode('relu', [makeNode('matmul', [x, w])]);
    const s = makeNode('softmax', [makeNode('add', [h1, h2])], { axis: -1 });
    const g = graphOf([x], { s, h: h2 });
    const after = eliminateCommonSubexpressions(g);
    expect(countOp(after, 'matmul')).toBe(1);
    expectSameSemantics(g, after, 3);
  });

  it('does not merge constants holding different non-finite values (+Infinity, -Infinity, NaN)', () => {
    const x = inputNode('x', ['N', 2]);
    const g = graphOf([x], {
      lo: makeNode('add', [x, constNode([-Infinity], [])]),
      hi: makeNode('add', [x, constNode([Infinity], [])]),
      nan: makeNode('add', [x, constNode([NaN], [])]),
    });
    const after = eliminateCommonSubexpressions(g);
    expect(countOp(after, 'const')).toBe(3);
    const out = interpret(after, { x: new Float32Array([1, 2]) }, {}, 1);
    expect(Array.from(out.lo)).toEqual([-Infinity, -Infinity]);
    expect(Array.from(out.hi)).toEqual([Infinity, Infinity]);
    expect(Array.from(out.nan).every(Number.isNaN)).toBe(true);
  });

  // KNOWN BUG (reported): attrsKey goes through JSON.stringify, which writes -0 as 0, so the
  // constants -0 and 0 merge and 1 / -0 becomes +Infinity. Remove `.fails` once cse.ts keeps them apart.
  it('does not merge the constants -0 and 0', () => {
    const x = inputNode('x', ['N', 1]);
    const one = constNode([1], []);
    const g = graphOf([x], { pos: makeNode('div', [one, constNode([0], [])]), neg: makeNode('div', [one, constNode([-0], [])]) });
    const out = interpret(eliminateCommonSubexpressions(g), { x: new Float32Array([0]) }, {}, 1);
    expect(Array.from(out.pos)).toEqual([Infinity]);
    expect(Array.from(out.neg)).toEqual([-Infinity]);
  });
});
