// ONNX RNN/LSTM/GRU import as one scan per direction (src/onnx/rnn.ts, src/ir/recurrent.ts):
// the graph and the compiled module do not grow with the sequence length; every attribute the
// importer takes (layouts, directions, initial states, peepholes, clip, activations,
// linear_before_reset, outputs read in part) computes what onnxruntime-node computes on the same
// file; and an imported node exports back as the same ONNX node (the scan's `cell` attribute).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../cli/conformance/run.ts';
import { checkGraph } from '../../compiler/check/check.ts';
import { compileModel } from '../../compiler/compile.ts';
import { graphNodes, type Graph } from '../../src/ir/graph.ts';
import { DEFAULT_LIMITS, LimitError, withLimits } from '../../src/ir/limits.ts';
import { importOnnxBatched } from '../../src/onnx/batch.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { thrown } from '../ops/harness.ts';
import { fromLayout0, refFeeds, rnnFeeds, rnnModel, type Feed, type RnnOutput, type RnnSpec } from './rnn-models.ts';
import { loadOrt, nodeTypes, runOrt } from './scan-helpers.ts';

const ort = await loadOrt();
if (!ort) console.warn('onnxruntime-node cannot load here: the onnxruntime checks are skipped');

const scans = (g: Graph) => graphNodes(g).filter((n) => n.op === 'scan');
const plain = (feeds: Record<string, Feed>) => Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.data]));

/** Compiles `graph` and loads its module: the compiled JS and a model ready to run. */
async function compiled(graph: Graph, name: string, initialWeights?: Record<string, Float32Array>) {
  const c = compileModel(graph, { initialWeights });
  const dir = path.join(REPO_ROOT, 'test', '.out', 'rnn-scan-import', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.js'), c.js);
  const mod = await import(/* @vite-ignore */ pathToFileURL(path.join(dir, 'model.js')).href);
  return { js: c.js, model: mod.createModel(c.weights) as { run(feeds: Record<string, Float32Array>, batch: number): Record<string, Float32Array> } };
}

/** What onnxruntime computes for a spec: its layout-0 twin, outputs in the spec's layout. */
async function reference(s: RnnSpec, feeds: Record<string, Feed>): Promise<Record<string, Float32Array>> {
  const out = await runOrt(ort!, rnnModel(s, 0), refFeeds(s, feeds));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, fromLayout0(s, k as RnnOutput, v)]));
}

const TOL = { rtol: 1e-4, atol: 1e-5 };

describe('an imported LSTM over 200 steps against 20 steps', () => {
  const spec = (steps: number): RnnSpec => ({ kind: 'LSTM', steps, batch: 2, input: 3, hidden: 16, layout: 1, seed: 5 });

  it('one scan and the same nodes whatever the steps; the module at most 1.5x the size; onnxruntime values at 200 steps', async () => {
    const [short, long] = [importOnnxBatched(rnnModel(spec(20))), importOnnxBatched(rnnModel(spec(200)))];
    expect(scans(short)).toHaveLength(1);
    expect(scans(long)).toHaveLength(1);
    expect(graphNodes(long).length).toBe(graphNodes(short).length);
    const [a, b] = [await compiled(short, 'lstm20'), await compiled(long, 'lstm200')];
    expect(b.js.length / a.js.length, `${b.js.length} against ${a.js.length} bytes`).toBeLessThanOrEqual(1.5);
    if (!ort) return;
    const feeds = rnnFeeds(spec(200));
    const got = b.model.run(plain(feeds), 2);
    const want = await reference(spec(200), feeds);
    for (const k of ['Y', 'Y_h', 'Y_c']) expect(got[k], k).toBeAllclose(want[k], TOL);
  }, 120_000);
});

/** Every attribute the importer takes, in the combinations worth telling apart. */
const CASES: [string, RnnSpec][] = [
  ['LSTM, defaults, sequence-first (per sample)', { kind: 'LSTM', steps: 7, batch: 3, input: 4, hidden: 5 }],
  ['LSTM, bidirectional, batch-first, h0/c0, peepholes', { kind: 'LSTM', steps: 6, batch: 2, input: 3, hidden: 4, layout: 1, direction: 'bidirectional', initial: true, peepholes: true }],
  ['LSTM, reverse, clip, activations, no bias', { kind: 'LSTM', steps: 5, batch: 2, input: 3, hidden: 4, direction: 'reverse', clip: 0.7, bias: false, activations: ['Sigmoid', 'Relu', 'Tanh'] }],
  ['LSTM, Y_h only', { kind: 'LSTM', steps: 6, batch: 2, input: 3, hidden: 4, layout: 1, outputs: ['Y_h'] }],
  ['LSTM, Y_c only, bidirectional', { kind: 'LSTM', steps: 6, batch: 2, input: 3, hidden: 4, direction: 'bidirectional', outputs: ['Y_c'], fixedBatch: true }],
  ['GRU, linear_before_reset, bidirectional, h0', { kind: 'GRU', steps: 6, batch: 3, input: 2, hidden: 4, direction: 'bidirectional', initial: true, linearBeforeReset: true }],
  ['GRU, reset before the product, batch-first, reverse, activations', { kind: 'GRU', steps: 5, batch: 2, input: 3, hidden: 3, layout: 1, direction: 'reverse', activations: ['Sigmoid', 'Relu'] }],
  ['GRU, one step, clip', { kind: 'GRU', steps: 1, batch: 2, input: 3, hidden: 4, layout: 1, clip: 0.5, initial: true }],
  ['RNN, bidirectional, batch-first, h0, Relu/Tanh', { kind: 'RNN', steps: 6, batch: 2, input: 3, hidden: 4, layout: 1, direction: 'bidirectional', initial: true, activations: ['Relu', 'Tanh'] }],
  ['RNN, defaults, Y_h only', { kind: 'RNN', steps: 4, batch: 2, input: 2, hidden: 3, outputs: ['Y_h'], fixedBatch: true }],
];

