// Tests for kiln diff: two small models (a residual block, and the same block twice as wide), one
// model at two stages (softmax decomposed), and a model against itself; text and --json as processes.
import { describe, expect, it } from 'vitest';
import { buildGraphDoc } from '../../compiler/inspect/graph-doc.ts';
import { diffDocs, formatDiff } from '../../compiler/inspect/diff.ts';
import { loadModel } from '../../cli/load.ts';
import { kiln, showRun } from '../e2e/helpers.ts';

const NARROW = 'test/inspect/fixtures/residual.ts';
const WIDE = 'test/inspect/fixtures/residual-wide.ts';

describe('diffDocs', () => {
  it('a wider block: shapes, parameters and kernels change, nothing is added or removed', async () => {
    const a = buildGraphDoc((await loadModel(NARROW)).graph);
    const b = buildGraphDoc((await loadModel(WIDE)).graph);
    const d = diffDocs(a, b);
    expect(d.same).toBe(false);
    expect(d.nodes.added).toEqual([]);
    expect(d.nodes.removed).toEqual([]);
    // Hand counts: stem 8·16+16 → 8·32+32, body 16·16+16 → 32·32+32, head 16·4+4 → 32·4+4.
    expect(d.totals.params).toEqual([144 + 272 + 68, 288 + 1056 + 132]);
    expect(d.layers.changed.find((l) => l.name === 'body')!.changes).toEqual(['output [N,16] → [N,32]', 'params 272 → 1,056', 'FLOPs 544 → 2,112']);
    expect(d.nodes.changed.find((n) => n.key === 'skip/add#0')!.changes).toEqual(['shape [N,16] → [N,32]']);
    expect(d.kernels.removed).toContain('matmul → add → relu -> float32[N,16] @ stem');
    expect(d.kernels.added).toContain('matmul → add → relu -> float32[N,32] @ stem');
    // The head's result keeps its shape [N,4]: its kernel is in both.
    expect(d.kernels.added.some((k) => k.includes('@ head'))).toBe(false);
  });

  it('one model after two passes: decompose replaces softmax by max, sub, exp, sum and div', async () => {
    const g = (await loadModel('examples/mlp.ts')).graph;
    const d = diffDocs(buildGraphDoc(g, { after: 'input' }), buildGraphDoc(g, { after: 'decompose' }));
    expect(d.nodes.removed.map((n) => n.op)).toEqual(['softmax']);
    expect(d.nodes.added.map((n) => n.op).sort()).toEqual(['div', 'exp', 'reduceMax', 'reduceSum', 'sub']);
    expect(d.layers.changed).toEqual([]);
  });

  it('a model against itself has no differences', async () => {
    const doc = buildGraphDoc((await loadModel(NARROW)).graph);
    const d = diffDocs(doc, doc);
    expect(d.same).toBe(true);
    expect(formatDiff(d)).toBe('diff residual (optimized) → residual (optimized): no differences');
  });
});

describe('kiln diff as a process', () => {
  it('prints text and --json, and refuses one model without two stages', async () => {
    const [text, json, bad] = await Promise.all([kiln('diff', NARROW, WIDE), kiln('diff', NARROW, WIDE, '--json'), kiln('diff', NARROW)]);
    expect(text.status, showRun(text)).toBe(0);
    expect(text.stdout).toContain('parameters 484 → 1,476');
    expect(text.stdout).toContain('~ layer stem: output [N,16] → [N,32]; params 144 → 288');
    expect(json.status, showRun(json)).toBe(0);
    expect(JSON.parse(json.stdout).totals.params).toEqual([484, 1476]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/needs two models, or one model and two stages/);
  });
});
