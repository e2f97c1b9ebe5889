// multiHeadAttention against a naive loop implementation (projections, heads, scale, causal and
// padding masks, a fully masked row), gradients by finite differences through masks and the
// Transformer blocks, and a Transformer block exported to ONNX running in onnxruntime-node.
import { describe, expect, it } from 'vitest';
import { exportOnnx } from '../../src/onnx/export.ts';
import { input, layers, multiHeadAttention, sequential, ShapeError, transformerDecoderBlock, transformerEncoderBlock } from '../../src/index.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { checkGrads } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';
import { graphOf, layerCase, randomWeights, run } from './helpers.ts';

type W = Record<string, Float32Array>;

/** x [L, Din] · W [Din, U] + b. */
const proj = (x: number[][], w: Float32Array, b: Float32Array, units: number) => x.map((row) => Array.from({ length: units }, (_, u) => row.reduce((a, v, i) => a + v * w[i * units + u], b[u])));

/** One sample's attention, written from the definition; keep[i][j] = 0 masks key j for query i. */
function naiveMha(q: number[][], kv: number[][], w: W, name: string, heads: number, dk: number, keep: number[][]): number[][] {
  const Q = proj(q, w[`${name}/query/kernel`], w[`${name}/query/bias`], heads * dk);
  const K = proj(kv, w[`${name}/key/kernel`], w[`${name}/key/bias`], heads * dk);
  const V = proj(kv, w[`${name}/value/kernel`], w[`${name}/value/bias`], heads * dk);
  const ctx = q.map(() => new Array<number>(heads * dk).fill(0));
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < q.length; i++) {
      const allowed = kv.map((_, j) => keep[i][j] !== 0);
      if (!allowed.some(Boolean)) continue; // Kiln's decision: a fully masked query attends to nothing.
      const s = kv.map((_, j) => { let d = 0; for (let e = 0; e < dk; e++) d += Q[i][h * dk + e] * K[j][h * dk + e]; return d / Math.sqrt(dk); });
      const m = Math.max(...s.filter((_, j) => allowed[j]));
      const p = s.map((v, j) => (allowed[j] ? Math.exp(v - m) : 0));
      const z = p.reduce((a, b) => a + b, 0);
      for (let j = 0; j < kv.length; j++) for (let e = 0; e < dk; e++) ctx[i][h * dk + e] += (p[j] / z) * V[j][h * dk + e];
    }
  return proj(ctx, w[`${name}/output/kernel`], w[`${name}/output/bias`], q[0].length);
}

const rows = (flat: Float32Array, offset: number, n: number, width: number) => Array.from({ length: n }, (_, i) => Array.from(flat.slice(offset + i * width, offset + (i + 1) * width)));

