// Scans in the inspection document: a scan's `body` attribute is a summary (node and op counts,
// inputs, outputs) instead of the body's node tree, and each body is listed once as a graph of
// its own ("loop"), with the kernels the program runs for it each step; nested scans too.
import { describe, expect, it } from 'vitest';
import { inspectCommand } from '../../cli/inspect.ts';
import { buildGraphDoc, type DocGraph, type GraphDoc } from '../../compiler/inspect/graph-doc.ts';
import { renderText } from '../../compiler/inspect/render-text.ts';
import { STEPS } from '../../examples/lstm-adding.ts';
import { loadExampleGraph } from '../e2e/helpers.ts';
import { nestedScan } from '../ir/scan-fixtures.ts';
import path from 'node:path';
import { ROOT } from '../e2e/helpers.ts';

const H = 32;

/** Every loop's node ids, kernels and their reads/writes agree within the loop's own numbering. */
function expectLoopsConsistent(g: DocGraph) {
  for (const l of g.loops ?? []) {
    expect(l.nodes.map((n) => n.id)).toEqual(l.nodes.map((_, i) => i));
    const owner = l.parent === null ? g.nodes : g.loops![l.parent].nodes;
    expect(owner[l.node].op).toBe('scan');
    expect((owner[l.node].attrs.body as { loop: number }).loop).toBe(l.id);
    expect((owner[l.node].attrs.body as { nodes: number }).nodes).toBe(l.nodes.length);
    for (const k of g.kernels.filter((x) => x.loop === l.id)) {
      expect(k.writes, k.name).not.toBeNull();
      expect(l.nodes[k.writes!].kernel).toBe(k.name);
      for (const r of k.reads) expect(r === null ? null : l.nodes[r].id, k.name).not.toBeNull();
    }
  }
}

describe('scans in the inspection document', () => {
  it("lstm-adding: the scan's body is an LSTM step's summary, and its own graph with the per-step kernels", async () => {
    const doc = buildGraphDoc(await loadExampleGraph('lstm-adding'));
    const scan = doc.nodes.find((n) => n.op === 'scan')!;
    const body = scan.attrs.body as { loop: number; nodes: number; ops: Record<string, number>; inputs: { name: string; shape: unknown[] }[]; outputs: { shape: unknown[] }[] };
    // An LSTM step: one product [x_t | h]·[W; U] (inference sinks the input projection into the
    // step: compiler/passes/sink-projection.ts), three sigmoid gates (i, f, o), tanh of the candidate and of c.
    expect(body.ops.matmul).toBe(1);
    expect(body.ops.sigmoid).toBe(3);
    expect(body.ops.tanh).toBe(2);
    // carry [h | c], the step's input x_t (2 features), [W; U] and the bias as invariants; the new carry out.
    expect(body.inputs.map((i) => i.shape)).toEqual([['N', 2 * H], ['N', 2], [2 + H, 4 * H], [4 * H]]);
    expect(body.outputs.map((o) => o.shape)).toEqual([['N', 2 * H]]);
    expect(scan.attrs.steps).toBe(STEPS);
    expect(doc.loops).toHaveLength(1);
    const loop = doc.loops![0];
    // Only the final step is read (the layer returns its last state): the optimized scan keeps the final carry alone (compiler/passes/final-step.ts).
    expect([loop.parent, loop.steps, loop.reverse, loop.stack]).toEqual([null, STEPS, false, false]);
    expect(Object.values(body.ops).reduce((s, c) => s + c, 0)).toBe(loop.nodes.length);
    const bodyKernels = doc.kernels.filter((k) => k.loop === 0);
    expect(bodyKernels.some((k) => k.ops[0] === 'matmul')).toBe(true);
    // A top-level kernel has no loop; every kernel is one or the other.
    expect(doc.kernels.filter((k) => k.loop === undefined).every((k) => k.writes !== null)).toBe(true);
    expectLoopsConsistent(doc);
    const text = renderText(doc);
    expect(text).toContain(`scan[body=<loop 0: ${loop.nodes.length} nodes> steps=${STEPS}`);
    expect(text).toContain(`loop 0: body of scan %${scan.id} (${STEPS} steps) {`);
  });

  it('lstm-adding --train as JSON: small (the body was dumped as a node tree, 3.4 MB), with the three loops of the step', async () => {
    const json = await inspectCommand(path.join(ROOT, 'examples', 'lstm-adding.ts'), { format: 'json', train: true });
    expect(json.length).toBeLessThan(1_000_000);
    const doc = JSON.parse(json) as GraphDoc;
    const t = doc.training!;
    expect(t.loops!.map((l) => [l.steps, l.reverse, l.stack])).toEqual([
      [STEPS, false, true], // the forward LSTM
      [STEPS, true, true], // BPTT: cotangents of carries and inputs, backwards in time
      [STEPS, true, false], // BPTT: the weights' gradient summed over steps
    ]);
    expectLoopsConsistent(t);
    expect(t.kernels.filter((k) => k.loop !== undefined).every((k) => k.phase === (k.loop === 0 ? 'forward' : 'backward'))).toBe(true);
  });

  it('a scan nested in a body: a loop of its own whose parent is the outer loop, compiled or as built', () => {
    const T = 3;
    const { graph } = nestedScan(T, H);
    for (const after of [undefined, 'input']) {
      const doc = buildGraphDoc(graph, { after });
      expect(doc.loops!.map((l) => [l.id, l.parent, l.steps])).toEqual([[0, null, T], [1, 0, 2]]);
      expect(doc.loops![1].nodes.filter((n) => n.op === 'reduceSum')).toHaveLength(1);
      expectLoopsConsistent(doc);
      if (after === undefined) expect([...new Set(doc.kernels.map((k) => k.loop))].sort()).toEqual([0, 1]);
    }
  });
});
