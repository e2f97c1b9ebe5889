// Constant folding alone: const-only subgraphs become one const with hand-computed values; the rest stays.
import { describe, expect, it } from 'vitest';
import { MAX_FOLDED_ELEMENTS, foldConstants } from '../../compiler/passes/fold.ts';
import { makeNode } from '../../src/ir/build.ts';
import { constantData } from '../../src/ir/constant.ts';
import { graphNodes } from '../../src/ir/graph.ts';
import { countOp, expectSameSemantics, constNode, graphOf, inputNode, opsOf, paramNode } from './util.ts';

/** The single output node of a folded graph, checked to be a const, with its data. */
function foldedConst(g: ReturnType<typeof foldConstants>, index = 0) {
  const n = g.outputs[index].node;
  expect(n.op).toBe('const');
  return { node: n, data: Array.from(constantData(n)) };
}

describe('foldConstants', () => {
  it('folds add of two constants: [1, 2] + [3, 4] = [4, 6]', () => {
    const y = makeNode('add', [constNode([1, 2], [2]), constNode([3, 4], [2])]);
    const after = foldConstants(graphOf([], { y }));
    const { node, data } = foldedConst(after);
    expect(data).toEqual([4, 6]);
    expect(node.type).toEqual({ dtype: 'float32', shape: [2] });
    expect(opsOf(after)).toEqual(['const']);
  });

  it('folds a whole const-only chain into one const', () => {
    // relu(neg([[1, -2], [3, -4]]) * 2 - 1) computed by hand.
    const c = constNode([1, -2, 3, -4], [2, 2]);
    const two = constNode([2], []);
    const one = constNode([1], []);
    const y = makeNode('relu', [makeNode('sub', [makeNode('mul', [makeNode('neg', [c]), two]), one])]);
    const after = foldConstants(graphOf([], { y }));
    const expected = [1, -2, 3, -4].map((v) => Math.max(-v * 2 - 1, 0));
    expect(foldedConst(after).data).toEqual(expected);
    expect(graphNodes(after)).toHaveLength(1);
  });

  it('folds broadcasting and reductions with hand-computed values', () => {
    const m = constNode([1, 2, 3, 4, 5, 6], [2, 3]);
    const row = constNode([10, 20, 30], [3]);
    const sum = makeNode('reduceSum', [makeNode('add', [m, row])], { axes: [1], keepdims: false });
    const after = foldConstants(graphOf([], { sum }));
    // rows: [11, 22, 33] = 66 and [14, 25, 36] = 75
    expect(foldedConst(after).data).toEqual([66, 75]);
    expect(after.outputs[0].node.type.shape).toEqual([2]);
  });

  it('folds a view of a constant and a truncating cast to int32', () => {
    const c = constNode([1.7, -1.7, 2.5, -0.5], [4]);
    const r = makeNode('reshape', [c], { shape: [2, 2] });
    const i = makeNode('cast', [r], { to: 'int32' });
    const after = foldConstants(graphOf([], { r, i }));
    expect(foldedConst(after, 0).node.type.shape).toEqual([2, 2]);
    expect(foldedConst(after, 0).data).toEqual(Array.from(Float32Array.from([1.7, -1.7, 2.5, -0.5])));
    const cast = foldedConst(after, 1);
    expect(cast.node.type.dtype).toBe('int32');
    expect(cast.data).toEqual([1.7, -1.7, 2.5, -0.5].map((v) => Math.trunc(v) | 0));
  });

  it('folds the constant part of a mixed expression and keeps the input-dependent rest', () => {
    const x = inputNode('x', ['N', 2]);
    const k = makeNode('mul', [constNode([3], []), constNode([0.5, 4], [2])]);
    const y = makeNode('add', [x, k]);
    const g = graphOf([x], { y });
    const after = foldConstants(g);
    const add = after.outputs[0].node;
    expect(add.op).toBe('add');
    expect(add.inputs[0]).toBe(after.inputs[0]);
    expect(add.inputs[1].op).toBe('const');
    expect(Array.from(constantData(add.inputs[1]))).toEqual([1.5, 12]);
    expect(countOp(after, 'mul')).toBe(0);
    expectSameSemantics(g, after);
  });

  it('leaves batched (input-dependent) nodes alone', () => {
    const x = inputNode('x', ['N', 3]);
    const y = makeNode('exp', [makeNode('mul', [x, constNode([2], [])])]);
    const g = graphOf([x], { y });
    const after = foldConstants(g);
    expect(opsOf(after).sort()).toEqual(['const', 'exp', 'input', 'mul']);
    expect(after.outputs[0].node).toBe(y);
  });

  it('leaves parameter-dependent nodes alone', () => {
    const w = paramNode('w', [3]);
    const y = makeNode('add', [w, makeNode('neg', [constNode([1, 2, 3], [3])])]);
    const g = graphOf([], { y });
    const after = foldConstants(g);
    const add = after.outputs[0].node;
    expect(add.op).toBe('add');
    expect(add.inputs[0].op).toBe('param');
    expect(add.inputs[1].op).toBe('const');
    expect(Array.from(constantData(add.inputs[1]))).toEqual([-1, -2, -3]);
    expectSameSemantics(g, after);
  });

  it(`folds up to MAX_FOLDED_ELEMENTS (${MAX_FOLDED_ELEMENTS}) elements and no more`, () => {
    const at = makeNode('neg', [constNode([2], [MAX_FOLDED_ELEMENTS])]);
    const over = makeNode('neg', [constNode([2], [MAX_FOLDED_ELEMENTS + 1])]);
    const over2d = makeNode('exp', [constNode([0], [2, Math.ceil((MAX_FOLDED_ELEMENTS + 1) / 2)])]);
    const after = foldConstants(graphOf([], { at, over, over2d }));
    const folded = foldedConst(after, 0);
    expect(folded.data).toHaveLength(MAX_FOLDED_ELEMENTS);
    expect(folded.data.every((v) => v === -2)).toBe(true);
    expect(after.outputs[1].node.op).toBe('neg');
    expect(after.outputs[1].node.inputs[0].op).toBe('const');
    expect(after.outputs[2].node.op).toBe('exp');
  });

  it('a big intermediate stays computed but a small const-only consumer of it is not folded either', () => {
    // sum over a big const: the reduction's inputs are not all consts once the big neg stays.
    const big = makeNode('neg', [constNode([1], [MAX_FOLDED_ELEMENTS * 2])]);
    const total = makeNode('reduceSum', [big], { axes: [], keepdims: false });
    const g = graphOf([], { total });
    const after = foldConstants(g);
    expect(after.outputs[0].node.op).toBe('reduceSum');
    expectSameSemantics(g, after, 1);
  });

  it('keeps the folded node\'s layer metadata', () => {
    const meta = { layer: 'scale', layerKind: 'Constant' };
    const y = makeNode('mul', [constNode([2], [2]), constNode([3, 4], [2])], {}, meta);
    const after = foldConstants(graphOf([], { y }));
    expect(after.outputs[0].node.meta).toEqual(meta);
    expect(foldedConst(after).data).toEqual([6, 8]);
  });

  it('folds float64 and keeps its precision', () => {
    const y = makeNode('div', [constNode([1], [1], 'float64'), constNode([3], [1], 'float64')]);
    const { node, data } = foldedConst(foldConstants(graphOf([], { y })));
    expect(node.type.dtype).toBe('float64');
    expect(data[0]).toBe(1 / 3);
  });

  it('preserves semantics on a graph mixing folded and live parts', () => {
    const x = inputNode('x', ['N', 4]);
    const w = paramNode('w', [4, 4]);
    const bias = makeNode('sub', [constNode([1, 2, 3, 4], [4]), constNode([0.5], [])]);
    const scale = makeNode('exp', [constNode([0.1, 0.2, 0.3, 0.4], [4])]);
    const y = makeNode('mul', [makeNode('add', [makeNode('matmul', [x, w]), bias]), scale]);
    const g = graphOf([x], { y });
    const after = foldConstants(g);
    expect(countOp(after, 'sub') + countOp(after, 'exp')).toBe(0);
    expectSameSemantics(g, after, 3);
  });
});