describe('multiHeadAttention', () => {
  const L = 4, D = 6, H = 2, DK = 3, batch = 2;
  const xs = Float32Array.from(new Lcg(11).array(batch * L * D));

  it('self-attention with a causal mask matches the naive loops', () => {
    resetLayerNames();
    const x = input([L, D], { name: 'x' });
    const g = graphOf([x], multiHeadAttention(x, undefined, { name: 'mha', heads: H, keyDim: DK, causal: true }));
    const w = randomWeights(g);
    const got = run(g, { x: xs }, w, batch);
    const causal = Array.from({ length: L }, (_, i) => Array.from({ length: L }, (_, j) => (j <= i ? 1 : 0)));
    for (let n = 0; n < batch; n++) {
      const s = rows(xs, n * L * D, L, D);
      naiveMha(s, s, w, 'mha', H, DK, causal).flat().forEach((v, k) => expect(got[n * L * D + k]).toBeCloseTo(v, 5));
    }
  });

  it('cross-attention with a key padding mask; a fully masked row gives the output bias, not NaN', () => {
    resetLayerNames();
    const LK = 5;
    const q = input([L, D], { name: 'q' });
    const kv = input([LK, 4], { name: 'kv' });
    const pad = input([LK], { name: 'pad' });
    const g = graphOf([q, kv, pad], multiHeadAttention(q, kv, { name: 'mha', heads: H, keyDim: DK, keyPaddingMask: pad }));
    const w = randomWeights(g);
    const kvs = Float32Array.from(new Lcg(12).array(batch * LK * 4));
    const pads = Float32Array.from([1, 1, 0, 1, 0, /* sample 2: every key is padding */ 0, 0, 0, 0, 0]);
    const got = run(g, { q: xs, kv: kvs, pad: pads }, w, batch);
    expect(got.every(Number.isFinite)).toBe(true);
    for (let n = 0; n < batch; n++) {
      const keep = Array.from({ length: L }, () => Array.from(pads.slice(n * LK, n * LK + LK)));
      naiveMha(rows(xs, n * L * D, L, D), rows(kvs, n * LK * 4, LK, 4), w, 'mha', H, DK, keep).flat().forEach((v, k) => expect(got[n * L * D + k]).toBeCloseTo(v, 5));
    }
    Array.from(got.slice(L * D, L * D + D)).forEach((v, k) => expect(v).toBeCloseTo(w['mha/output/bias'][k], 6));
  });

  it('shape errors name the layer and the shapes', () => {
    resetLayerNames();
    const x = input([L, D], { name: 'x' });
    const flat = input([D], { name: 'flat' });
    expect(() => multiHeadAttention(flat, undefined, { name: 'a', heads: 2, keyDim: 3 })).toThrow(ShapeError);
    expect(() => multiHeadAttention(flat, undefined, { name: 'a', heads: 2, keyDim: 3 })).toThrow(/'a'.*needs a \[N, L, dim\] query; its query has shape \[N, 6\]/);
    const m = input([L + 1], { name: 'm' });
    expect(() => multiHeadAttention(x, undefined, { name: 'b', heads: 2, keyDim: 3, keyPaddingMask: m })).toThrow(/keyPaddingMask has shape \[N, 5\], expected \[N, 4\]/);
    expect(() => transformerEncoderBlock(x, { name: 'enc', heads: 4, ffDim: 8 })).toThrow(/'enc'.*width 6 is not divisible by heads \(4\)/);
  });

  it('gradients through causal and padding masks (incl. a fully masked row) match finite differences', async () => {
    const r = await checkGrads(layerCase('mha-masked', () => {
      const x = input([3, 4], { name: 'x' });
      const pad = input([3], { name: 'pad' });
      return { inputs: [x, pad], output: multiHeadAttention(x, undefined, { heads: 2, keyDim: 2, causal: true, keyPaddingMask: pad }) };
    }, { fixed: { pad: [1, 0, 1, /* all keys padded */ 0, 0, 0] } }), 'dsl-attention');
    expect(r.worst).toBeLessThan(1e-5);
  });
});

describe('Transformer blocks', () => {
  it('encoder (post-norm) and decoder (pre-norm) gradients match finite differences', async () => {
    const enc = await checkGrads(layerCase('encoder-block', () => {
      const x = input([3, 4], { name: 'x' });
      return { inputs: [x], output: transformerEncoderBlock(x, { heads: 2, ffDim: 5 }) };
    }, { maxCoords: 12 }), 'dsl-attention');
    expect(enc.worst).toBeLessThan(1e-5);
    const dec = await checkGrads(layerCase('decoder-block', () => {
      const x = input([3, 4], { name: 'x' });
      const mem = input([2, 4], { name: 'mem' });
      return { inputs: [x, mem], output: transformerDecoderBlock(x, mem, { heads: 2, ffDim: 5, normFirst: true }) };
    }, { maxCoords: 12 }), 'dsl-attention');
    expect(dec.worst).toBeLessThan(1e-5);
  });

  it('a sequential Transformer exports to ONNX and runs the same in onnxruntime-node', async () => {
    let ort: typeof import('onnxruntime-node');
    try {
      ort = await import('onnxruntime-node');
    } catch {
      return; // the native binding is missing here; test/onnx/export.test.ts reports why
    }
    resetLayerNames();
    const m = sequential({ name: 'tiny_transformer', input: [5], dtype: 'int32' }, [
      layers.embedding(7, 8),
      layers.sinusoidalPositionalEncoding(),
      layers.transformerEncoderBlock({ heads: 2, ffDim: 16, causal: true }),
      layers.transformerEncoderBlock({ heads: 2, ffDim: 16, normFirst: true }),
      layers.layerNorm(),
      layers.dense(7),
    ]);
    const w = randomWeights(m.graph);
    const tokens = Int32Array.from([0, 3, 6, 2, 2, 5, 1, 1, 4, 0]);
    const want = run({ ...m.graph, outputs: [{ name: 'y', node: m.graph.outputs[0].node }] }, { input: tokens }, w, 2);
    const session = await ort.InferenceSession.create(exportOnnx(m.graph, w));
    const out = await session.run({ input: new ort.Tensor('int32', tokens, [2, 5]) });
    const got = Object.values(out)[0].data as Float32Array;
    expect(got.length).toBe(want.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
  });
});

