// Tests for model summaries: parameter counts of the seed models, FLOPs against hand counts, and the table.
//
// FLOP convention (the op registry's): a multiply-add counts 2, so a matmul [1,K]·[K,M] is 2·K·M and a
// conv is 2·(output elements)·(C/group·kH·kW); elementwise ops count 1 per output element (a bias add,
// relu) unless their own rule says otherwise (softmax and logSoftmax count 5 per element); a max pool
// counts one comparison per window tap; reshape, flatten, transpose and parameters count 0. Everything
// is per sample: the batch dimension counts as 1.
import { describe, expect, it } from 'vitest';
import { formatSummary, nodeFlops, summarize } from '../../compiler/inspect/summary.ts';
import { batchNorm, dense, input } from '../../src/dsl/layers.ts';
import { model } from '../../src/dsl/model.ts';
import { makeNode } from '../../src/ir/build.ts';
import { loadExample } from '../ir/fixtures.ts';

type Act = 'relu' | 'softmax' | 'logSoftmax' | 'linear';
const ACT_COST: Record<Act, number> = { relu: 1, softmax: 5, logSoftmax: 5, linear: 0 };

/** Dense in→out: matmul 2·in·out, bias add out, activation. */
const denseFlops = (inF: number, out: number, act: Act) => 2 * inF * out + out + ACT_COST[act] * out;
/** Conv c→f with k×k filters onto an oh×ow output: 2·(f·oh·ow)·(c·k·k), bias add, activation. */
const convFlops = (c: number, f: number, k: number, oh: number, ow: number, act: Act) =>
  2 * f * oh * ow * c * k * k + f * oh * ow + ACT_COST[act] * f * oh * ow;
/** 2×2 max pool onto c×oh×ow: four comparisons per output. */
const poolFlops = (c: number, oh: number, ow: number) => c * oh * ow * 4;

const EXPECTED: Record<string, { params: number; flops: number }> = {
  mlp: { params: 55_050, flops: denseFlops(784, 64, 'relu') + denseFlops(64, 64, 'relu') + denseFlops(64, 10, 'softmax') },
  mlp256: { params: 203_530, flops: denseFlops(784, 256, 'linear') + 256 /* relu layer */ + denseFlops(256, 10, 'linear') },
  cnn: {
    params: 693_962,
    flops: convFlops(1, 32, 3, 26, 26, 'relu') + poolFlops(32, 13, 13) + denseFlops(32 * 13 * 13, 128, 'relu') + denseFlops(128, 10, 'softmax'),
  },
  'cnn-small': { params: 54_410, flops: convFlops(1, 32, 3, 26, 26, 'relu') + poolFlops(32, 13, 13) + denseFlops(5408, 10, 'softmax') },
  lenet: {
    params: 21_840,
    flops:
      convFlops(1, 10, 5, 24, 24, 'linear') + poolFlops(10, 12, 12) + 10 * 12 * 12 /* relu */ +
      convFlops(10, 20, 5, 8, 8, 'linear') + poolFlops(20, 4, 4) + 20 * 4 * 4 /* relu */ +
      denseFlops(320, 50, 'linear') + 50 /* relu */ + denseFlops(50, 10, 'linear') + 5 * 10 /* logSoftmax */,
  },
  'cifar-cnn': {
    params: 8_475_530,
    flops:
      convFlops(3, 64, 3, 32, 32, 'relu') + poolFlops(64, 16, 16) + convFlops(64, 128, 3, 16, 16, 'relu') + poolFlops(128, 8, 8) +
      denseFlops(128 * 8 * 8, 1024, 'relu') + denseFlops(1024, 10, 'softmax'),
  },
  cnn2: {
    params: 843_658,
    flops:
      convFlops(1, 32, 3, 26, 26, 'relu') + poolFlops(32, 13, 13) + convFlops(32, 64, 3, 11, 11, 'relu') + poolFlops(64, 5, 5) +
      denseFlops(64 * 5 * 5, 512, 'relu') + denseFlops(512, 10, 'linear'),
  },
};

