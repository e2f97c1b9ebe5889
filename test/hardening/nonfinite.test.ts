// Non-finite constants end to end (issue 12, item 6): a -Infinity attention mask added before a
// softmax compiles and runs on every backend, NaN and ±Infinity round-trip through graph JSON,
// and a -Infinity weight survives the weight file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import { graphNodes } from '../../src/ir/graph.ts';
import { compileAndLoad } from '../grad/check.ts';
import { freshOutDir, importModule } from '../e2e/helpers.ts';

const X = [1, 2, 3, 4, -1, 0.5, 2, -3];
const MASK = [0, -Infinity, 0, -Infinity];

/** softmax over the unmasked entries of each row of 4, by hand: exp(x_i) / Σ_unmasked exp(x_j), 0 where masked. */
function maskedSoftmax(x: readonly number[], mask: readonly number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < x.length / 4; r++) {
    const row = x.slice(4 * r, 4 * r + 4);
    const kept = row.map((v, i) => (mask[i] === 0 ? Math.exp(v) : 0));
    const total = kept.reduce((a, b) => a + b, 0);
    out.push(...kept.map((v) => v / total));
  }
  return out;
}

/** x [N, 4] + mask (a constant, or a parameter) → softmax, plus x + (-Infinity) and x · NaN as scalars. */
function maskGraph(maskAsParam = false): Graph {
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 4] }, { layer: 'x' });
  const mask = maskAsParam
    ? makeNode('param', [], { name: 'mask', dtype: 'float32', shape: [4], init: { kind: 'zeros' }, trainable: false }, { layer: 'mask' })
    : makeNode('const', [], { dtype: 'float32', shape: [4], values: MASK }, { layer: 'mask' });
  const probs = makeNode('softmax', [makeNode('add', [x, mask])], { axis: -1 }, { layer: 'attn' });
  const scalar = (v: number) => makeNode('const', [], { dtype: 'float32', shape: [], values: [v] });
  const outputs = [{ name: 'probs', node: probs }];
  if (!maskAsParam) {
    outputs.push({ name: 'minusInf', node: makeNode('add', [x, scalar(-Infinity)]) });
    outputs.push({ name: 'nan', node: makeNode('mul', [x, scalar(NaN)]) });
  }
  return { name: 'masked', inputs: [x], outputs };
}

function expectOutputs(got: Record<string, ArrayLike<number>>): void {
  const want = maskedSoftmax(X, MASK);
  const probs = Array.from(got.probs);
  probs.forEach((v, i) => expect(v, `probs[${i}]`).toBeCloseTo(want[i], 6));
  expect(probs.filter((_, i) => MASK[i % 4] === -Infinity)).toEqual([0, 0, 0, 0]);
  expect(Array.from(got.minusInf)).toEqual(X.map(() => -Infinity));
  expect(Array.from(got.nan).every(Number.isNaN)).toBe(true);
}

describe('non-finite constants', () => {
  it('round-trip through graph JSON, tagged, and stay apart from strings that spell them', () => {
    const x = makeNode('input', [], { name: 'NaN', dtype: 'float32', shape: ['N', 3] });
    const c = makeNode('const', [], { dtype: 'float32', shape: [3], values: [NaN, Infinity, -Infinity] });
    const clip = makeNode('clip', [makeNode('add', [x, c])], { min: -Infinity, max: Infinity });
    const g: Graph = { name: 'nf', inputs: [x], outputs: [{ name: 'y', node: clip }] };
    const text = JSON.stringify(graphToJson(g));
    expect(text).toContain('"values":[{"$number":"NaN"},{"$number":"Infinity"},{"$number":"-Infinity"}]');
    const back = graphFromJson(JSON.parse(text));
    const nodes = graphNodes(back);
    const values = nodes.find((n) => n.op === 'const')!.attrs.values as number[];
    expect(values.map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(['NaN', Infinity, -Infinity]);
    expect(nodes.find((n) => n.op === 'clip')!.attrs).toEqual({ min: -Infinity, max: Infinity });
    expect(back.inputs[0].attrs.name).toBe('NaN');
    expect(JSON.stringify(graphToJson(back))).toBe(text);
  });

  it('reject a malformed tag as an attribute of the wrong type', () => {
    const json = graphToJson(maskGraph());
    const constNode = json.nodes.find((n) => n.op === 'const')!;
    (constNode.attrs.values as unknown[])[1] = { $number: 'Inf' };
    expect(() => graphFromJson(JSON.parse(JSON.stringify(json)))).toThrow(/attribute values\[1\] must be a number.*got an object/);
  });

  it('compile and run on the JavaScript backend, with SIMD and without, matching a hand computation', async () => {
    // Through JSON first: the compiled graph is the one a .json file would give.
    const graph = graphFromJson(JSON.parse(JSON.stringify(graphToJson(maskGraph()))));
    expect(() => compileModel(graph)).not.toThrow();
    for (const simd of [true, false]) {
      const { model } = await compileAndLoad(graph, 'hardening-nonfinite', `js-simd-${simd}`, undefined, 'js', { simd });
      expectOutputs(model.run({ x: Float32Array.from(X) }, 2));
    }
  });

  it.each(['webasm', 'cpu'] as const)('compile and run on GPU.js (%s mode), matching a hand computation', async (mode) => {
    const { model } = await compileAndLoad(maskGraph(), 'hardening-nonfinite', `gpujs-${mode}`, undefined, 'gpujs', { mode });
    expectOutputs(model.run({ x: Float32Array.from(X) }, 2));
  });

  it('keep a -Infinity weight through the weight file', async () => {
    const compiled = compileModel(maskGraph(true), { initialWeights: { mask: Float32Array.from(MASK) }, runtimeImport: 'kiln/runtime' });
    const dir = freshOutDir('hardening-nonfinite-weights');
    const file = path.join(dir, 'masked.js');
    writeFileSync(file, compiled.js);
    const mod = await importModule(file);
    const model = mod.createModel(compiled.weights);
    expect(Array.from(model.getWeights()[0].data)).toEqual(MASK);
    const probs = model.run({ x: Float32Array.from(X) }, 2).probs;
    const want = maskedSoftmax(X, MASK);
    Array.from(probs).forEach((v, i) => expect(v, `probs[${i}]`).toBeCloseTo(want[i], 6));
  });
});
