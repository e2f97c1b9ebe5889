// Deep graphs: a 100,000-node elementwise chain checks, compiles (JS) and runs to the hand-computed
// value; it differentiates and survives the graph JSON round trip; a 3,000-node ONNX chain imports.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { checkGraph } from '../../compiler/check/check.ts';
import { compileModel } from '../../compiler/compile.ts';
import { fuse } from '../../compiler/fuse/fuse.ts';
import { MAX_EXPR_SIZE, MAX_FUSED_OPS, treeSize } from '../../compiler/fuse/size.ts';
import { optimize } from '../../compiler/pipeline.ts';
import { makeNode } from '../../src/ir/build.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import type { Node } from '../../src/ir/node.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { freshOutDir, importModule } from '../e2e/helpers.ts';

const DEPTH = 100_000;
/** The chain repeats relu, +0.25, neg, +1: every four ops map h to 0.75 − max(h, 0). */
const CYCLE = ['relu', 'add', 'neg', 'add'] as const;
const CONSTS = [0, 0.25, 0, 1];

function chain(depth: number): { graph: Graph; x: Node } {
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 1] });
  const c = CONSTS.map((v) => makeNode('const', [], { dtype: 'float32', shape: [], values: [v] }));
  let h = x;
  for (let i = 0; i < depth; i++) {
    const k = i % 4;
    h = CYCLE[k] === 'add' ? makeNode('add', [h, c[k]]) : makeNode(CYCLE[k], [h]);
  }
  return { graph: { name: 'deep', inputs: [x], outputs: [{ name: 'y', node: h }] }, x };
}

/** The same chain as a plain loop over numbers (float32 after every op, as a buffer would store). */
function naive(x: number, depth: number): number {
  let h = Math.fround(x);
  for (let i = 0; i < depth; i++) {
    const k = i % 4;
    h = Math.fround(CYCLE[k] === 'relu' ? Math.max(h, 0) : CYCLE[k] === 'neg' ? -h : h + CONSTS[k]);
  }
  return h;
}

// By hand, with g(h) = 0.75 − max(h, 0) applied 25,000 times: 3 → −2.25 → 0.75 → 0 → 0.75 …
// (0.75 after an even number); −2 → 0.75 → 0 → … (0 after an even number); for 0 ≤ h ≤ 0.75,
// g(g(h)) = h, so 0.5 and 0.125 come back unchanged.
const X = [3, -2, 0.5, 0.125];
const EXPECTED = [0.75, 0, 0.5, 0.125];

describe(`a ${DEPTH.toLocaleString('en-US')}-node elementwise chain`, () => {
  const { graph, x } = chain(DEPTH);

  it('the hand-computed values agree with a plain loop', () => {
    expect(X.map((v) => naive(v, DEPTH))).toEqual(EXPECTED);
  });

  it('checks, compiles to kernels of bounded depth, and runs to the hand-computed values', async () => {
    expect(graphNodes(graph).length).toBe(DEPTH + 1 + 2); // the chain, its input, the constants 0.25 and 1
    expect(checkGraph(graph)).toBe(graph);
    const fused = fuse(optimize(graph));
    expect(Math.max(...fused.groups.map((g) => g.members.length + (g.recomputed?.length ?? 0)))).toBeLessThanOrEqual(MAX_FUSED_OPS);
    const compiled = compileModel(graph);
    const file = path.join(freshOutDir('hardening-deep-chain'), 'deep.js');
    writeFileSync(file, compiled.js);
    const model = (await importModule(file)).createModel(compiled.weights);
    expect(Array.from(model.predict(Float32Array.from(X), X.length))).toEqual(EXPECTED);
  }, 240_000);

  it('the reference interpreter agrees', () => {
    expect(Array.from(interpret(graph, { x: Float32Array.from(X) }, {}, X.length).y)).toEqual(EXPECTED);
  });

  it('differentiates: dy/dx is +1 inside [0, 0.75] (25,000 sign flips) and 0 once relu cuts it', () => {
    const loss = makeNode('reduceSum', [graph.outputs[0].node], { axes: [0, 1], keepdims: false });
    const dx = gradients(loss, [x]).get(x)!;
    const g: Graph = { name: 'grad', inputs: [x], outputs: [{ name: 'dx', node: dx }] };
    checkGraph(g);
    // x = 3: the first relu passes it (−1), then h = −2.25 and the next relu stops it: 0.
    // x = −2: the first relu stops it: 0. x = 0.5, 0.125: every relu passes, each cycle negates: (−1)^25000.
    expect(Array.from(interpret(g, { x: Float32Array.from(X) }, {}, X.length).dx)).toEqual([0, 0, 1, 1]);
  });

  it('goes through its graph JSON form and back', () => {
    const back = graphFromJson(JSON.parse(JSON.stringify(graphToJson(graph))));
    expect(graphNodes(back).length).toBe(graphNodes(graph).length);
    expect(Array.from(interpret(checkGraph(back), { x: Float32Array.from(X) }, {}, X.length).y)).toEqual(EXPECTED);
  });
});