describe('summarize on the seed models', () => {
  it.each(Object.entries(EXPECTED))('%s: parameters and FLOPs per sample', async (name, expected) => {
    const s = summarize(await loadExample(name));
    expect(s.totals.params).toBe(expected.params);
    expect(s.totals.trainableParams).toBe(expected.params);
    expect(s.totals.nonTrainableParams).toBe(0);
    expect(s.totals.flops).toBe(expected.flops);
    expect(s.layers.reduce((n, l) => n + l.params, 0)).toBe(expected.params);
  });

  it('groups cnn into its layers, with output shapes, parameters and FLOPs each', async () => {
    const s = summarize(await loadExample('cnn'));
    expect(s.model).toBe('cnn');
    const rows = s.layers.map((l) => [l.name.replace(/_\d+$/, '_k'), l.kind, l.outputShape, l.params, l.flops]);
    expect(rows).toEqual([
      // cnn declares its input channels-last, so its shapes are shown NHWC, as its user wrote them.
      ['input', 'Input', ['N', 28, 28, 1], 0, 0],
      ['conv2d_k', 'Conv2D', ['N', 26, 26, 32], 32 * 9 + 32, convFlops(1, 32, 3, 26, 26, 'relu')],
      ['maxpool2d_k', 'MaxPool2D', ['N', 13, 13, 32], 0, poolFlops(32, 13, 13)],
      ['flatten_k', 'Flatten', ['N', 5408], 0, 0],
      ['dense_k', 'Dense', ['N', 128], 5408 * 128 + 128, denseFlops(5408, 128, 'relu')],
      ['dense_k', 'Dense', ['N', 10], 128 * 10 + 10, denseFlops(128, 10, 'softmax')],
    ]);
    expect(s.layout).toBe('channels-last');
    expect(s.layers[0].ops).toEqual(['input', 'transpose']);
    expect(s.layers[4].ops).toEqual(['param', 'matmul', 'param', 'add', 'relu']);
    expect(s.totals.macs).toBe(32 * 26 * 26 * 9 + 5408 * 128 + 128 * 10);
  });
});

describe('summarize on hand-built graphs', () => {
  it('counts batch-norm running statistics as non-trainable', () => {
    const x = input([8, 4, 4], { name: 'x' });
    const g = model({ name: 'bn', inputs: x, outputs: batchNorm(x, { name: 'bn' }) }).graph;
    const s = summarize(g);
    expect(s.totals).toMatchObject({ params: 32, trainableParams: 16, nonTrainableParams: 16, flops: 2 * 8 * 4 * 4 });
    expect(s.layers.map((l) => [l.name, l.params])).toEqual([['x', 0], ['bn', 32]]);
  });

  it('puts nodes without a layer in rows named by their op', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 5] });
    const y = makeNode('tanh', [makeNode('exp', [x])]);
    const s = summarize({ name: 'bare', inputs: [x], outputs: [{ name: 'y', node: y }] });
    expect(s.layers.map((l) => [l.name, l.kind, l.ops, l.flops])).toEqual([
      ['input', 'input', ['input'], 0],
      ['exp', 'exp', ['exp'], 5],
      ['tanh', 'tanh', ['tanh'], 4 * 5],
    ]);
  });
});

describe('formatSummary', () => {
  it('draws a Keras-style table with totals and thousands separators', async () => {
    const text = formatSummary(summarize(await loadExample('cnn')));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Model: "cnn"');
    expect(lines[2]).toMatch(/^│ Layer \(type\) +│ Output Shape +│ Param # │ FLOPs +│ Activations @64 │$/);
    expect(text).toMatch(/│ dense_\d+ \(Dense\) +│ \[N, 128\] +│ 692,352 │ 1,384,704 │ +32 KiB │/);
    expect(text).toContain('Total params: 693,962');
    expect(text).toContain('Trainable params: 693,962');
    expect(text).toContain('Non-trainable params: 0');
    expect(EXPECTED.cnn.flops).toBe(1_841_596);
    expect(text).toContain('FLOPs per sample: 1,841,596');
    const table = lines.slice(1, lines.findIndex((l) => l.startsWith('Total')));
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
    expect(table).toHaveLength(6 + 4);
  });

  it('sanitises hostile layer names', () => {
    const x = input([3], { name: 'x' });
    const g = model({ name: 'evil\nmodel', inputs: x, outputs: dense(x, 2, { name: 'x\n*/ evil()' }) }).graph;
    const text = formatSummary(summarize(g));
    expect(text).not.toContain('*/');
    expect(text).toContain('x\\n*\\/ evil() (Dense)');
    expect(text.split('\n')[0]).toBe('Model: "evil\\nmodel"');
  });
});

describe('nodeFlops at a batch', () => {
  it('a product contracting over the batch (a weight gradient xᵀ·dy) counts 2·N·in·out, by hand; a batched one N times its per-sample count', () => {
    const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: ['N', 3] });
    const dy = makeNode('input', [], { name: 'dy', dtype: 'float32', shape: ['N', 5] });
    const w = makeNode('input', [], { name: 'w', dtype: 'float32', shape: [3, 5] });
    const grad = makeNode('matmul', [x, dy], { transA: true });
    const forward = makeNode('matmul', [x, w], {});
    expect(nodeFlops(grad, 8)).toBe(2 * 8 * 3 * 5);
    expect(nodeFlops(grad)).toBe(2 * 3 * 5); // per sample: the batch counts as 1, not NaN
    expect(nodeFlops(forward, 8)).toBe(8 * nodeFlops(forward));
    expect(nodeFlops(forward)).toBe(2 * 3 * 5);
  });
});
