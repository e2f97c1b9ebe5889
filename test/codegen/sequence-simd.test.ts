// Every product of the benchmark's LSTM and Transformer encoder block (bench/models), forward and
// Adam training step, has a WebAssembly SIMD version: the LSTM's per-step gate products (with
// the input projection in them at inference; over every step at once in training), attention's batched score and context products, and every gradient product.
// The LSTM is a scan: its step product is one kernel of a loop body, run once per time step.
import { describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/pipeline.ts';
import { buildTrainingGraph, type TrainingSpec } from '../../compiler/train/step.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { scheduleKernels, scheduleLoops } from '../../compiler/lower/loop.ts';
import type { Graph } from '../../src/ir/graph.ts';
import lstmModel from '../../bench/models/lstm.ts';
import transformerModel from '../../bench/models/transformer.ts';

const products = (g: Graph): Kernel[] => compileGraph(g).program.kernels.filter((k) => k.ops[0] === 'matmul');
const withoutSimd = (ks: readonly Kernel[]) => ks.filter((k) => renderSimdKernel(k) === null).map((k) => `${k.name} ${k.ops.join('→')} [${k.inputs.map((t) => t.shape.join('×')).join(', ')}]`);
const adam = (loss: TrainingSpec['loss']): TrainingSpec => ({ loss, optimizer: { kind: 'adam', lr: 1e-3 } }) as TrainingSpec;

describe('SIMD for every product of the sequence models', () => {
  it('LSTM (50 steps): the input and recurrent products as one in the loop, [x_t | h]·[W; R] + b, and the head', () => {
    const ks = products(lstmModel.graph);
    // Inference sinks the input projection into the step (compiler/passes/sink-projection.ts): the step's one product, the dense head.
    expect(ks.length).toBe(2);
    const loops = scheduleLoops(compileGraph(lstmModel.graph).program.schedule);
    expect(loops.map((l) => l.steps)).toEqual([50]);
    const inLoop = scheduleKernels(loops[0]!.body).filter((k) => k.ops[0] === 'matmul');
    expect(inLoop.map((k) => k.inputs.map((t) => t.shape.join('×')))).toEqual([['N×192', '192×512', '512']]);
    expect(withoutSimd(ks)).toEqual([]);
    // The step product's bias add runs in the vector code, not as a JavaScript epilogue.
    expect(ks.filter((k) => renderSimdKernel(k)!.epilogue !== null)).toEqual([]);
  });

  it('LSTM training step: every forward and gradient product', () => {
    const ks = products(buildTrainingGraph(lstmModel.graph, adam({ kind: 'sparseCategoricalCrossEntropy', fromLogits: true } as TrainingSpec['loss'])).graph);
    // Forward (3), and the backward scan's products through time plus the weight gradients.
    expect(ks.length).toBeGreaterThanOrEqual(8);
    expect(scheduleLoops(compileGraph(buildTrainingGraph(lstmModel.graph, adam({ kind: 'sparseCategoricalCrossEntropy', fromLogits: true } as TrainingSpec['loss'])).graph).program.schedule).length).toBeGreaterThanOrEqual(2);
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
