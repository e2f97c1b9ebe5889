// Fusion of sequence models (issue 15): an LSTM step (its scan body, compiled once) has its gate
// activations and cell update in the two elementwise kernels a step needs (c_t and h_t), its gates
// read straight from the step's one product; the compiled, fused LSTM against PyTorch's formulas; attention's scale and masks as an
// epilogue of the score product and its softmax in three kernels.
import { beforeEach, describe, expect, it } from 'vitest';
import { compileGraph } from '../../compiler/pipeline.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { scheduleLoops } from '../../compiler/lower/loop.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { input } from '../../src/dsl/layers.ts';
import { lstm } from '../../src/dsl/recurrent.ts';
import { multiHeadAttention } from '../../src/dsl/attention.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { compileAndLoad } from '../grad/check.ts';
import { Lcg } from '../reference/lcg.ts';
import { reference, toBias, toKernel } from '../dsl/recurrent-reference.ts';

beforeEach(() => resetLayerNames());

const [N, T, F, H] = [3, 6, 5, 8];

function lstmGraph(): Graph {
  const x = input([T, F], { name: 'x' });
  return { name: 'lstm', inputs: [x], outputs: [{ name: 'y', node: lstm(x, H, { name: 'r', returnSequences: true }) }] };
}

/** Every op a kernel evaluates, stored or recomputed. */
const allOps = (k: Kernel) => [...k.ops, ...k.recomputes];
const count = (ops: readonly string[], op: string) => ops.filter((o) => o === op).length;
/** The LSTM step: the kernels of the layer's scan body (src/ir/recurrent.ts), compiled once for every step. */
function stepKernels(g: Graph): Kernel[] {
  const loops = scheduleLoops(compileGraph(g).program.schedule);
  expect(loops).toHaveLength(1);
  return loops[0].body.flatMap((s) => (s.kind === 'kernel' ? [s.kernel] : []));
}
/** Kernels that only move data: h sliced out of the carry [h | c] into the product's input [x_t | h] (inference sinks the input projection into the step). */
const isCarryMove = (k: Kernel) => [...k.ops, ...k.recomputes].every((op) => op === 'slice' || op === 'concat');

describe('an LSTM step', () => {
  it('is one product and two elementwise kernels: the cell state, and the new carry with the hidden state computed in it', () => {
    const ks = stepKernels(lstmGraph());
    // Before: each gate's slice → activation was a kernel of its own: four elementwise kernels a step.
    const step = ks.filter((k) => !isCarryMove(k) && k.ops[0] !== 'matmul');
    expect(step.length).toBe(2);
    // c_t [N, H]; then [h_t | c_t] [N, 2H]: the concat computes h_t = σ(o)·tanh(c_t) where it stores it (no h_t buffer, no copy of it).
    expect(step.map((k) => k.shape)).toEqual([['N', H], ['N', 2 * H]]);
    expect(step[1].ops).toEqual(['concat']);
    expect(['sigmoid', 'tanh'].every((op) => step[1].recomputes.includes(op))).toBe(true);
    // One [N, 4H] product a step (the body's), with its bias add as an epilogue.
    expect(ks.filter((k) => k.ops[0] === 'matmul').map((k) => k.shape)).toEqual([['N', 4 * H]]);
    // Besides: only moves, at most h sliced out and the product's input put together.
    expect(ks.filter(isCarryMove).length).toBeLessThanOrEqual(2);
    // The gates are read from the product inside the kernels, never stored: no kernel stores a [N, H] gate.
    expect(ks.filter((k) => k.ops[0] === 'slice' && k.reads.some((r) => r.type.shape[1] === 4 * H) && !k.recomputes.length)).toEqual([]);
  });

  it('computes c_t = σ(f)·c + σ(i)·tanh(g) in one kernel that reads the step product and c_{t−1}', () => {
    const ks = stepKernels(lstmGraph());
    // The cell kernel: three gates (two sigmoids, one tanh), two products, one sum.
    const cell = ks.filter((k) => count(allOps(k), 'sigmoid') === 2 && count(allOps(k), 'tanh') === 1 && k.ops.includes('add'));
    expect(cell.length).toBe(1);
    for (const k of cell) {
      // Three gate slices of the product, and c_{t−1} sliced from the carry [h | c].
      expect(count(allOps(k), 'slice')).toBe(4);
      expect(count(allOps(k), 'mul')).toBe(2);
      // Inputs: the [N, 4H] step product (read three times at gate offsets) and the carry [N, 2H].
      expect(k.inputs.map((t) => Number(t.shape[1])).sort((a, b) => a - b)).toEqual([2 * H, 4 * H]);
    }
    // The hidden-state kernel: h_t = σ(o) · tanh(c_t), reading c_t and the product.
    const hidden = ks.filter((k) => count(allOps(k), 'sigmoid') === 1 && count(allOps(k), 'tanh') === 1 && !k.ops.includes('add'));
    expect(hidden.length).toBe(1);
  });

  it('compiled and fused (SIMD on and off), matches PyTorch formulas run as naive loops', async () => {
    const rng = new Lcg(5);
    const w = { wIh: rng.array(4 * H * F, -0.5, 0.5), wHh: rng.array(4 * H * H, -0.5, 0.5), bIh: rng.array(4 * H, -0.3, 0.3), bHh: rng.array(4 * H, -0.3, 0.3) };
    const xv = rng.array(N * T * F, -1, 1);
    const weights = {
      'r/kernel': toKernel('lstm', w.wIh, H, F, 'keras'),
      'r/recurrentKernel': toKernel('lstm', w.wHh, H, H, 'keras'),
      'r/bias': toBias('lstm', Float64Array.from(w.bIh, (v, i) => v + w.bHh[i]), H, 'keras'),
    };
    const want = reference('lstm', xv, N, T, F, H, w).seq;
    for (const simd of [true, false]) {
      const { model } = await compileAndLoad(lstmGraph(), 'sequence-fusion', 'lstm', weights, 'js', { simd });
      const got = model.run({ x: Float32Array.from(xv) }, N).y;
      expect(got).toBeAllclose(want, { rtol: 1e-4, atol: 1e-5 });
    }
  });
});

