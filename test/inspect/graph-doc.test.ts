// Tests for the inspection document: nodes, kernels, layers, layout and the training step, against hand-known facts.
import { describe, expect, it } from 'vitest';
import { buildGraphDoc, GRAPH_DOC_VERSION } from '../../compiler/inspect/graph-doc.ts';
import { summarize } from '../../compiler/inspect/summary.ts';
import { loadExample, tinyGraph } from '../ir/fixtures.ts';

const adam = { loss: { kind: 'mse' as const }, optimizer: { kind: 'adam' as const, lr: 1e-3 } };

describe('buildGraphDoc', () => {
  it('describes relu(x·w + b) as one kernel over six nodes, with hand-counted figures', () => {
    const doc = buildGraphDoc(tinyGraph());
    expect(doc.version).toBe(GRAPH_DOC_VERSION);
    expect(doc.model).toBe('tiny');
    expect(doc.stage).toBe('optimized');
    expect(doc.nodes.map((n) => n.op).sort()).toEqual(['add', 'input', 'matmul', 'param', 'param', 'relu']);
    // One fused kernel: matmul → add → relu.
    expect(doc.kernels).toHaveLength(1);
    expect(doc.kernels[0].ops).toEqual(['matmul', 'add', 'relu']);
    // FLOPs per sample: matmul 2·4·3, bias add 3, relu 3.
    expect(doc.kernels[0].flops).toBe(24 + 3 + 3);
    const byOp = (op: string) => doc.nodes.find((n) => n.op === op)!;
    for (const op of ['matmul', 'add', 'relu']) expect(byOp(op).kernel).toBe(doc.kernels[0].name);
    expect(byOp('input').kernel).toBeUndefined();
    expect(byOp('relu').source).toBe('model.ts:3');
    expect(byOp('relu').bytes).toBe(3 * 4);
    expect(doc.kernels[0].writes).toBe(byOp('relu').id);
    // Node ids are topological: every input comes earlier.
    for (const n of doc.nodes) for (const i of n.inputs) expect(i).toBeLessThan(n.id);
    // Memory: the kernel's f32[N,3] result is alive at its one kernel; 12 weights + 3 biases.
    expect(doc.memory.perKernel).toEqual([{ kernel: doc.kernels[0].name, bytesPerSample: 12, fixedBytes: 0 }]);
    expect(doc.memory.parameterBytes).toBe((12 + 3) * 4);
    expect(doc.memory.peak).toEqual({ kernel: doc.kernels[0].name, bytes: 12 * 64 });
    expect(doc.training).toBeUndefined();
  });

  it('lists the stage asked for: as built, or after a pass; refuses an unknown pass', () => {
    const g = tinyGraph();
    expect(buildGraphDoc(g, { after: 'input' }).stage).toBe('input');
    expect(buildGraphDoc(g, { after: 'cse' }).nodes).toHaveLength(6);
    expect(() => buildGraphDoc(g, { after: 'nope' })).toThrow(/unknown pass 'nope'/);
  });

  it('gives the layers as kiln summary lists them', async () => {
    const g = await loadExample('mlp');
    const doc = buildGraphDoc(g);
    const s = summarize(g);
    expect(doc.layers).toEqual(s.layers);
    expect(doc.totals.params).toBe(55_050);
  });

  it('shows a channels-last model in NHWC beside Kiln\'s NCHW', async () => {
    const doc = buildGraphDoc(await loadExample('cnn'));
    expect(doc.layout).toBe('channels-last');
    const conv = doc.nodes.find((n) => n.op === 'conv2d')!;
    expect(conv.shape).toEqual(['N', 32, 26, 26]);
    expect(conv.userShape).toEqual(['N', 26, 26, 32]);
    // The input was declared [28, 28, 1]: it is already in the user's order.
    const input = doc.nodes.find((n) => n.op === 'input')!;
    expect(input.shape).toEqual(['N', 28, 28, 1]);
    expect(input.userShape).toBeUndefined();
  });

  it('with training: forward, backward and optimizer nodes, Adam\'s two state tensors per parameter, sources on request', () => {
    const doc = buildGraphDoc(tinyGraph(), { training: adam, sources: true });
    const t = doc.training!;
    expect(t.optimizer).toBe('adam');
    // Adam keeps m and v for each of the two parameters: 12 + 3 elements each.
    expect(t.state.map((s) => s.bytes).sort((a, b) => a - b)).toEqual([12, 12, 48, 48]);
    const phases = new Set(t.nodes.map((n) => n.phase));
    expect(phases).toEqual(new Set(['forward', 'backward', 'optimizer']));
    expect(t.nodes.find((n) => n.op === 'matmul' && n.phase === 'forward')).toBeDefined();
    expect(t.memory.perKernel).toHaveLength(t.kernels.length);
    expect(doc.kernels[0].source?.js).toMatch(/^function k0\(/m);
    expect(doc.kernels[0].source?.gpujs).toContain('function');
  });
});

describe('buildGraphDoc kernels', () => {
  it('puts every computed node of the optimized graph in a kernel (softmax decomposed: max, sum, div)', async () => {
    const doc = buildGraphDoc(await loadExample('mlp'));
    const computed = doc.nodes.filter((n) => !['input', 'param', 'const'].includes(n.op));
    for (const n of computed) expect(n.kernel, `%${n.id} ${n.op}`).toBeDefined();
    expect(new Set(computed.map((n) => n.kernel)).size).toBe(doc.kernels.length);
  });

  it('gives each kernel the WebAssembly the module runs: the inference Model reads a packed copy of a large weight, the training step packs per call', async () => {
    const doc = buildGraphDoc(await loadExample('cnn'), { sources: true, training: adam });
    // The first dense layer (5408 × 128, 2.8 MB: matmul → add → relu) is blocked: two functions,
    // the tiles and `<kernel>_blocked`. (Layer names are numbered per process: found by ops.)
    const dense = (kernels: typeof doc.kernels) => kernels.find((k) => k.phase === 'forward' && k.ops.join() === 'matmul,add,relu')!;
    const model = dense(doc.kernels).source!.wasm!;
    const step = dense(doc.training!.kernels).source!.wasm!;
    expect(model).toMatch(/of its copy packed once per weight set/);
    expect(step).toMatch(/of the packed operand/);
    for (const wasm of [model, step]) expect(wasm).toMatch(/_blocked: \S+ for calls of 16 rows or more\./);
  });
});
