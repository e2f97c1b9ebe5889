// The reverse-mode driver itself: errors (non-differentiable ops, non-scalar losses), zero
// gradients off the loss path, accumulation over several uses, seeds, intermediate nodes,
// composed networks, and a self-test showing the harness rejects a subtly wrong VJP rule.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { VJP } from '../../compiler/autodiff/vjp.ts';
import type { OpName } from '../../src/ir/ops/index.ts';
import { makeNode } from '../../src/ir/build.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { topoSort, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Dim } from '../../src/ir/shape.ts';
import { Lcg } from '../reference/lcg.ts';
import { CASES as BINARY } from './cases/binary.ts';
import { CASES as CONV_POOL } from './cases/conv-pool.ts';
import { CASES as GATHER } from './cases/gather.ts';
import { CASES as LINALG } from './cases/linalg.ts';
import { CASES as MOVEMENT } from './cases/movement.ts';
import { CASES as REDUCE } from './cases/reduce.ts';
import { CASES as UNARY } from './cases/unary.ts';
import { checkGrads, compileAndLoad, gradSuite, innerLoss, type GradCase, type Node } from './check.ts';

const input = (name: string, shape: Dim[]) => makeNode('input', [], { name, dtype: 'float64', shape });
const sum = (x: Node) => makeNode('reduceSum', [x], { axes: [], keepdims: false });
const scalar = (v: number) => makeNode('const', [], { dtype: 'float64', shape: [], values: [v] });

const ZERO_RULE_OPS: OpName[] = ['dropoutMask', 'isEqual', 'sign', 'step'];

describe('zero rules', () => {
  it('masks and signs pass no gradient back: d/dx Σ x·step(x) = step(x), d/dx Σ x·mask(x) = mask(x)', () => {
    const x = input('x', ['N', 4]);
    const seed = makeNode('input', [], { name: 'seed', dtype: 'float64', shape: [] });
    for (const mask of [makeNode('step', [x]), makeNode('sign', [x]), makeNode('isEqual', [x, scalar(0.5)]), makeNode('dropoutMask', [x, seed], { rate: 0.5 })]) {
      const dx = gradients(sum(makeNode('mul', [x, mask])), [x]).get(x)!;
      const feeds = { x: Float64Array.from([0.5, -1, 2, 0.25, 3, -0.5, 0.5, 1]), seed: Float64Array.from([7]) };
      const out = interpret({ name: 'z', inputs: [x, seed], outputs: [{ name: 'dx', node: dx }, { name: 'mask', node: mask }] }, feeds, {}, 2);
      expect(Array.from(out.dx)).toEqual(Array.from(out.mask));
    }
  });
});

describe('coverage', () => {
  it('every op with a VJP rule is under a finite-difference check, and nothing else is claimed', () => {
    const checked = new Set<OpName>();
    for (const c of [...UNARY, ...BINARY, ...MOVEMENT, ...LINALG, ...CONV_POOL, ...REDUCE, ...GATHER]) {
      const xs = c.inputs.map((s, i) => makeNode('input', [], { name: `x${i}`, dtype: 'float64', shape: s.shape }));
      for (const n of topoSort([c.build(xs)])) if (n.op !== 'input' && n.op !== 'const') checked.add(n.op);
    }
    // Piecewise-constant ops (masks, signs) have an all-ZERO rule, checked in 'zero rules' below.
    const rules = (Object.keys(VJP) as OpName[]).filter((op) => typeof VJP[op] === 'function' && !ZERO_RULE_OPS.includes(op)).sort();
    expect(rules.filter((op) => !checked.has(op)), 'ops with a VJP rule but no check').toEqual([]);
    expect([...checked].filter((op) => !rules.includes(op)).sort(), 'checked ops without a VJP rule').toEqual([]);
    expect(rules.length).toBeGreaterThanOrEqual(40);
  });

  it('every op without a rule says why in a sentence', () => {
    for (const rule of Object.values(VJP)) if (typeof rule !== 'function') expect(rule.notDifferentiable).toMatch(/^\S.{10,}/);
  });
});

