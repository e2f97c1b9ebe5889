// Gather's gradient (a scatter-add of the output gradient's rows): finite-difference checks, and
// one case by hand where repeated and negative indices add their rows.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { makeNode } from '../../src/ir/build.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { CASES } from './cases/gather.ts';
import { gradSuite, innerLoss } from './check.ts';

gradSuite('gather', 'gradients of gather (axis 0)', CASES);

describe('gather gradient by hand', () => {
  it('indices [0, 0, -1] of a [3, 2] table: d/dtable Σ y⊙r = [r0 + r1, 0, r2]', () => {
    const table = makeNode('input', [], { name: 'table', dtype: 'float64', shape: [3, 2] });
    const r = makeNode('input', [], { name: 'r', dtype: 'float64', shape: [3, 2] });
    const y = makeNode('gather', [table, makeNode('const', [], { dtype: 'int32', shape: [3], values: [0, 0, -1] })], { axis: 0 });
    const g = gradients(innerLoss(y, r), [table]).get(table)!;
    const feeds = { table: Float64Array.from([1, 2, 3, 4, 5, 6]), r: Float64Array.from([0.5, -1, 2, 0.25, -3, 7]) };
    const out = interpret({ name: 'gather_by_hand', inputs: [table, r], outputs: [{ name: 'g', node: g }] }, feeds, {}, 1);
    // Row 0 was picked by positions 0 and 1, row 2 (as -1) by position 2, row 1 by none.
    expect(Array.from(out.g)).toEqual([0.5 + 2, -1 + 0.25, 0, 0, -3, 7]);
  });
});