describe.each(CASES)('%s', (name, s) => {
  const feeds = rnnFeeds(s);
  const directions = s.direction === 'bidirectional' ? 2 : 1;

  it('imports as one scan per direction and its module computes what onnxruntime does', async () => {
    const g = importOnnxBatched(rnnModel(s));
    expect(scans(g)).toHaveLength(directions);
    // The cell is not unrolled: no node of the graph outside the scans is a recurrent product.
    expect(graphNodes(g).filter((n) => n.op === 'matmul')).toHaveLength(directions);
    const m = await compiled(g, name.replace(/[^a-z0-9]+/gi, '-'));
    const got = m.model.run(plain(feeds), s.batch);
    if (!ort) return;
    const want = await reference(s, feeds);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) expect(got[k], k).toBeAllclose(want[k], TOL);
  }, 60_000);

  it('exports back as the same ONNX node (one per direction when given initial states), no Scan, with the same outputs in onnxruntime', async () => {
    const weightsOut: Record<string, Float32Array> = {};
    const inputShapes = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims]));
    const g = importOnnx(rnnModel(s), { inputShapes, weightsOut });
    const bytes = exportOnnx(g, weightsOut);
    const types = nodeTypes(bytes);
    // The exporter pairs two directions into one bidirectional node only when both start from
    // zero (export-cell-plan.ts): with given initial states each direction is a node of its own.
    const nodes = directions === 2 && s.initial ? 2 : 1;
    expect(types.filter((t) => t === s.kind)).toHaveLength(nodes);
    expect(types).not.toContain('Scan');
    if (!ort) return;
    const [got, want] = [await runOrt(ort, bytes, feeds), await reference(s, feeds)];
    for (const k of Object.keys(want)) expect(got[k], k).toBeAllclose(want[k], TOL);
  }, 60_000);
});

describe('real PyTorch exports (fixtures/make-pytorch-rnn.py) round trip', () => {
  it.each([
    ['torch-lstm-seq-first', 'LSTM'],
    ['torch-gru-batch-first', 'GRU'],
  ])('%s: import -> export is one %s node whose onnxruntime outputs are PyTorch\'s', async (stem, kind) => {
    const bytes = new Uint8Array(readFileSync(new URL(`./fixtures/${stem}.onnx`, import.meta.url)));
    const expected = JSON.parse(readFileSync(new URL(`./fixtures/${stem}.json`, import.meta.url), 'utf8')) as { x: number[]; xShape: number[]; y: number[]; h: number[] };
    const weightsOut: Record<string, Float32Array> = {};
    const g = importOnnxBatched(bytes, { inputShapes: { x: expected.xShape }, weightsOut });
    expect(scans(g).map((n) => (n.attrs.cell as { kind: string }).kind)).toEqual([kind.toLowerCase()]);
    const out = exportOnnx(g, weightsOut);
    expect(nodeTypes(out).filter((t) => t === kind)).toHaveLength(1);
    expect(nodeTypes(out)).not.toContain('Scan');
    if (!ort) return;
    const got = await runOrt(ort, out, { x: { data: Float32Array.from(expected.x), dims: expected.xShape } });
    expect(got.y).toBeAllclose(expected.y, TOL);
    expect(got.h).toBeAllclose(expected.h, TOL);
  }, 60_000);
});

describe('limits, now that the steps are a loop', () => {
  const tiny = (steps: number): RnnSpec => ({ kind: 'LSTM', steps, batch: 1, fixedBatch: true, input: 1, hidden: 1 });

  it('a tiny LSTM over 100,000 steps imports as one scan of the 20-step graph\'s size', () => {
    const [short, long] = [importOnnx(rnnModel(tiny(20))), importOnnx(rnnModel(tiny(100_000)))];
    expect(scans(long)).toHaveLength(1);
    expect(graphNodes(long).length).toBe(graphNodes(short).length);
  });

  it('its work is the body\'s times the steps, refused by the work limit at check', () => {
    const g = importOnnx(rnnModel(tiny(100_000)));
    expect(checkGraph(g)).toBeTruthy();
    const e = thrown(() => checkGraph(g, { ...DEFAULT_LIMITS, maxFlops: 1e6 }));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toMatch(/FLOPs per sample/);
  });

  it('states of every step over the memory limit are refused at import, naming the node and the figure', () => {
    const e = thrown(() => withLimits({ maxMemory: 100_000 }, () => importOnnx(rnnModel(tiny(100_000)))));
    expect(e).toBeInstanceOf(LimitError);
    expect(e.message).toContain('node "rnn"');
    expect(e.message).toContain('over the 97.7 KiB limit');
  });
});