describe('gradients: errors', () => {
  it('through argmax: a KilnError naming the op and layer, saying it is not differentiable', () => {
    const x = input('x', ['N', 5]);
    const picked = makeNode('argmax', [x], { axis: 1, keepdims: false }, { layer: 'pick' });
    const loss = sum(makeNode('cast', [picked], { to: 'float64' }));
    expect(() => gradients(loss, [x])).toThrow(KilnError);
    expect(() => gradients(loss, [x])).toThrow(/layer 'pick' \(argmax\).*op 'argmax' is not differentiable \(integer output: an index/);
  });

  it('through argmax even when another path to the same input is differentiable', () => {
    const x = input('x', ['N', 5]);
    const picked = makeNode('cast', [makeNode('argmax', [x], { axis: -1, keepdims: true })], { to: 'float64' });
    const loss = sum(makeNode('mul', [x, picked]));
    expect(() => gradients(loss, [x])).toThrow(/not differentiable/);
  });

  it('argmax off the differentiated path is fine: its input is not asked for', async () => {
    const [x, z] = [input('x', ['N', 4]), input('z', ['N', 4])];
    const picked = makeNode('cast', [makeNode('argmax', [z], { axis: 1, keepdims: true })], { to: 'float64' });
    const loss = sum(makeNode('mul', [x, picked]));
    const gx = gradients(loss, [x]).get(x)!;
    const graph: Graph = { name: 'argmax_off_path', inputs: [x, z], outputs: [{ name: 'gx', node: gx }] };
    const z0 = Float64Array.from([0, 3, 1, 2, 9, 1, 1, 1]);
    const { model } = await compileAndLoad(graph, 'autodiff', 'argmax-off-path');
    const got = model.run({ x: new Float64Array(8), z: z0 }, 2).gx;
    expect(got).toBeAllclose([1, 1, 1, 1, 0, 0, 0, 0], { rtol: 0, atol: 0 });
  });

  it('through reflect padding (no rule for that mode): not differentiable with respect to input 0', () => {
    const x = input('x', ['N', 3]);
    const loss = sum(makeNode('pad', [x], { pads: [0, 1, 0, 1], mode: 'reflect', value: 0 }));
    expect(() => gradients(loss, [x])).toThrow(KilnError);
    expect(() => gradients(loss, [x])).toThrow(/op 'pad' is not differentiable with respect to its input 0/);
  });

  it('of a non-scalar loss: a KilnError asking for a scalar', () => {
    const x = input('x', ['N', 3]);
    expect(() => gradients(makeNode('tanh', [x]), [x])).toThrow(KilnError);
    expect(() => gradients(makeNode('tanh', [x]), [x])).toThrow(/scalar loss, got shape \[N, 3\]/);
    const one = makeNode('reduceSum', [x], { axes: [], keepdims: true });
    expect(() => gradients(one, [x])).toThrow(/scalar loss, got shape \[1, 1\]/);
  });
});

describe('gradients: structure', () => {
  it('an input and a parameter off the loss path get zero gradients of their own shapes', async () => {
    const [x, z] = [input('x', ['N', 3]), input('z', ['N', 3])];
    const p = makeNode('param', [], { name: 'p', dtype: 'float64', shape: [3, 2], init: { kind: 'normal', mean: 0, std: 1 }, trainable: true });
    const loss = sum(makeNode('tanh', [x]));
    const g = gradients(loss, [x, z, p]);
    expect(g.get(z)!.type.shape).toEqual(['N', 3]);
    expect(g.get(p)!.type.shape).toEqual([3, 2]);
    const graph: Graph = { name: 'off_path', inputs: [x, z], outputs: [{ name: 'gx', node: g.get(x)! }, { name: 'gz', node: g.get(z)! }, { name: 'gp', node: g.get(p)! }] };
    const feeds = { x: Float64Array.from([0.5, -1, 2, 0, 1, -0.25]), z: Float64Array.from([1, 2, 3, 4, 5, 6]) };
    const weights = Float32Array.from([1, -2, 3, -4, 5, -6]);
    const { model } = await compileAndLoad(graph, 'autodiff', 'off-path', { p: weights });
    const out = model.run(feeds, 2);
    const ref = interpret(graph, feeds, { p: Float64Array.from(weights) }, 2);
    expect(out.gz).toBeAllclose(new Float64Array(6), { rtol: 0, atol: 0 });
    expect(out.gp).toBeAllclose(new Float64Array(6), { rtol: 0, atol: 0 });
    expect(ref.gz).toBeAllclose(new Float64Array(6), { rtol: 0, atol: 0 });
    expect(ref.gp).toBeAllclose(new Float64Array(6), { rtol: 0, atol: 0 });
    expect(out.gx).toBeAllclose(Array.from(feeds.x, (v) => 1 - Math.tanh(v) ** 2), { rtol: 1e-14, atol: 1e-15 });
  });

  it('a value used twice accumulates both contributions: d/dx Σ x·x = 2x, exactly', async () => {
    const x = input('x', ['N', 4]);
    const loss = sum(makeNode('mul', [x, x]));
    const gx = gradients(loss, [x]).get(x)!;
    const graph: Graph = { name: 'twice', inputs: [x], outputs: [{ name: 'gx', node: gx }] };
    const xs = new Lcg(7).array(12, -3, 3);
    const { model } = await compileAndLoad(graph, 'autodiff', 'twice');
    expect(model.run({ x: xs }, 3).gx).toBeAllclose(Array.from(xs, (v) => 2 * v), { rtol: 0, atol: 0 });
    expect(interpret(graph, { x: xs }, {}, 3).gx).toBeAllclose(Array.from(xs, (v) => 2 * v), { rtol: 0, atol: 0 });
  });

  it('three uses along different paths: d/dx Σ (x·x·x + x) = 3x² + 1', () => {
    const x = input('x', ['N', 3]);
    const loss = makeNode('add', [sum(makeNode('mul', [makeNode('mul', [x, x]), x])), sum(x)]);
    const graph: Graph = { name: 'thrice', inputs: [x], outputs: [{ name: 'gx', node: gradients(loss, [x]).get(x)! }] };
    const xs = Float64Array.from([0.5, -1, 2, 3, -0.5, 0]);
    expect(interpret(graph, { x: xs }, {}, 2).gx).toBeAllclose(Array.from(xs, (v) => 3 * v * v + 1), { rtol: 1e-15, atol: 0 });
  });

  it('a seed scales every gradient', () => {
    const x = input('x', ['N', 3]);
    const loss = sum(makeNode('exp', [x]));
    const graph: Graph = { name: 'seeded', inputs: [x], outputs: [{ name: 'gx', node: gradients(loss, [x], scalar(-2.5)).get(x)! }] };
    const xs = Float64Array.from([0.5, -1, 2, 1, 0, -2]);
    expect(interpret(graph, { x: xs }, {}, 2).gx).toBeAllclose(Array.from(xs, (v) => -2.5 * Math.exp(v)), { rtol: 1e-15, atol: 0 });
  });

  it('with respect to an intermediate node: d/dh Σ h ⊙ r = r', () => {
    const [x, r] = [input('x', ['N', 3]), input('r', ['N', 3])];
    const h = makeNode('tanh', [x]);
    const graph: Graph = { name: 'intermediate', inputs: [x, r], outputs: [{ name: 'gh', node: gradients(innerLoss(h, r), [h]).get(h)! }] };
    const rs = Float64Array.from([1, -2, 3, 0.5, 0.25, -1]);
    expect(interpret(graph, { x: new Float64Array(6), r: rs }, {}, 2).gh).toBeAllclose(rs, { rtol: 0, atol: 0 });
  });

  it('through a cast float32 → float64: the gradient is cast back to float32', async () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 3] });
    const r = input('r', ['N', 3]);
    const gx = gradients(innerLoss(makeNode('cast', [x], { to: 'float64' }), r), [x]).get(x)!;
    expect(gx.type).toEqual({ dtype: 'float32', shape: ['N', 3] });
    const graph: Graph = { name: 'cast_back', inputs: [x, r], outputs: [{ name: 'gx', node: gx }] };
    const feeds = { x: Float32Array.from([1, 2, 3, 4, 5, 6]), r: Float64Array.from([0.1, -0.2, 1 / 3, 1e-3, 2, -7.25]) };
    const want = Array.from(feeds.r, Math.fround);
    const { model } = await compileAndLoad(graph, 'autodiff', 'cast-back');
    const got = model.run(feeds, 2).gx;
    expect(got).toBeInstanceOf(Float32Array);
    expect(got).toBeAllclose(want, { rtol: 0, atol: 0 });
    expect(interpret(graph, feeds, {}, 2).gx).toBeAllclose(want, { rtol: 0, atol: 0 });
  });

  it('leaves the forward graph untouched and builds gradient nodes only', () => {
    const x = input('x', ['N', 3]);
    const y = makeNode('sigmoid', [x]);
    const loss = sum(y);
    const before = { loss: loss.inputs, y: y.inputs };
    const gx = gradients(loss, [x]).get(x)!;
    expect(loss.inputs).toBe(before.loss);
    expect(y.inputs).toBe(before.y);
    expect(gx.type).toEqual(x.type);
  });
});