describe('a 3,000-node ONNX chain', () => {
  const T = onnx.TensorProto.DataType;
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: [{ dimValue: 4 }, { dimValue: 1 }] } } } });
  const DEPTH_ONNX = 3000;

  it('imports, checks, compiles and runs to the hand-computed values', async () => {
    const node = Array.from({ length: DEPTH_ONNX }, (_, i) => {
      const k = i % 4;
      const input = [i === 0 ? 'x' : `h${i}`, ...(CYCLE[k] === 'add' ? [`c${k}`] : [])];
      return { name: `n${i}`, opType: CYCLE[k] === 'add' ? 'Add' : CYCLE[k] === 'relu' ? 'Relu' : 'Neg', input, output: [i === DEPTH_ONNX - 1 ? 'y' : `h${i + 1}`] };
    });
    const initializer = [1, 3].map((k) => ({ name: `c${k}`, dataType: T.FLOAT, dims: [], floatData: [CONSTS[k]] }));
    const bytes = onnx.ModelProto.encode(onnx.ModelProto.create({ opsetImport: [{ version: 17 }], graph: { input: [vi('x')], output: [vi('y')], initializer, node } })).finish();
    const graph = checkGraph(importOnnx(bytes));
    // 3,000 ops = 750 cycles (even): the same values as the long chain.
    expect(X.map((v) => naive(v, DEPTH_ONNX))).toEqual(EXPECTED);
    const compiled = compileModel(graph);
    const file = path.join(freshOutDir('hardening-deep-onnx'), 'deep_onnx.js');
    writeFileSync(file, compiled.js);
    const model = (await importModule(file)).createModel(compiled.weights);
    expect(Array.from(model.run({ x: Float32Array.from(X) }, 1).y)).toEqual(EXPECTED);
  }, 120_000);
});

describe('ops that read their input twice', () => {
  // Fused naively, 30 squarings make an expression of 2^30 leaves (and 14 elus hung the compiler).
  it('30 squarings x·x compile into kernels of bounded expression size and run: 1 → 1, −1 → 1, 0.5 → 0', async () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 1] });
    let h = x;
    for (let i = 0; i < 30; i++) h = makeNode('mul', [h, h]);
    const compiled = compileModel({ name: 'squares', inputs: [x], outputs: [{ name: 'y', node: h }] });
    for (const k of compiled.program.kernels) expect(treeSize(k.expr)).toBeLessThanOrEqual(MAX_EXPR_SIZE);
    const file = path.join(freshOutDir('hardening-squares'), 'squares.js');
    writeFileSync(file, compiled.js);
    const model = (await importModule(file)).createModel(compiled.weights);
    // 0.5^(2^30) underflows to 0.
    expect(Array.from(model.predict(Float32Array.from([1, -1, 0.5]), 3))).toEqual([1, 1, 0]);
  }, 60_000);

  it('40 elus compile into kernels of bounded expression size and match a plain loop', async () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 1] });
    let h = x;
    for (let i = 0; i < 40; i++) h = makeNode('elu', [h], { alpha: 1 });
    const compiled = compileModel({ name: 'elus', inputs: [x], outputs: [{ name: 'y', node: h }] });
    for (const k of compiled.program.kernels) expect(treeSize(k.expr)).toBeLessThanOrEqual(MAX_EXPR_SIZE);
    const file = path.join(freshOutDir('hardening-elus'), 'elus.js');
    writeFileSync(file, compiled.js);
    const model = (await importModule(file)).createModel(compiled.weights);
    const xs = [0.5, -1, -3];
    const want = xs.map((v) => {
      let y = v;
      for (let i = 0; i < 40; i++) y = y > 0 ? y : Math.expm1(y);
      return y;
    });
    const got = model.predict(Float32Array.from(xs), 3);
    want.forEach((w, i) => expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w))));
  }, 60_000);
});
