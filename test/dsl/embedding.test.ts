// embedding: forward against a naive table lookup, gradients (gather's VJP, batched and negative
// indices) by finite differences, and out-of-range indices rejected by the emitted module.
import { describe, expect, it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { embedding, input, layers, sequential, ShapeError } from '../../src/index.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { checkGrads, compileAndLoad } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';
import { graphOf, layerCase, randomWeights, run } from './helpers.ts';

describe('embedding', () => {
  it('looks up rows of the [vocab, dim] table (naive reference)', () => {
    resetLayerNames();
    const x = input([3, 2], { name: 'tokens', dtype: 'int32' });
    const y = embedding(x, 7, 4, { name: 'emb' });
    expect(y.type.shape).toEqual(['N', 3, 2, 4]);
    const g = graphOf([x], y);
    const w = randomWeights(g);
    const tokens = Int32Array.from([0, 6, 3, 3, 1, 2, 5, 4, 0, 1, 6, 2]);
    const got = run(g, { tokens }, w, 2);
    const table = w['emb/embeddings'];
    const want: number[] = [];
    for (const t of tokens) for (let d = 0; d < 4; d++) want.push(table[t * 4 + d]);
    expect(Array.from(got)).toEqual(want);
  });

  it('needs int32 indices: a ShapeError naming the layer and the input', () => {
    resetLayerNames();
    const x = input([3], { name: 'x' });
    expect(() => embedding(x, 5, 2, { name: 'emb' })).toThrow(ShapeError);
    expect(() => embedding(x, 5, 2, { name: 'emb' })).toThrow(/'emb'.*needs int32 indices, got a float32 input of shape \[N, 3\]/);
  });

  it('sequential: an int32 input, embedding then dense', () => {
    const m = sequential({ name: 's', input: [5], dtype: 'int32' }, [layers.embedding(9, 3), layers.flatten(), layers.dense(2)]);
    expect(m.graph.outputs[0].node.type.shape).toEqual(['N', 2]);
  });

  it('gradient of the table (gather over batched indices) matches finite differences', async () => {
    const r = await checkGrads(layerCase('embedding', () => {
      const x = input([3], { name: 'tokens', dtype: 'int32' });
      return { inputs: [x], output: embedding(x, 5, 3) };
    }, { ints: [0, 5], batch: 3 }), 'dsl-embedding');
    expect(r.worst).toBeLessThan(1e-5);
  });

  it('gather gradient with negative and repeated unbatched indices matches finite differences', async () => {
    const r = await checkGrads({
      name: 'gather-negative',
      inputs: [{ shape: [4, 2, 3] }, { shape: [5], constant: true, init: () => [-1, 0, 3, -4, 1] }],
      build: ([data, idx]) => makeNode('gather', [data, makeNode('cast', [idx], { to: 'int32' })], { axis: 0 }),
    }, 'dsl-embedding');
    expect(r.worst).toBeLessThan(1e-6);
  });

  it('an index outside [-vocab, vocab) is a clear error of the emitted module', async () => {
    resetLayerNames();
    const x = input([2], { name: 'tokens', dtype: 'int32' });
    const g = graphOf([x], embedding(x, 4, 2, { name: 'emb' }), 'emb_model');
    const { model } = await compileAndLoad(g, 'dsl-embedding', 'range', randomWeights(g));
    expect(() => model.run({ tokens: Int32Array.from([1, 4]) }, 1)).toThrow(/input 'tokens': index 4 at element 1 is out of range.*\[-4, 3\]/);
    const rng = new Lcg(1);
    expect(model.run({ tokens: Int32Array.from([rng.int(0, 4), 3]) }, 1).y.length).toBe(4);
  });
});
