// The model DSL: dense and conv2d shapes (Keras 'same'/'valid'), forward values, sequential params, error sites.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { shapeError } from './harness.ts';
import { describe, expect, it } from 'vitest';
import { conv2d, dense, flatten, input, layers, maxPool2d, reshape, sequential, add, matmul } from '../../src/index.ts';
import type { TypedArray } from '../../src/ir/dtype.ts';
import { graphParams } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { Lcg } from '../reference/lcg.ts';
import * as R from '../reference/naive.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const SOURCE_LINES = readFileSync(THIS_FILE, 'utf8').split('\n');

/** 1-based line of this file holding `marker` (a comment next to the call under test). */
function lineOf(marker: string): number {
  const hits = SOURCE_LINES.flatMap((l, i) => (l.includes(marker) && !l.includes('lineOf(') ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker ${marker} found ${hits.length} times`);
  return hits[0];
}


/** Random float32 weights for every parameter reachable from `out`. */
function randomWeights(out: Node, rng: Lcg): Record<string, TypedArray> {
  const params = graphParams({ name: 'g', inputs: [], outputs: [{ name: 'y', node: out }] });
  return Object.fromEntries(params.map((p) => [p.attrs.name as string, Float32Array.from(rng.array(R.sizeOf(p.type.shape as number[]), -1, 1))]));
}

/** Keras's output extent: 'same' → ceil(in / s); 'valid' → ceil((in − d·(k − 1)) / s). */
const kerasOut = (size: number, k: number, s: number, d: number, padding: 'same' | 'valid') =>
  padding === 'same' ? Math.ceil(size / s) : Math.ceil((size - d * (k - 1)) / s);

describe('dense', () => {
  it('x·W + b on the last axis, W of shape [in, units]', () => {
    const x = input([6]);
    const y = dense(x, 4);
    expect(y.type).toEqual({ dtype: 'float32', shape: ['N', 4] });
    const params = graphParams({ name: 'g', inputs: [x], outputs: [{ name: 'y', node: y }] });
    expect(params.map((p) => p.type.shape)).toEqual([[6, 4], [4]]);
    expect(params.map((p) => p.attrs.name)).toEqual([expect.stringMatching(/\/kernel$/), expect.stringMatching(/\/bias$/)]);
  });

  it.each([1, 3])('forward values match x·W + b then relu at batch %i', (batch) => {
    const rng = new Lcg(5);
    const x = input([6], { name: 'features' });
    const y = dense(x, 3, { activation: 'relu', name: 'fc' });
    const weights = randomWeights(y, rng);
    const xs = Float32Array.from(rng.array(6 * batch));
    const got = interpret({ name: 'g', inputs: [x], outputs: [{ name: 'y', node: y }] }, { features: xs }, weights, batch).y;
    const want = R.map(R.add(R.matmul(R.tensor([batch, 6], xs), R.tensor([6, 3], weights['fc/kernel'])), R.tensor([3], weights['fc/bias'])), R.scalar.relu);
    expect(got).toBeAllclose(want.data, { rtol: 1e-5, atol: 1e-6 });
  });

  it('useBias false adds no bias and works on rank-3 input', () => {
    const y = dense(input([5, 7]), 2, { useBias: false });
    expect(y.op).toBe('matmul');
    expect(y.type.shape).toEqual(['N', 5, 2]);
  });
});

describe('conv2d padding', () => {
  const SIZES = [5, 6, 7, 28];
  const KERNELS = [1, 2, 3, 5];
  const STRIDES = [1, 2, 3];
  for (const padding of ['same', 'valid'] as const) {
    it(`'${padding}' output shapes follow Keras's formula over sizes × kernels × strides × dilations`, () => {
      for (const size of SIZES)
        for (const k of KERNELS)
          for (const s of STRIDES)
            for (const d of [1, 2]) {
              if (padding === 'valid' && size < d * (k - 1) + 1) continue;
              const x = input([2, size, size + 1]);
              const y = conv2d(x, { filters: 4, kernelSize: k, strides: s, dilation: d, padding });
              const want = ['N', 4, kerasOut(size, k, s, d, padding), kerasOut(size + 1, k, s, d, padding)];
              expect(y.type.shape, `size ${size} k ${k} s ${s} d ${d}`).toEqual(want);
            }
    });
  }

  it("'same' puts the extra pad after (bottom/right), as TensorFlow does", () => {
    const y = conv2d(input([1, 6, 6]), { filters: 1, kernelSize: 2, padding: 'same', useBias: false });
    expect(y.attrs.pads).toEqual([0, 0, 1, 1]);
    const z = conv2d(input([1, 7, 7]), { filters: 1, kernelSize: 4, strides: 2, padding: 'same', useBias: false });
    expect(z.attrs.pads).toEqual([1, 1, 2, 2]);
  });

  it.each([1, 3])('forward values of a grouped, strided, same-padded conv with bias at batch %i', (batch) => {
    const rng = new Lcg(11);
    const x = input([4, 7, 6], { name: 'img' });
    const y = conv2d(x, { filters: 6, kernelSize: [3, 2], strides: 2, padding: 'same', groups: 2, name: 'c' });
    const weights = randomWeights(y, rng);
    const xs = Float32Array.from(rng.array(4 * 7 * 6 * batch));
    const got = interpret({ name: 'g', inputs: [x], outputs: [{ name: 'y', node: y }] }, { img: xs }, weights, batch).y;
    const convNode = y.inputs[0]; // y = add(conv, reshape(bias))
    expect(convNode.op).toBe('conv2d');
    const pads = convNode.attrs.pads as [number, number, number, number];
    // H: 4 outputs need (4−1)·2 + 3 − 7 = 2 pad rows → 1 + 1; W: 3 outputs need (3−1)·2 + 2 − 6 = 0.
    expect(pads).toEqual([1, 0, 1, 0]);
    const conv = R.conv2d(R.tensor([batch, 4, 7, 6], xs), R.tensor([6, 2, 3, 2], weights['c/kernel']), { strides: [2, 2], pads, group: 2 });
    const want = R.add(conv, R.tensor([6, 1, 1], weights['c/bias']));
    expect(got).toBeAllclose(want.data, { rtol: 1e-5, atol: 1e-5 });
  });
});

