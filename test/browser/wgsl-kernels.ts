// Kernels for the WGSL renderer's tests: every kernel of the examples' inference and training
// programs, synthetic products at tile edges, and each kernel's reference values from the
// reference interpreter's expression evaluator (src/ir/interpret.ts).
import path from 'node:path';
import { loadModel } from '../../cli/load.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { buildTrainingGraph, type TrainingSpec } from '../../compiler/train/step.ts';
import { makeNode } from '../../src/ir/build.ts';
import * as E from '../../src/ir/expr.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { evaluateExpr } from '../../src/ir/interpret.ts';
import { BATCH, numel, strides, type Dim } from '../../src/ir/shape.ts';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The classifier examples (softmax heads), whose training step takes integer labels. */
export const EXAMPLES = ['mlp', 'mlp256', 'cnn', 'cnn-small', 'lenet', 'cnn2', 'cifar-cnn'];

const SPEC = { loss: { kind: 'sparseCategoricalCrossEntropy' }, optimizer: { kind: 'adam', lr: 1e-3 } } as unknown as TrainingSpec;

/** Every kernel of an example's inference program and of its Adam training step. */
export async function exampleKernels(name: string): Promise<{ inference: readonly Kernel[]; training: readonly Kernel[] }> {
  const { graph } = await loadModel(path.join(ROOT, 'examples', `${name}.ts`));
  return { inference: compileGraph(graph).program.kernels, training: compileGraph(buildTrainingGraph(graph, SPEC).graph, 't').program.kernels };
}

/** One kernel of a single-node graph of `op` over fresh float32 inputs. */
export function kernelOf(op: string, shapes: readonly Dim[][], attrs: Record<string, unknown> = {}, epilogue?: (n: ReturnType<typeof makeNode>) => ReturnType<typeof makeNode>): Kernel {
  const inputs = shapes.map((shape, i) => makeNode('input', [], { name: `x${i}`, dtype: 'float32', shape: [...shape] }));
  const node = makeNode(op as never, inputs, attrs);
  const graph: Graph = { name: 'one', inputs, outputs: [{ name: 'y', node: epilogue ? epilogue(node) : node }] } as unknown as Graph;
  const ks = compileGraph(graph).program.kernels;
  return ks[ks.length - 1];
}

/** A product x·W (or with either transposed) with a bias and relu epilogue: M = batch, N = n, K = k. */
export function denseKernel(k: number, n: number, transB = false): Kernel {
  const bias = makeNode('input', [], { name: 'bias', dtype: 'float32', shape: [n] });
  const x = makeNode('input', [], { name: 'x', dtype: 'float32', shape: [BATCH, k] });
  const w = makeNode('input', [], { name: 'w', dtype: 'float32', shape: transB ? [n, k] : [k, n] });
  const y = makeNode('relu', [makeNode('add', [makeNode('matmul', [x, w], { transA: false, transB }), bias])]);
  const graph = { name: 'dense', inputs: [x, w, bias], outputs: [{ name: 'y', node: y }] } as unknown as Graph;
  const ks = compileGraph(graph).program.kernels;
  return ks[ks.length - 1];
}

/** Σ over the batch of xᵀ·dy (a weight gradient: the reduction runs over the batch). */
export function weightGradKernel(k: number, n: number): Kernel {
  return kernelOf('matmul', [[BATCH, k], [BATCH, n]], { transA: true, transB: false });
}

/** A seeded uniform generator (mulberry32), for inputs both sides see. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random float32 inputs for each slot of `k` at `batch`, in [-1, 1). */
export function inputsFor(k: Kernel, batch: number, seed: number): Float32Array[] {
  const r = random(seed);
  return k.inputs.map((t) => Float32Array.from({ length: numel(t.shape, batch) }, () => r() * 2 - 1));
}

/** The kernel's expression with every load's multi-index made a flat row-major offset. */
function flatLoads(k: Kernel): E.Expr {
  return E.mapExpr(k.expr, (e) => {
    if (e.k !== 'load') return e;
    const s = strides(k.inputs[e.input].shape);
    const offset = e.index.reduce<E.Expr>((acc, ix, d) => E.add(acc, E.mul(ix, E.num(s[d]))), E.num(0));
    return E.load(e.input, [offset]);
  });
}

/** Output elements of `k` at `batch` (every one, or those at flat positions `at`), evaluated by the reference interpreter in float64. */
export function referenceValues(k: Kernel, inputs: readonly Float32Array[], batch: number, at?: readonly number[]): Float64Array {
  const expr = flatLoads(k);
  const ins = inputs.map((a) => Float64Array.from(a));
  const extents = k.shape.map((d) => (d === BATCH ? batch : d));
  const positions = at ?? Array.from({ length: numel(k.shape, batch) }, (_, i) => i);
  const out = new Float64Array(positions.length);
  const vars: Record<string, number> = { [E.BATCH_VAR]: batch };
  for (const [i, flat] of positions.entries()) {
    let rest = flat;
    for (let d = extents.length - 1; d >= 0; d--) {
      vars[`o${d}`] = rest % extents[d];
      rest = Math.floor(rest / extents[d]);
    }
    out[i] = evaluateExpr(expr, vars, ins);
  }
  return out;
}

/** Multiply-adds of a kernel's reduction per output element times its outputs, at `batch`: how long its reference takes. */
export function workOf(k: Kernel, batch: number): number {
  const r = E.reductions(k.expr)[0];
  const inner = r && r.k === 'reduce' ? r.vars.reduce((n, v) => n * (v.extent === BATCH ? batch : v.extent), 1) : 1;
  return inner * numel(k.shape, batch);
}