describe('the harness', () => {
  const tanhCase: GradCase = { name: 'tanh-self-test', inputs: [{ shape: ['N', 3, 4], range: [-2, 2] }], build: ([x]) => makeNode('tanh', [x]) };

  it('rejects a VJP rule off by a relative 1e-5', async () => {
    const saved = VJP.tanh!;
    VJP.tanh = (g, n, b) => [b.op('mul', [g, b.op('mul', [b.op('sub', [b.scalar(1), b.op('mul', [n, n])]), b.scalar(1 + 1e-5)])])];
    try {
      await expect(checkGrads(tanhCase, 'autodiff')).rejects.toThrow(/gradient of input x0 is off by/);
    } finally {
      VJP.tanh = saved;
    }
    await checkGrads(tanhCase, 'autodiff');
  });

  it('rejects a rule whose error only shows in the transpose (matmul with the wrong transB)', async () => {
    const saved = VJP.matmul!;
    // da = g·W instead of g·Wᵀ: only right for a symmetric W.
    VJP.matmul = (g, n, b) => {
      const [a, w] = n.inputs;
      return [b.op('matmul', [g, w]), b.op('matmul', [a, g], { transA: true })];
    };
    try {
      const c: GradCase = { name: 'matmul-self-test', inputs: [{ shape: ['N', 3] }, { shape: [3, 3] }], build: ([a, w]) => makeNode('matmul', [a, w]) };
      await expect(checkGrads(c, 'autodiff')).rejects.toThrow(/gradient of input x0 is off by/);
    } finally {
      VJP.matmul = saved;
    }
  });
});