describe('sequential', () => {
  it('parameter shapes of a small CNN', () => {
    const m = sequential({ name: 'cnn', input: [1, 28, 28] }, [
      layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.maxPool2d(2),
      layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
      layers.batchNorm(),
      layers.flatten(),
      layers.dense(32, { activation: 'relu' }),
      layers.dropout(0.5),
      layers.dense(10, { activation: 'softmax' }),
    ]);
    const shapes = graphParams(m.graph).map((p) => [String(p.attrs.name).replace(/^.*\//, ''), p.type.shape, p.attrs.trainable]);
    expect(shapes).toEqual([
      ['kernel', [8, 1, 3, 3], true],
      ['bias', [8], true],
      ['kernel', [16, 8, 3, 3], true],
      ['bias', [16], true],
      ['gamma', [16], true],
      ['beta', [16], true],
      ['movingMean', [16], false],
      ['movingVariance', [16], false],
      ['kernel', [16 * 12 * 12, 32], true],
      ['bias', [32], true],
      ['kernel', [32, 10], true],
      ['bias', [10], true],
    ]);
    expect(m.graph.outputs[0].node.type.shape).toEqual(['N', 10]);
    expect(m.graph.inputs.map((n) => n.type.shape)).toEqual([['N', 1, 28, 28]]);
  });

  it('channelsLast input is transposed to NCHW', () => {
    const m = sequential({ name: 'cl', input: [8, 8, 3], channelsLast: true }, [layers.conv2d({ filters: 2, kernelSize: 3 }), layers.flatten()]);
    expect(m.graph.outputs[0].node.type.shape).toEqual(['N', 2 * 6 * 6]);
    expect(graphParams(m.graph)[0].type.shape).toEqual([2, 3, 3, 3]);
  });
});

describe('error sites point at the calling line of this test file', () => {
  it('a functional reshape([N, 20, 20, 20] → [-1, 320])', () => {
    const x = input([20, 20, 20]);
    const e = shapeError(() => reshape(x, [-1, 320])); // @site:reshape
    expect(e.message).toContain('8000');
    expect(e.message).toContain('320');
    expect(e.site.op).toBe('reshape');
    expect(e.site.layer).toMatch(/^reshape_\d+$/);
    expect(e.site.source?.file.endsWith('dsl.test.ts')).toBe(true);
    expect(e.site.source?.line).toBe(lineOf('// @site:reshape'));
    expect(e.message).toContain(`dsl.test.ts:${lineOf('// @site:reshape')}:`);
  });

  it('a dense layer whose input has the wrong width, via matmul', () => {
    const x = input([4]);
    const w = input([5, 2], { batched: false });
    const e = shapeError(() => matmul(x, w)); // @site:matmul
    expect(e.message).toContain('[N, 4]');
    expect(e.message).toContain('[5, 2]');
    expect(e.site.source?.file.endsWith('dsl.test.ts')).toBe(true);
    expect(e.site.source?.line).toBe(lineOf('// @site:matmul'));
  });

  it('a broadcast add of mismatched tensors', () => {
    const a = input([3, 4]);
    const b = input([5], { batched: false });
    const e = shapeError(() => add(a, b)); // @site:add
    expect(e.site.source?.line).toBe(lineOf('// @site:add'));
    expect(e.message).toMatch(/\[N, 3, 4\].*\[5\]/);
  });

  it('a sequential layer reports the line where it was declared, not where it was applied', () => {
    const e = shapeError(() =>
      sequential({ name: 'bad', input: [20, 20, 20] }, [
        layers.relu(),
        layers.reshape([-1, 320]), // @site:sequential-reshape
        layers.dense(4),
      ]),
    );
    expect(e.message).toContain('8000');
    expect(e.site.source?.file.endsWith('dsl.test.ts')).toBe(true);
    expect(e.site.source?.line).toBe(lineOf('// @site:sequential-reshape'));
  });

  it('the DSL conv2d channel mismatch names both shapes', () => {
    const x = input([3, 8, 8]);
    const y = conv2d(x, { filters: 4, kernelSize: 3 });
    const e = shapeError(() => flatten(maxPool2d(conv2d(y, { filters: 2, kernelSize: 3, groups: 3 })))); // @site:conv
    expect(e.message).toMatch(/group 3 must divide input channels 4/);
    expect(e.site.source?.line).toBe(lineOf('// @site:conv'));
  });
});