describe('multi-head attention', () => {
  const [L, D, heads] = [6, 8, 2];
  function attention(masks: boolean): Graph {
    const x = input([L, D], { name: 'x' });
    const m = input([L], { name: 'm' });
    const y = multiHeadAttention(x, undefined, { name: 'a', heads, keyDim: D / heads, ...(masks ? { causal: true, keyPaddingMask: m } : {}) });
    return { name: 'att', inputs: masks ? [x, m] : [x], outputs: [{ name: 'y', node: y }] };
  }
  const scoreShaped = (k: Kernel) => k.shape.join() === ['N', heads, L, L].join();

  it('scales the scores in the score product: one kernel, then softmax in four', () => {
    const ks = compileGraph(attention(false)).program.kernels;
    expect(ks.filter(scoreShaped).map((k) => k.ops.join('→'))).toEqual(['matmul→mul', 'sub→exp', 'div']);
    expect(ks.filter((k) => k.ops[0] === 'reduceMax' || k.ops[0] === 'reduceSum').map((k) => `${k.ops.join('→')} [${k.recomputes.join('→')}]`)).toEqual(['reduceMax []', 'reduceSum []']);
    // exp(s − max) has two readers (the sum and the division) and is too dear to compute in both: stored once.
    const exp = ks.find((k) => k.ops.join('→') === 'sub→exp')!;
    const readers = ks.filter((k) => k.reads.includes(exp.writes));
    expect(readers.map((k) => k.ops[0])).toEqual(['reduceSum', 'div']);
    expect(ks.find((k) => k.ops[0] === 'div')!.recomputes).toEqual([]);
  });

  it('adds the causal and padding masks (−∞) in the same epilogue, and the row guard in the division', () => {
    const ks = compileGraph(attention(true)).program.kernels;
    // scale, causal bias, log of the keep mask, the floor that keeps a fully masked row finite.
    expect(ks.filter(scoreShaped).map((k) => k.ops.join('→'))).toEqual(['matmul→mul→add→add→maximum', 'sub→exp', 'div→mul']);
    expect(ks.filter((k) => k.ops[0] === 'reduceSum').map((k) => k.recomputes.join('→'))).toEqual(['']);
  });

  it('compiled with masks, matches the interpreter (a fully padded sample included)', async () => {
    const g = attention(true);
    const rng = new Lcg(9);
    const x = Float32Array.from(rng.array(N * L * D, -1, 1));
    const m = Float32Array.from({ length: N * L }, (_, i) => (i >= L * (N - 1) ? 0 : i % L === 4 ? 0 : 1));
    const weights: Record<string, Float32Array> = {};
    for (const p of ['query', 'key', 'value', 'output']) {
      weights[`a/${p}/kernel`] = Float32Array.from(rng.array(D * D, -0.5, 0.5));
      weights[`a/${p}/bias`] = Float32Array.from(rng.array(D, -0.2, 0.2));
    }
    const want = interpret(g, { x, m }, weights, N).y as Float64Array;
    const { model } = await compileAndLoad(g, 'sequence-fusion', 'attention', weights);
    const got = model.run({ x, m }, N).y;
    expect(got.every(Number.isFinite)).toBe(true);
    expect(got).toBeAllclose(want, { rtol: 1e-4, atol: 1e-5 });
  });
});
