// parameter() and weight sharing: one weight in the graph, its gradient the sum over its uses
// (checked against finite differences of each use separately); unknown sequential layer names.
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { makeNode } from '../../src/ir/build.ts';
import { graphParams } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { dense, embedding, input, KilnError, layers, matmul, parameter, ShapeError } from '../../src/index.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { graphOf } from './helpers.ts';
import { Lcg } from '../reference/lcg.ts';

describe('parameter()', () => {
  it('makes one named trainable weight with fans taken from its shape', () => {
    resetLayerNames();
    const p = parameter([3, 4], 'glorotUniform', { name: 'w', regularizer: { l2: 0.1 } });
    expect(p.op).toBe('param');
    expect(p.attrs).toMatchObject({ name: 'w', shape: [3, 4], trainable: true, init: { kind: 'glorotUniform', fanIn: 3, fanOut: 4 }, regularizer: { l2: 0.1 } });
    expect(parameter([2], 'zeros').attrs.name).toBe('parameter_1');
  });

  it('shared by two dense layers is one weight in the graph', () => {
    resetLayerNames();
    const x = input([3], { name: 'x' });
    const p = parameter([3, 3], 'glorotUniform', { name: 'shared' });
    const y = dense(dense(x, 3, { kernel: p }), 3, { kernel: p });
    const names = graphParams(graphOf([x], y)).map((n) => n.attrs.name);
    expect(names).toEqual(['shared', 'dense_1/bias', 'dense_2/bias']);
  });

  it('given with the wrong shape is a ShapeError naming the layer and both shapes', () => {
    resetLayerNames();
    const x = input([3], { name: 'x' });
    const p = parameter([4, 3], 'zeros');
    expect(() => dense(x, 3, { kernel: p, name: 'fc' })).toThrow(ShapeError);
    expect(() => dense(x, 3, { kernel: p, name: 'fc' })).toThrow(/fc.*kernel has shape \[4, 3\].*needs \[3, 3\]/);
  });

  it('an embedding tied to the output projection: gradient = sum of both uses\' finite differences', () => {
    // L = Σ r ⊙ (E[idx] · Eᵀ): E is used by the lookup and by the projection.
    const V = 5, D = 3, L = 4, batch = 2;
    const rng = new Lcg(3);
    const idxValues = Int32Array.from({ length: batch * L }, () => rng.int(0, V));
    const rValues = Float64Array.from(rng.array(batch * L * V));
    const eValues = Float64Array.from(rng.array(V * D));
    const build = (e1: Node, e2: Node) => {
      const idx = makeNode('input', [], { name: 'idx', dtype: 'int32', shape: ['N', L] });
      const r = makeNode('input', [], { name: 'r', dtype: 'float64', shape: ['N', L, V] });
      const h = makeNode('gather', [e1, idx], { axis: 0 });
      const y = makeNode('matmul', [h, e2], { transB: true });
      return { idx, r, loss: makeNode('reduceSum', [makeNode('mul', [y, r])], { axes: [], keepdims: false }) };
    };
    const lossOf = (a: Float64Array, b: Float64Array): number => {
      const e1 = makeNode('input', [], { name: 'e1', dtype: 'float64', shape: [V, D] });
      const e2 = makeNode('input', [], { name: 'e2', dtype: 'float64', shape: [V, D] });
      const { idx, r, loss } = build(e1, e2);
      const out = interpret({ name: 'l', inputs: [idx, r, e1, e2], outputs: [{ name: 'l', node: loss }] }, { idx: idxValues, r: rValues, e1: a, e2: b }, {}, batch);
      return out.l[0];
    };
    // Central differences of each use with the other held fixed, summed.
    const h = 1e-6;
    const fdSum = Array.from({ length: V * D }, (_, k) => {
      const bump = (s: number) => Float64Array.from(eValues, (v, i) => (i === k ? v + s : v));
      const first = (lossOf(bump(h), eValues) - lossOf(bump(-h), eValues)) / (2 * h);
      const second = (lossOf(eValues, bump(h)) - lossOf(eValues, bump(-h))) / (2 * h);
      return first + second;
    });
    // The tied graph: one input E used twice; autodiff must sum both contributions.
    const e = makeNode('input', [], { name: 'e', dtype: 'float64', shape: [V, D] });
    const { idx, r, loss } = build(e, e);
    const g = gradients(loss, [e]).get(e)!;
    const out = interpret({ name: 'g', inputs: [idx, r, e], outputs: [{ name: 'g', node: g }] }, { idx: idxValues, r: rValues, e: eValues }, {}, batch);
    Array.from(out.g).forEach((v, k) => expect(v).toBeCloseTo(fdSum[k], 6));
  });

  it('ties an embedding table to the output projection in the DSL: one weight', () => {
    resetLayerNames();
    const tokens = input([4], { name: 'tokens', dtype: 'int32' });
    const table = parameter([10, 6], 'glorotUniform', { name: 'table' });
    const h = embedding(tokens, 10, 6, { embeddings: table });
    const logits = matmul(h, table, { transB: true });
    expect(graphParams(graphOf([tokens], logits)).map((n) => n.attrs.name)).toEqual(['table']);
  });
});

describe('layers.* names', () => {
  it('an unknown layer is a KilnError listing the known ones', () => {
    const unknown = () => (layers as unknown as Record<string, () => unknown>).lstmm();
    expect(unknown).toThrow(KilnError);
    expect(unknown).toThrow(/layers\.lstmm is not a Kiln layer; the known layers are: dense, conv2d, .*transformerEncoderBlock/);
  });
});
