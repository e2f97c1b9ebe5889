// Shape-rule errors raised by makeNode: ShapeError naming both shapes, located sites, unknown ops, arity.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { KilnError, RuleError, ShapeError, UnsupportedError } from '../../src/ir/errors.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import type { Node } from '../../src/ir/node.ts';
import { leaf, thrown } from './harness.ts';


const CONV = { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 };

/** [what, builder, substrings the message must contain]. */
const SHAPE_ERRORS: [string, () => Node, string[]][] = [
  ['mismatched broadcast', () => makeNode('add', [leaf(['N', 3, 4]), leaf([5])]), ['[N, 3, 4]', '[5]']],
  ['broadcast moving the batch', () => makeNode('mul', [leaf([2, 1, 4]), leaf(['N', 4])]), ['[2, 1, 4]', '[N, 4]']],
  ['matmul inner dim mismatch', () => makeNode('matmul', [leaf(['N', 784]), leaf([128, 10])]), ['[N, 784]', '[128, 10]', '784 vs 128']],
  ['conv channel mismatch', () => makeNode('conv2d', [leaf(['N', 3, 28, 28]), leaf([16, 1, 5, 5])], CONV), ['[N, 3, 28, 28]', '[16, 1, 5, 5]']],
  ['reshape 8000 vs 320', () => makeNode('reshape', [leaf(['N', 20, 20, 20])], { shape: [-1, 320] }), ['[N, 20, 20, 20]', '8000', '320']],
  ['transpose bad perm', () => makeNode('transpose', [leaf(['N', 3, 4])], { perm: [0, 2, 2] }), ['[0,2,2]', '[N, 3, 4]']],
  ['concat mismatch', () => makeNode('concat', [leaf(['N', 4, 5]), leaf(['N', 3, 6])], { axis: 1 }), ['[N, 4, 5]', '[N, 3, 6]']],
  ['wrong input count', () => makeNode('add', [leaf([3])]), ['add takes 2 input(s), got 1']],
  ['too many inputs', () => makeNode('relu', [leaf([3]), leaf([3])]), ['relu takes 1 input(s), got 2']],
  ['inputs to a leaf', () => makeNode('input', [leaf([3])], { name: 'x', dtype: 'float32', shape: [3] }), ['input takes 0 input(s), got 1']],
  ['reduce axis out of range', () => makeNode('reduceSum', [leaf(['N', 3])], { axes: [2], keepdims: false }), ['axis 2', '[N, 3]']],
  ['batch dim not first', () => makeNode('input', [], { name: 'x', dtype: 'float32', shape: [3, 'N'] }), ['batch dimension may only come first']],
  ['unknown dtype', () => makeNode('input', [], { name: 'x', dtype: 'float16', shape: [3] }), ['attribute dtype', 'float16']],
  ['bad const size', () => makeNode('const', [], { dtype: 'float32', shape: [2, 2], values: [1, 2, 3] }), ['needs 1 or 4 values']],
  ['batched const', () => makeNode('const', [], { dtype: 'float32', shape: ['N', 2], values: [1] }), ['batch dimension']],
];

describe('ShapeError from makeNode', () => {
  it.each(SHAPE_ERRORS)('%s', (_what, build, parts) => {
    const e = thrown(build);
    expect(e).toBeInstanceOf(ShapeError);
    expect(e).toBeInstanceOf(KilnError);
    expect(e.name).toBe('ShapeError');
    for (const part of parts) expect(e.message).toContain(part);
    expect((e as ShapeError).detail.length).toBeGreaterThan(0);
  });

  it('names the op, the layer and the source location from the node metadata', () => {
    const meta = { layer: 'dense_7', layerKind: 'Dense', source: { file: 'models/mnist.ts', line: 12, column: 5 } };
    const e = thrown(() => makeNode('matmul', [leaf(['N', 4]), leaf([5, 2])], {}, meta)) as ShapeError;
    expect(e.site).toEqual({ op: 'matmul', layer: 'dense_7', source: meta.source });
    expect(e.message).toMatch(/^layer 'dense_7' \(matmul\) at models\/mnist\.ts:12:5: /);
    expect(e.message).toContain('(inputs [N, 4], [5, 2])');
  });

  it('without metadata the message still starts with the op', () => {
    const e = thrown(() => makeNode('sub', [leaf([2]), leaf([3])])) as ShapeError;
    expect(e.message).toMatch(/^\(sub\): cannot broadcast \[2\] with \[3\]/);
    expect(e.site.layer).toBeUndefined();
    expect(e.site.source).toBeUndefined();
  });

  it('RuleError never escapes makeNode', () => {
    for (const [, build] of SHAPE_ERRORS) expect(thrown(build)).not.toBeInstanceOf(RuleError);
  });
});

describe('unknown ops', () => {
  it.each(['conv3d', 'Relu', 'softMax', 'toString', '__proto__', 'constructor', ''])('%j is an UnsupportedError', (op) => {
    // As a name read from a file arrives: only the run-time check stands between it and the table.
    const e = thrown(() => makeNode(op as OpName, [leaf([3])]));
    expect(e).toBeInstanceOf(UnsupportedError);
    expect(e).toBeInstanceOf(KilnError);
    expect(e.message).toContain('unknown op');
    expect(e.message).toContain(`'${op}'`);
  });
});
