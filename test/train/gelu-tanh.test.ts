// gelu's tanh form (PyTorch's approximate='tanh') is differentiable: its gradient against
// central finite differences through the emitted module in float64 (test/grad's harness), and
// its derivative at chosen points against the formula differentiated by hand.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { makeNode } from '../../src/ir/build.ts';
import { gradSuite } from '../grad/check.ts';

gradSuite('gelu-tanh', 'gelu (tanh form) gradient by finite differences', [
  { name: 'gelu-tanh', inputs: [{ shape: ['N', 3, 4], range: [-3, 3] }], build: ([x]) => makeNode('gelu', [x], { approximate: 'tanh' }) },
  { name: 'gelu-tanh-wide', inputs: [{ shape: ['N', 5], range: [-8, 8] }], build: ([x]) => makeNode('gelu', [x], { approximate: 'tanh' }), batch: 3 },
]);

describe('gelu tanh derivative by hand', () => {
  it('matches ½(1 + tanh u) + ½x·sech²u·√(2/π)(1 + 0.134145x²) at x = -2, -0.5, 0, 1, 3', () => {
    const xs = [-2, -0.5, 0, 1, 3];
    const x = makeNode('input', [], { name: 'x', dtype: 'float64', shape: [xs.length] });
    const y = makeNode('gelu', [x], { approximate: 'tanh' });
    const loss = makeNode('reduceSum', [y], { axes: [], keepdims: false });
    const gx = gradients(loss, [x]).get(x)!;
    const got = interpret({ name: 'g', inputs: [x], outputs: [{ name: 'gx', node: gx }] }, { x: Float64Array.from(xs) }, {}, 1).gx;
    const k = Math.sqrt(2 / Math.PI);
    const want = xs.map((v) => {
      const t = Math.tanh(k * (v + 0.044715 * v ** 3));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 0.134145 * v * v);
    });
    expect(Array.from(got as Float64Array)).toBeAllclose(want, { rtol: 1e-12, atol: 1e-14 });
  });
});