describe('compilation regressions', () => {
  it('an elementwise op reading two single-reader chains is computed by one kernel', async () => {
    // Used to give two kernels the same root and read a never-stored value ("no storage for node").
    const [x, z] = [input('x', ['N', 3]), input('z', ['N', 3])];
    const graph: Graph = { name: 'two_chains', inputs: [x, z], outputs: [{ name: 'y', node: makeNode('add', [makeNode('exp', [x]), makeNode('exp', [z])]) }] };
    const { model, program } = await compileAndLoad(graph, 'autodiff', 'two-chains');
    expect(new Set(program.kernels.map((k) => k.writes)).size).toBe(program.kernels.length);
    const [xs, zs] = [Float64Array.from([0, 1, -1, 2, 0.5, 3]), Float64Array.from([1, 1, 1, -2, 0, 0.25])];
    expect(model.run({ x: xs, z: zs }, 2).y).toBeAllclose(Array.from(xs, (v, i) => Math.exp(v) + Math.exp(zs[i])), { rtol: 1e-15, atol: 0 });
  });

  // The gradient of Σ x for an unbatched x folds to a `const`: a constant graph output used to get
  // no storage in the memory plan ("internal: no storage for node %k (const)").
  it('a gradient that folds to a constant (d/dx Σ x, x unbatched) compiles and is all ones', async () => {
    const x = input('x', [3]);
    const graph: Graph = { name: 'const_gradient', inputs: [x], outputs: [{ name: 'gx', node: gradients(sum(x), [x]).get(x)! }] };
    const { model } = await compileAndLoad(graph, 'autodiff', 'const-gradient');
    expect(model.run({ x: Float64Array.from([1, 2, 3]) }, 1).gx).toBeAllclose([1, 1, 1], { rtol: 0, atol: 0 });
  });
});

// Whole networks: every parameter's gradient checked by finite differences at once.
gradSuite('compose', 'gradients of composed networks', [
  {
    name: 'mlp-tanh-logsoftmax',
    inputs: [{ shape: ['N', 4] }, { shape: [4, 5], range: [-1, 1] }, { shape: [5] }, { shape: [5, 3], range: [-1, 1] }, { shape: [3] }],
    build: ([x, w1, b1, w2, b2]) => {
      const h = makeNode('tanh', [makeNode('add', [makeNode('matmul', [x, w1]), b1])]);
      return makeNode('logSoftmax', [makeNode('add', [makeNode('matmul', [h, w2]), b2])], { axis: -1 });
    },
    batch: 3,
  },
  {
    name: 'cnn-conv-sigmoid-pool-dense',
    inputs: [{ shape: ['N', 1, 6, 6] }, { shape: [2, 1, 3, 3], range: [-1, 1] }, { shape: [2, 1, 1] }, { shape: [8, 3], range: [-1, 1] }],
    build: ([x, w, b, d]) => {
      const conv = makeNode('conv2d', [x, w], { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
      const act = makeNode('sigmoid', [makeNode('add', [conv, b])]);
      const pooled = makeNode('maxPool2d', [act], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1] });
      return makeNode('softmax', [makeNode('matmul', [makeNode('reshape', [pooled], { shape: [-1, 8] }), d])], { axis: 1 });
    },
  },
  {
    name: 'residual-mean-normalise',
    inputs: [{ shape: ['N', 3, 4] }, { shape: [4, 4], range: [-1, 1] }],
    build: ([x, w]) => {
      const y = makeNode('add', [x, makeNode('erf', [makeNode('matmul', [x, w])])]);
      const mean = makeNode('reduceMean', [y], { axes: [-1], keepdims: true });
      const centred = makeNode('sub', [y, mean]);
      const variance = makeNode('reduceMean', [makeNode('mul', [centred, centred])], { axes: [-1], keepdims: true });
      return makeNode('div', [centred, makeNode('sqrt', [makeNode('add', [variance, scalar(1e-3)])])]);
    },
  },
]);
