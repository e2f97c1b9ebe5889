// Padding as a tensor of its own (compiler/passes/pad-conv.ts): padded convolutions and their
// filter gradients become unpadded ones over a padded input, with the same values.
import { describe, expect, it } from 'vitest';
import { padConvolutions } from '../../compiler/passes/pad-conv.ts';
import { eliminateCommonSubexpressions } from '../../compiler/passes/cse.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes } from '../../src/ir/graph.ts';
import { countOp, expectSameSemantics, graphOf, inputNode, paramNode } from './util.ts';

const conv = (pads: number[], strides = [1, 1]) => {
  const x = inputNode('x', ['N', 2, 7, 6]);
  const w = paramNode('w', [3, 2, 3, 3]);
  const y = makeNode('conv2d', [x, w], { strides, pads, dilations: [1, 1], group: 1 });
  return { x, w, y };
};

describe('padConvolutions', () => {
  it('rewrites a padded conv2d into pad → unpadded conv2d, with the same values', () => {
    const { x, y } = conv([1, 2, 1, 0]);
    const g = graphOf([x], { y });
    const after = padConvolutions(g);
    const convs = graphNodes(after).filter((n) => n.op === 'conv2d');
    expect(convs.map((n) => n.attrs.pads)).toEqual([[0, 0, 0, 0]]);
    expect(convs[0].inputs[0].op).toBe('pad');
    expect(convs[0].inputs[0].attrs.pads).toEqual([0, 0, 1, 2, 0, 0, 1, 0]);
    expect(after.outputs[0].node.type).toEqual(y.type);
    expectSameSemantics(g, after);
  });

  it('leaves unpadded convolutions alone', () => {
    const { x, y } = conv([0, 0, 0, 0]);
    const g = graphOf([x], { y });
    expect(padConvolutions(g).outputs[0].node).toBe(y);
  });

  it('rewrites the filter gradient too; the forward and backward pads of one input are one node after CSE', () => {
    const { x, w, y } = conv([1, 1, 1, 1], [2, 1]);
    const loss = makeNode('reduceSum', [makeNode('mul', [y, y])], { axes: [0, 1, 2, 3], keepdims: false });
    const dw = gradients(loss, [w]).get(w)!;
    const g = graphOf([x], { y, dw });
    const after = eliminateCommonSubexpressions(padConvolutions(g));
    expect(graphNodes(after).filter((n) => n.op === 'conv2dBackwardFilter').map((n) => n.attrs.pads)).toEqual([[0, 0, 0, 0]]);
    expect(countOp(after, 'pad')).toBe(1); // x padded once, for the forward conv and the filter gradient
    expectSameSemantics(g, after);
  });

  it('makes a padded convolution a SIMD kernel', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 2, 8, 8] });
    const w = makeNode('input', [], { name: 'w', dtype: 'float32', shape: [4, 2, 3, 3] });
    const y = makeNode('conv2d', [x, w], { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 });
    const kernels = compileGraph(graphOf([x, w], { y })).program.kernels;
    expect(kernels.map((k) => k.ops[0])).toEqual(['pad', 'conv2d']);
    expect(renderSimdKernel(kernels[1])).not.toBeNull();
  });
});
