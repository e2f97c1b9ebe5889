// Fusion and lowering: which ops share a kernel (cnn's exact grouping), single readers only, one
// reduction per kernel, and which cheap producers are recomputed where they are read.
import { beforeAll, describe, expect, it } from 'vitest';
import { fuse, type FusedGroup } from '../../compiler/fuse/fuse.ts';
import { compileGraph, optimize } from '../../compiler/pipeline.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { baseOf } from '../../compiler/lower/plan.ts';
import { makeNode } from '../../src/ir/build.ts';
import { reductions } from '../../src/ir/expr.ts';
import { consumers, graphNodes, type Graph } from '../../src/ir/graph.ts';
import type { Node } from '../../src/ir/node.ts';
import { opDef } from '../../src/ir/ops/index.ts';
import { EXAMPLE_NAMES, graphOf, inputNode, loadExample, paramNode } from './util.ts';

const graphs = new Map<string, Graph>();
const kernelsOf = (name: string): readonly Kernel[] => compileGraph(graphs.get(name)!).program.kernels;

beforeAll(async () => {
  for (const name of EXAMPLE_NAMES) graphs.set(name, await loadExample(name));
});

describe('fusion of examples/cnn.ts', () => {
  it('groups ops into exactly these kernels', () => {
    expect(kernelsOf('cnn').map((k) => k.ops.join('→'))).toEqual([
      'transpose', // channels-last input to NCHW
      'conv2d→add→relu',
      'maxPool2d',
      'matmul→add→relu',
      'matmul→add',
      'reduceMax', // softmax, decomposed: the logits are read twice, so nothing fuses into them
      'sub→exp', // exp(x − max): read by the sum and the division, and too dear to compute in both
      'reduceSum', // Σ exp(x − max)
      'div', // exp(x − max) / Σ
    ]);
    expect(kernelsOf('cnn').map((k) => k.recomputes.join('→'))).toEqual(['', '', '', '', '', '', '', '', '']);
  });

  it('names each kernel after its layers and gives it the shape of what it stores', () => {
    const ks = kernelsOf('cnn');
    expect(ks.map((k) => k.name)).toEqual(ks.map((_, i) => `k${i}`));
    expect(ks[1].shape).toEqual(['N', 32, 26, 26]);
    expect(ks[2].shape).toEqual(['N', 32, 13, 13]);
    expect(ks[3].shape).toEqual(['N', 128]);
    expect(ks[4].shape).toEqual(['N', 10]);
    expect(ks[1].layers).toHaveLength(1);
    expect(ks[1].layers[0]).toMatch(/^conv2d_\d+$/);
  });

  it('the flatten is a view (no kernel): the dense kernel reads the pool output through it', () => {
    const { fused, program } = compileGraph(graphs.get('cnn')!);
    // Two views: the conv bias as [32, 1, 1], and the flatten.
    expect(fused.views.map((v) => v.type.shape)).toEqual([[32, 1, 1], ['N', 32 * 13 * 13]]);
    const dense = program.kernels[3];
    expect(dense.inputs[0].shape).toEqual(['N', 32 * 13 * 13]);
    expect(program.storageOf(dense.reads[0])).toEqual(program.storageOf(program.kernels[2].writes));
  });

  it('lenet fuses a relu after the pool and the log into the sum', () => {
    const ks = kernelsOf('lenet');
    expect(ks.map((k) => k.ops.join('→'))).toEqual([
      'conv2d→add', 'maxPool2d→relu', 'conv2d→add', 'maxPool2d→relu', 'matmul→add→relu', 'matmul→add',
      'reduceMax', 'reduceSum→log', 'sub',
    ]);
    // logSoftmax in three kernels: x − max is recomputed by the sum (under exp) and by the final sub.
    expect(ks.slice(6).map((k) => k.recomputes.join('→'))).toEqual(['', 'sub→exp', 'sub']);
  });
});

describe('fusion invariants on every example', () => {
  it.each(EXAMPLE_NAMES)('%s: every kernel has at most one reduction, and only as its anchor', (name) => {
    for (const k of kernelsOf(name)) {
      expect(reductions(k.expr).length, `${k.name} ${k.ops.join('→')}`).toBeLessThanOrEqual(1);
      expect(k.ops.slice(1).every((op) => opDef(op).kind === 'elementwise'), k.ops.join('→')).toBe(true);
      if (opDef(k.ops[0]).kind !== 'reduce') expect(reductions(k.expr)).toHaveLength(0);
    }
  });

  it.each(EXAMPLE_NAMES)('%s: a fused value has exactly one reader (the next member) and is no output', (name) => {
    const g = optimize(graphs.get(name)!);
    const { groups } = fuse(g);
    const users = consumers(graphNodes(g));
    const outputs = new Set(g.outputs.map((o) => o.node));
    for (const grp of groups) {
      expect(grp.members[grp.members.length - 1]).toBe(grp.root);
      for (let i = 0; i + 1 < grp.members.length; i++) {
        const m = grp.members[i];
        expect(users.get(m)).toEqual([grp.members[i + 1]]);
        expect(outputs.has(m)).toBe(false);
      }
    }
  });

  it.each(EXAMPLE_NAMES)('%s: every computed node is stored by one kernel or recomputed where it is read; sources and views in none', (name) => {
    const g = optimize(graphs.get(name)!);
    const { groups, views } = fuse(g);
    const users = consumers(graphNodes(g));
    const stored = new Map<unknown, number>();
    const recomputed = new Map<Node, FusedGroup[]>();
    for (const grp of groups) {
      for (const m of grp.members) stored.set(m, (stored.get(m) ?? 0) + 1);
      for (const m of grp.recomputed ?? []) recomputed.set(m, [...(recomputed.get(m) ?? []), grp]);
    }
    for (const n of graphNodes(g)) {
      const kind = opDef(n.op).kind;
      if (kind === 'source' || kind === 'view') {
        expect(stored.has(n) || recomputed.has(n), `%${n.id} ${n.op}`).toBe(false);
        continue;
      }
      const copies = recomputed.get(n);
      if (!copies) {
        expect(stored.get(n), `%${n.id} ${n.op}`).toBe(1);
        continue;
      }
      // Recomputed: cheap, elementwise, in at most two kernels, and stored by none.
      expect(stored.has(n), `%${n.id} ${n.op} both stored and recomputed`).toBe(false);
      expect(kind).toBe('elementwise');
      expect(copies.length).toBeLessThanOrEqual(2);
      // Everyone who reads it recomputes it (or belongs to what is recomputed with it).
      for (const r of users.get(n) ?? []) expect(copies.some((grp) => grp.members.includes(r) || grp.recomputed!.includes(r)), `reader %${r.id} ${r.op}`).toBe(true);
    }
    expect(views.every((v) => opDef(v.op).kind === 'view')).toBe(true);
  });
});

