// Compiled modules for unusual graphs (several inputs, int32, unbatched and pass-through outputs) against the interpreter.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { TypedArray } from '../../src/ir/dtype.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { freshOutDir, importModule, randomFloats } from './helpers.ts';

let OUT = '';
let count = 0;

beforeAll(() => {
  OUT = freshOutDir('e2e-edge-cases');
});

const input = (name: string, shape: (number | 'N')[], dtype: 'float32' | 'int32' = 'float32') => makeNode('input', [], { name, dtype, shape });
const param = (name: string, shape: number[], init: Record<string, unknown> = { kind: 'uniform', low: -1, high: 1 }) =>
  makeNode('param', [], { name, dtype: 'float32', shape, init, trainable: true });
const graph = (inputs: Node[], outputs: Record<string, Node>): Graph => ({
  name: `edge_${count}`,
  inputs,
  outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })),
});

/** Compiles, writes and imports `g`; runs it on `feeds` and returns what it and the interpreter give. */
async function both(g: Graph, feeds: Record<string, TypedArray>, batch: number) {
  const c = compileModel(g, { seed: 5 });
  const file = path.join(OUT, `m${count++}.js`);
  writeFileSync(file, c.js);
  const mod = await importModule(file);
  const model = mod.createModel(c.weights);
  const weights = Object.fromEntries(decodeWeights(c.weights).tensors.map((t) => [t.name, t.data]));
  return { model, got: model.run(feeds, batch), want: interpret(g, feeds, weights, batch) };
}

function expectSame(got: Record<string, TypedArray>, want: Record<string, TypedArray>) {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) {
    expect(got[k].constructor, k).toBe(want[k].constructor);
    expect(got[k], k).toBeAllclose(want[k]);
  }
}

describe('compiled edge cases agree with the interpreter', () => {
  it('two inputs: run() takes both by name; predict() refuses', async () => {
    const a = input('a', ['N', 3]);
    const b = input('b', ['N', 3]);
    const g = graph([a, b], { d: makeNode('mul', [makeNode('sub', [a, b]), makeNode('tanh', [b])]) });
    const feeds = { a: randomFloats(6, 1), b: randomFloats(6, 2) };
    const { model, got, want } = await both(g, feeds, 2);
    expectSame(got, want);
    expect(() => model.predict(feeds.a, 2)).toThrow(/2 inputs: use run\(\)/);
    expect(() => model.run({ a: feeds.a }, 2)).toThrow(TypeError);
  });

  it('int32 input and an int32 argmax output', async () => {
    const x = input('x', ['N', 4], 'int32');
    const w = param('w', [4]);
    const scores = makeNode('mul', [makeNode('cast', [x], { to: 'float32' }), w]);
    const g = graph([x], { best: makeNode('argmax', [scores], { axis: -1, keepdims: false }), scores });
    const { got, want } = await both(g, { x: Int32Array.from([3, -1, 4, 1, -5, 9, 2, -6, 5, 3, -5, 8]) }, 3);
    expectSame(got, want);
    expect(got.best).toBeInstanceOf(Int32Array);
  });

  it('a reduction over the batch axis gives an unbatched output', async () => {
    const x = input('x', ['N', 5]);
    const g = graph([x], { mean: makeNode('reduceMean', [x], { axes: [0], keepdims: false }), max: makeNode('reduceMax', [x], { axes: [0, 1], keepdims: false }) });
    const x4 = randomFloats(20, 3);
    const { got, want } = await both(g, { x: x4 }, 4);
    expectSame(got, want);
    expect(got.mean).toHaveLength(5);
    // Independent check of the mean: column averages.
    expect(got.mean).toBeAllclose([0, 1, 2, 3, 4].map((j) => (x4[j] + x4[5 + j] + x4[10 + j] + x4[15 + j]) / 4));
  });

  it('outputs that are an input, a parameter, a view of a kernel, and the same node twice', async () => {
    const x = input('x', ['N', 2, 3]);
    const p = param('p', [3]);
    const h = makeNode('relu', [makeNode('add', [x, p])]);
    const g = graph([x], { same: makeNode('identity', [x]), p, flat: makeNode('reshape', [h], { shape: [-1, 6] }), h, again: h });
    const { got, want } = await both(g, { x: randomFloats(12, 4) }, 2);
    expectSame(got, want);
  });

  it('a deep chain with a residual connection and a broadcast scale', async () => {
    const x = input('x', ['N', 8]);
    let h: Node = x;
    for (let i = 0; i < 4; i++) {
      const z = makeNode('matmul', [h, param(`w${i}`, [8, 8], { kind: 'uniform', low: -0.4, high: 0.4 })]);
      h = makeNode('add', [makeNode('gelu', [z], { approximate: 'none' }), h]);
    }
    const scaled = makeNode('mul', [h, makeNode('const', [], { dtype: 'float32', shape: [8], values: [1, 2, 3, 4, 5, 6, 7, 8] })]);
    const g = graph([x], { y: makeNode('logSoftmax', [scaled], { axis: -1 }) });
    const feeds = { x: randomFloats(8 * 5, 6) };
    const { model, got, want } = await both(g, feeds, 5);
    expectSame(got, want);
    expect(model.predict(feeds.x.slice(0, 16), 2)).toBeAllclose(want.y.subarray(0, 16));
  });
});

describe('fusion corner cases, compiled', () => {
  it('two single-reader chains meeting in one add', async () => {
    const x = input('x', ['N', 4]);
    const w = param('w', [4, 4]);
    const y = makeNode('add', [makeNode('exp', [makeNode('matmul', [x, w])]), makeNode('neg', [x])]);
    const { got, want } = await both(graph([x], { y }), { x: randomFloats(12, 9) }, 3);
    expectSame(got, want);
  });
});

describe('known bugs (reported; remove `.fails` once fixed)', () => {
  it('an output that folds to a constant compiles', async () => {
    const x = input('x', ['N', 2]);
    const k = makeNode('exp', [makeNode('const', [], { dtype: 'float32', shape: [2], values: [1, 2] })]);
    const { got, want } = await both(graph([x], { y: makeNode('relu', [x]), k }), { x: randomFloats(2, 7) }, 1);
    expectSame(got, want);
  });

  it("an output named '__proto__' is returned by run()", async () => {
    const x = input('x', ['N', 2]);
    const { got } = await both(graph([x], { ['__proto__']: makeNode('relu', [x]), z: makeNode('neg', [x]) }), { x: randomFloats(2, 8) }, 1);
    expect(Object.keys(got)).toEqual(['__proto__', 'z']);
  });

  it('a -0 constant keeps its sign in the emitted module', async () => {
    const x = input('x', ['N', 2]);
    const zeros = makeNode('const', [], { dtype: 'float32', shape: [2], values: [-0, 0] });
    const { got } = await both(graph([x], { y: makeNode('div', [x, zeros]) }), { x: Float32Array.from([1, 1]) }, 1);
    expect(Array.from(got.y)).toEqual([-Infinity, Infinity]);
  });

  it.fails('a float64 parameter: createModel accepts the weight file compileModel wrote (today: dtype mismatch)', async () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float64', shape: ['N', 2] });
    const p = makeNode('param', [], { name: 'p', dtype: 'float64', shape: [2], init: { kind: 'ones' }, trainable: true });
    const { got } = await both(graph([x], { y: makeNode('add', [x, p]) }), { x: Float64Array.from([1, 2]) }, 1);
    expect(Array.from(got.y)).toEqual([2, 3]);
  });
});
