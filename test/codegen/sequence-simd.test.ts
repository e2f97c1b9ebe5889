// Every product of the benchmark's LSTM and Transformer encoder block (bench/models), forward and
// Adam training step, has a WebAssembly SIMD version: the LSTM's input projection and per-step
// gate products, attention's batched score and context products, and every gradient product.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/pipeline.ts';
import { buildTrainingGraph, type TrainingSpec } from '../../compiler/train/step.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import type { Graph } from '../../src/ir/graph.ts';
import lstmModel from '../../bench/models/lstm.ts';
import transformerModel from '../../bench/models/transformer.ts';

const products = (g: Graph): Kernel[] => compileGraph(g).program.kernels.filter((k) => k.ops[0] === 'matmul');
const withoutSimd = (ks: readonly Kernel[]) => ks.filter((k) => renderSimdKernel(k) === null).map((k) => `${k.name} ${k.ops.join('→')} [${k.inputs.map((t) => t.shape.join('×')).join(', ')}]`);
const adam = (loss: TrainingSpec['loss']): TrainingSpec => ({ loss, optimizer: { kind: 'adam', lr: 1e-3 } }) as TrainingSpec;

describe('SIMD for every product of the sequence models', () => {
  it('LSTM (50 steps): the input projection and all 49 recurrent products, forward', () => {
    const ks = products(lstmModel.graph);
    expect(ks.length).toBe(1 + 49 + 1); // projection, steps 2…50, the dense head
    expect(withoutSimd(ks)).toEqual([]);
    // The step product's bias add runs in the vector code, not as a JavaScript epilogue.
    expect(ks.filter((k) => renderSimdKernel(k)!.epilogue !== null)).toEqual([]);
  });

  it('LSTM training step: every forward and gradient product', () => {
    const ks = products(buildTrainingGraph(lstmModel.graph, adam({ kind: 'sparseCategoricalCrossEntropy', fromLogits: true } as TrainingSpec['loss'])).graph);
    expect(ks.length).toBeGreaterThan(150);
    expect(withoutSimd(ks)).toEqual([]);
  });

  it('Transformer block: projections, batched [N, heads, L, L] score and context products, feed-forward', () => {
    const ks = products(transformerModel.graph);
    expect(ks.filter((k) => k.shape.length === 4).length).toBe(2);
    expect(withoutSimd(ks)).toEqual([]);
  });

  it('Transformer block training step: every forward and gradient product', () => {
    const ks = products(buildTrainingGraph(transformerModel.graph, adam({ kind: 'mse' } as TrainingSpec['loss'])).graph);
    expect(ks.length).toBeGreaterThan(15);
    expect(withoutSimd(ks)).toEqual([]);
  });
});