describe('fusion on hand-built graphs', () => {
  it('does not fuse a value read by two consumers into either', () => {
    const x = inputNode('x', ['N', 4]);
    const w = paramNode('w', [4, 4]);
    const m = makeNode('matmul', [x, w]);
    const g = graphOf([x], { a: makeNode('relu', [m]), b: makeNode('exp', [m]) });
    const { groups } = fuse(g);
    expect(groups.map((grp) => grp.members.map((n) => n.op))).toEqual([['matmul'], ['relu'], ['exp']]);
  });

  it('does not fuse past a graph output', () => {
    const x = inputNode('x', ['N', 4]);
    const w = paramNode('w', [4, 3]);
    const m = makeNode('matmul', [x, w]);
    const g = graphOf([x], { logits: m, act: makeNode('relu', [m]) });
    expect(fuse(g).groups.map((grp) => grp.members.map((n) => n.op))).toEqual([['matmul'], ['relu']]);
  });

  it('does not fuse an elementwise consumer whose shape differs (broadcast to a larger shape)', () => {
    const x = inputNode('x', ['N', 4]);
    const s = makeNode('reduceSum', [x], { axes: [1], keepdims: true }); // [N, 1]
    const y = makeNode('sub', [s, x]); // [N, 4]: reads s at a broadcast index, not its own
    const { groups } = fuse(graphOf([x], { y }));
    expect(groups.map((grp) => grp.members.map((n) => n.op))).toEqual([['reduceSum'], ['sub']]);
  });

  it('never joins two reductions: a reduction reading a reduction anchors its own kernel', () => {
    const x = inputNode('x', ['N', 4, 5]);
    const s1 = makeNode('reduceMax', [x], { axes: [2], keepdims: false }); // [N, 4]
    const s2 = makeNode('reduceSum', [makeNode('exp', [s1])], { axes: [1], keepdims: false }); // [N]
    const ks = compileGraph(graphOf([x], { y: makeNode('sqrt', [s2]) })).program.kernels;
    expect(ks.map((k) => k.ops)).toEqual([['reduceMax', 'exp'], ['reduceSum', 'sqrt']]);
    for (const k of ks) expect(reductions(k.expr)).toHaveLength(1);
  });

  it('fuses a long elementwise chain into one kernel', () => {
    const x = inputNode('x', ['N', 8]);
    let h = makeNode('neg', [x]);
    for (const op of ['exp', 'tanh', 'sigmoid', 'abs'] as const) h = makeNode(op, [h]);
    const ks = compileGraph(graphOf([x], { y: h })).program.kernels;
    expect(ks.map((k) => k.ops)).toEqual([['neg', 'exp', 'tanh', 'sigmoid', 'abs']]);
  });

  it('puts a node read by two single-reader producers into one kernel only, after both producers', () => {
    const x = inputNode('x', ['N', 4]);
    const y = makeNode('add', [makeNode('exp', [x]), makeNode('neg', [x])]);
    const g = graphOf([x], { y });
    const members = fuse(g).groups.flatMap((grp) => grp.members);
    expect(members.filter((n) => n === y)).toHaveLength(1);
    expectDependencyOrder(compileGraph(g).program.kernels);
  });
});

/** Every value a kernel reads is a leaf or was stored by an earlier kernel. */
function expectDependencyOrder(kernels: readonly Kernel[]): void {
  const stored = new Set<Node>();
  for (const k of kernels) {
    for (const r of k.reads) {
      const base = baseOf(r);
      if (opDef(base.op).kind !== 'source') expect(stored.has(base), `${k.name} reads %${base.id} (${base.op}) before it is stored`).toBe(true);
    }
    stored.add(k.writes);
  }
}

describe('kernel order', () => {
  it.each(EXAMPLE_NAMES)('%s: kernels run in dependency order', (name) => {
    expectDependencyOrder(kernelsOf(name));
  });

  it('a diamond of chains with shared inputs runs in dependency order', () => {
    const x = inputNode('x', ['N', 4]);
    const w = paramNode('w', [4, 4]);
    const a = makeNode('sigmoid', [makeNode('matmul', [x, w])]);
    const b = makeNode('tanh', [makeNode('matmul', [makeNode('exp', [x]), w])]);
    const c = makeNode('mul', [makeNode('add', [a, b]), makeNode('neg', [makeNode('matmul', [a, w])])]);
    expectDependencyOrder(compileGraph(graphOf([x], { c })).program.kernels);
  });
});
