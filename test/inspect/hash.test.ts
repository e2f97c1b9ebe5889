// Tests for graph hashes: stable across separate builds of a model, sensitive to any attribute change.
import { describe, expect, it, vi } from 'vitest';
import { graphHash } from '../../compiler/inspect/hash.ts';
import { makeNode, withInputs } from '../../src/ir/build.ts';
import { rewriteGraph, type Graph } from '../../src/ir/graph.ts';
import { graphFromJson, graphToJson } from '../../src/ir/json.ts';
import type { Node } from '../../src/ir/node.ts';

/** A fresh build of `examples/cnn.ts`: modules are reset so layer counters start again. */
async function freshCnn(): Promise<Graph> {
  vi.resetModules();
  return ((await import('../../examples/cnn.ts')) as { default: { graph: Graph } }).default.graph;
}

/** The graph with every node of `op` replaced through `f` (inputs rebuilt, types re-inferred). */
function editOp(g: Graph, op: string, f: (n: Node) => Node): Graph {
  return rewriteGraph(g, (n, rebuild) => {
    const m = withInputs(n, n.inputs.map(rebuild));
    return m.op === op ? f(m) : m;
  });
}

describe('graphHash', () => {
  it('is a sha256 hex digest, equal for two separate imports of a model', async () => {
    const first = await freshCnn();
    const second = await freshCnn();
    expect(second).not.toBe(first);
    expect(graphHash(first)).toMatch(/^[0-9a-f]{64}$/);
    expect(graphHash(second)).toBe(graphHash(first));
  });

  it('survives a JSON round trip and an identity rewrite', async () => {
    const g = await freshCnn();
    expect(graphHash(graphFromJson(JSON.parse(JSON.stringify(graphToJson(g)))))).toBe(graphHash(g));
    expect(graphHash(editOp(g, 'relu', (n) => n))).toBe(graphHash(g));
  });

  it('changes when an attribute changes', async () => {
    const g = await freshCnn();
    const base = graphHash(g);
    const axis = editOp(g, 'softmax', (n) => makeNode('softmax', n.inputs, { axis: 1 }, n.meta));
    const init = editOp(g, 'param', (n) => makeNode('param', [], { ...n.attrs, init: { kind: 'ones' } }, n.meta));
    const pool = editOp(g, 'maxPool2d', (n) => makeNode('maxPool2d', n.inputs, { ...n.attrs, countIncludePad: true }, n.meta));
    const hashes = [axis, init, pool].map(graphHash);
    expect(new Set([base, ...hashes]).size).toBe(4);
  });
});
