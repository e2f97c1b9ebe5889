// Memory planning: no kernel writes a buffer it reads, no live value is overwritten, buffers fit and are reused.
import { beforeAll, describe, expect, it } from 'vitest';
import { baseOf, type Program } from '../../compiler/lower/plan.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { isBatched, sampleSize } from '../../src/ir/shape.ts';
import { EXAMPLE_NAMES, graphOf, inputNode, loadExample, paramNode } from './util.ts';

const programs = new Map<string, Program>();

beforeAll(async () => {
  for (const name of EXAMPLE_NAMES) programs.set(name, compileGraph(await loadExample(name)).program);
});

const bufferOf = (p: Program, n: Node): number | null => {
  const s = p.storageOf(n);
  return s.kind === 'buffer' ? s.id : null;
};

/**
 * Runs the plan symbolically: each buffer holds the last value a kernel stored in it. Every read
 * must find its value still there, and every output must be intact at the end.
 */
function checkLiveness(p: Program): void {
  const holds = new Map<number, Node>();
  p.kernels.forEach((k) => {
    for (const r of k.reads) {
      const id = bufferOf(p, r);
      if (id !== null) expect(holds.get(id), `${k.name} reads %${baseOf(r).id} from b${id}`).toBe(baseOf(r));
    }
    const out = bufferOf(p, k.writes);
    expect(out, `${k.name} must store into a planned buffer`).not.toBeNull();
    holds.set(out!, k.writes);
  });
  for (const o of p.graph.outputs) {
    const id = bufferOf(p, o.node);
    if (id !== null) expect(holds.get(id), `output ${o.name}`).toBe(baseOf(o.node));
  }
}

describe('memory plan of every example', () => {
  it.each(EXAMPLE_NAMES)('%s: no kernel writes a buffer it reads', (name) => {
    const p = programs.get(name)!;
    for (const k of p.kernels) {
      const out = bufferOf(p, k.writes);
      const ins = k.reads.map((r) => bufferOf(p, r)).filter((id) => id !== null);
      expect(ins, k.name).not.toContain(out);
    }
  });

  it.each(EXAMPLE_NAMES)('%s: no value is overwritten before its last reader runs', (name) => {
    checkLiveness(programs.get(name)!);
  });

  it.each(EXAMPLE_NAMES)('%s: every buffer is big enough and of the right dtype for what it stores', (name) => {
    const p = programs.get(name)!;
    for (const k of p.kernels) {
      const b = p.buffers[bufferOf(p, k.writes)!];
      expect(b.dtype).toBe(k.dtype);
      expect(b.batched).toBe(isBatched(k.shape));
      expect(b.perSample).toBeGreaterThanOrEqual(sampleSize(k.shape));
    }
    expect(p.buffers.map((b) => b.id)).toEqual(p.buffers.map((_, i) => i));
  });

  // A chain ending in softmax: the logits stay alive until the division (which recomputes
  // exp(x − max) from them), beside the max and the sum, and the output: at most 4 buffers.
  it.each(EXAMPLE_NAMES)('%s: buffers are reused (a chain with a softmax at its end needs at most 4)', (name) => {
    const p = programs.get(name)!;
    expect(p.buffers.length).toBeLessThanOrEqual(4);
    if (p.kernels.length > 3) expect(p.buffers.length).toBeLessThan(p.kernels.length);
  });

  it('cnn: nine kernels share at most four buffers, the largest sized for the conv output', () => {
    const p = programs.get('cnn')!;
    expect(p.kernels).toHaveLength(9);
    expect(p.buffers.length).toBeLessThanOrEqual(4);
    expect(Math.max(...p.buffers.map((b) => b.perSample))).toBe(32 * 26 * 26);
  });

  it('inputs, parameters and constants keep their own storage', () => {
    const p = programs.get('lenet')!;
    expect(p.storageOf(p.graph.inputs[0])).toEqual({ kind: 'input', index: 0 });
    p.params.forEach((n, index) => expect(p.storageOf(n)).toEqual({ kind: 'param', index }));
    expect(p.params.map((n) => n.attrs.name)).toEqual([
      'conv1/kernel', 'conv1/bias', 'conv2/kernel', 'conv2/bias', 'fc1/kernel', 'fc1/bias', 'fc2/kernel', 'fc2/bias',
    ]);
  });
});

describe('memory plan on hand-built graphs', () => {
  /** Residual-style graph: an early value stays live across several later kernels. */
  function residual(): Graph {
    const x = inputNode('x', ['N', 8]);
    const w1 = paramNode('w1', [8, 8]);
    const w2 = paramNode('w2', [8, 8]);
    const w3 = paramNode('w3', [8, 8]);
    const h = makeNode('matmul', [x, w1]);
    const a = makeNode('relu', [makeNode('matmul', [h, w2])]);
    const b = makeNode('tanh', [makeNode('matmul', [a, w3])]);
    const c = makeNode('sigmoid', [makeNode('matmul', [b, w2])]);
    return graphOf([x], { y: makeNode('softmax', [makeNode('add', [c, h])], { axis: -1 }), h });
  }

  it('keeps a value read late (and an output) alive across later kernels', () => {
    const p = compileGraph(residual()).program;
    checkLiveness(p);
    for (const k of p.kernels) expect(k.reads.map((r) => bufferOf(p, r))).not.toContain(bufferOf(p, k.writes));
  });

  it('gives unbatched and batched values, and different dtypes, different buffers', () => {
    const x = inputNode('x', ['N', 4]);
    const w = paramNode('w', [4, 4]);
    const wt = makeNode('transpose', [makeNode('exp', [w])], { perm: [1, 0] }); // unbatched [4, 4]
    const y = makeNode('matmul', [x, wt]);
    const idx = makeNode('argmax', [y], { axis: -1, keepdims: false }); // int32
    const p = compileGraph(graphOf([x], { y: makeNode('neg', [y]), idx })).program;
    checkLiveness(p);
    for (const k of p.kernels) {
      const b = p.buffers[bufferOf(p, k.writes)!];
      expect([b.dtype, b.batched]).toEqual([k.dtype, isBatched(k.shape)]);
    }
    expect(new Set(p.buffers.map((b) => `${b.dtype}/${b.batched}`))).toEqual(new Set(['float32/false', 'float32/true', 'int32/true']));
  });
});
