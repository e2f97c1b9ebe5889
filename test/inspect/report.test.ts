// The HTML inspection report (cli/report/): written for the CNN with its training step, a model
// with hostile names and a PyTorch-style ONNX graph, opened offline in headless Chromium through
// Playwright (Debian's chromium, as the browser suite does; skipped with a message without it).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, findChromium } from '../../cli/browser/chromium.ts';
import { loadModel } from '../../cli/load.ts';
import { renderReport, writeReport } from '../../cli/report/html.ts';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { buildGraphDoc, type GraphDoc } from '../../compiler/inspect/graph-doc.ts';
import { dense, input, model, relu } from '../../src/index.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { freshOutDir, kiln, loadExampleGraph, ROOT, showRun } from '../e2e/helpers.ts';
import { profileCommand } from '../../cli/profile.ts';
import type { ProfileReport } from '../../compiler/inspect/profile.ts';

const CHROMIUM = findChromium();
if (!CHROMIUM) {
  console.warn('[report browser tests skipped] no Chromium: install Debian packages `chromium libegl-mesa0 libgl1-mesa-dri libgbm1` or point KILN_CHROMIUM at a Chromium binary.');
}

const HOSTILE_LAYER = '</script><script>window.__pwned=1</script>';

/** A model whose names try to break out of the page's script and markup. */
function hostileGraph() {
  const x = input([4], { name: '<img src=x onerror="window.__pwned=2">' });
  const h = relu(dense(x, 3, { name: HOSTILE_LAYER }));
  return model({ name: '</title><script>window.__pwned=3</script>', inputs: x, outputs: { 'y</script>': h } }).graph;
}

/**
 * What torch.onnx.export writes for a small CNN (names as PyTorch gives them): Conv → Relu →
 * MaxPool, `x.view(x.size(0), -1)` as Shape → Gather → Unsqueeze → Concat → Reshape, then Linear as Gemm(transB).
 */
function pytorchStyleOnnx(): { bytes: Uint8Array; names: string[] } {
  const T = onnx.TensorProto.DataType;
  const A = onnx.AttributeProto.AttributeType;
  const sym = (name: string, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } });
  const ints = (name: string, v: number[]) => ({ name, type: A.INTS, ints: v });
  const int = (name: string, v: number) => ({ name, type: A.INT, i: v });
  const floats = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * seed) / 8);
  const nodes = [
    { name: '/conv1/Conv', opType: 'Conv', input: ['input', 'conv1.weight', 'conv1.bias'], output: ['/conv1/Conv_output_0'], attribute: [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])] },
    { name: '/Relu', opType: 'Relu', input: ['/conv1/Conv_output_0'], output: ['/Relu_output_0'] },
    { name: '/pool/MaxPool', opType: 'MaxPool', input: ['/Relu_output_0'], output: ['/pool/MaxPool_output_0'], attribute: [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])] },
    { name: '/Shape', opType: 'Shape', input: ['/pool/MaxPool_output_0'], output: ['/Shape_output_0'] },
    { name: '/Gather', opType: 'Gather', input: ['/Shape_output_0', '/Constant_output_0'], output: ['/Gather_output_0'], attribute: [int('axis', 0)] },
    { name: '/Unsqueeze', opType: 'Unsqueeze', input: ['/Gather_output_0', 'axes'], output: ['/Unsqueeze_output_0'] },
    { name: '/Concat', opType: 'Concat', input: ['/Unsqueeze_output_0', 'minus_one'], output: ['/Concat_output_0'], attribute: [int('axis', 0)] },
    { name: '/Reshape', opType: 'Reshape', input: ['/pool/MaxPool_output_0', '/Concat_output_0'], output: ['/Reshape_output_0'] },
    { name: '/fc/Gemm', opType: 'Gemm', input: ['/Reshape_output_0', 'fc.weight', 'fc.bias'], output: ['logits'], attribute: [int('transB', 1)] },
  ];
  const int64 = (name: string, values: number[], dims = [values.length]) => ({ name, dataType: T.INT64, dims, int64Data: values });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      producerName: 'pytorch',
      opsetImport: [{ version: 17 }],
      graph: {
        name: 'main_graph',
        input: [sym('input', ['batch_size', 1, 8, 8])],
        output: [sym('logits', ['batch_size', 5])],
        initializer: [
          { name: 'conv1.weight', dataType: T.FLOAT, dims: [4, 1, 3, 3], floatData: floats(36, 1) },
          { name: 'conv1.bias', dataType: T.FLOAT, dims: [4], floatData: floats(4, 2) },
          { name: 'fc.weight', dataType: T.FLOAT, dims: [5, 64], floatData: floats(320, 3) },
          { name: 'fc.bias', dataType: T.FLOAT, dims: [5], floatData: floats(5, 4) },
          int64('/Constant_output_0', [0], []),
          int64('axes', [0]),
          int64('minus_one', [-1]),
        ],
        node: nodes,
      },
    }),
  ).finish();
  return { bytes, names: nodes.map((n) => n.name) };
}

/**
 * The nodes of a real ONNX file that compute on its input's values, read straight from the file:
 * a node is one if it reads the graph input or another such node's output, except through Shape
 * (whose result is the input's size, which Kiln folds into constants at import, with the
 * Constant/Gather/Concat/ConstantOfShape nodes that only compute sizes).
 */
function dataNodes(bytes: Uint8Array): { names: string[]; all: string[] } {
  const g = onnx.ModelProto.decode(bytes).graph!;
  const carrying = new Set(g.input!.map((i) => i.name!));
  const names: string[] = [];
  for (const n of g.node!) {
    if (n.opType === 'Shape' || !n.input!.some((i) => carrying.has(i))) continue;
    names.push(n.name!);
    for (const o of n.output!) carrying.add(o);
  }
  return { names, all: g.node!.map((n) => n.name!) };
}

describe('the report page as text', () => {
  it('embeds hostile names only as escaped data: three script elements, no markup from the model, nothing loaded from outside', async () => {
    const html = renderReport(buildGraphDoc(hostileGraph(), { sources: true }));
    expect(html.match(/<script/gi)).toHaveLength(3);
    expect(html.match(/<\/script/gi)).toHaveLength(3);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<(link|iframe|img)\b|\bsrc\s*=\s*["']?https?:/i);
    expect(html).toContain('<title>Kiln report: &#60;/title&#62;');
    // The embedded document parses back to the names as given.
    const json = html.match(/<script type="application\/json" id="kiln-data">(.*)<\/script>/)![1];
    const data = JSON.parse(json) as { doc: GraphDoc };
    expect(data.doc.layers.map((l) => l.name)).toContain(HOSTILE_LAYER);
  });
});

describe('kiln inspect on real torch.onnx.export files (test/onnx/fixtures, PyTorch 1.13)', () => {
  // The recurrent exports move the batch inside the graph (a transpose, a seq-first input), so
  // they get a fixed size; the CNN keeps its symbolic batch.
  it.each([
    { stem: 'torch-gru-batch-first', shape: ['--input-shape', 'x=2,5,3'], outputs: ['y', 'h'] },
    { stem: 'torch-lstm-seq-first', shape: ['--input-shape', 'x=5,2,3'], outputs: ['y', 'h'] },
    { stem: 'torch-cnn', shape: [], outputs: ['y'] },
  ])('$stem: every node that computes on the input is a layer of the report, named as in the file', async ({ stem, shape, outputs }) => {
    const onnxFile = path.join(ROOT, 'test', 'onnx', 'fixtures', `${stem}.onnx`);
    const { names, all } = dataNodes(new Uint8Array(readFileSync(onnxFile)));
    expect(names.length).toBeGreaterThanOrEqual(2);
    const r = await kiln('inspect', onnxFile, ...shape, '--after', 'input', '--format', 'json');
    expect(r.status, showRun(r)).toBe(0);
    const doc = JSON.parse(r.stdout) as GraphDoc;
    const layers = new Set(doc.layers.map((l) => l.name));
    for (const name of names) expect(layers.has(name), name).toBe(true);
    // Nothing else: every layer is a node of the file (or an input/initializer it names).
    const known = new Set([...all, ...doc.inputs.map((i) => i.name)]);
    expect(doc.layers.filter((l) => l.kind !== 'Initializer' && !known.has(l.name))).toEqual([]);
    expect(doc.outputs.map((o) => o.name)).toEqual(outputs);
  });

  it("torch-cnn (fixtures/make-pytorch-cnn.py): the layers of a Conv-ReLU-MaxPool-view-Linear export, and PyTorch's output from the compiled model", async () => {
    const onnxFile = path.join(ROOT, 'test', 'onnx', 'fixtures', 'torch-cnn.onnx');
    const expected = JSON.parse(readFileSync(path.join(ROOT, 'test', 'onnx', 'fixtures', 'torch-cnn.json'), 'utf8')) as { x: number[]; y: number[] };
    expect(dataNodes(new Uint8Array(readFileSync(onnxFile))).names).toEqual(['/conv1/Conv', '/Relu', '/pool/MaxPool', '/Reshape', '/fc/Gemm']);
    const { graph, weights } = await loadModel(onnxFile);
    const c = compileModel(graph, { initialWeights: weights });
    const file = path.join(freshOutDir('inspect-torch-cnn'), 'cnn.mjs');
    writeFileSync(file, c.js);
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { createModel(w: Uint8Array): { predict(x: Float32Array, b: number): Float32Array } };
    const y = mod.createModel(c.weights).predict(Float32Array.from(expected.x), 2);
    expect(y.length).toBe(expected.y.length);
    y.forEach((v, i) => expect(v).toBeCloseTo(expected.y[i], 5));
  });
});

describe.skipIf(!CHROMIUM)('the HTML report in headless Chromium', () => {
  let browser: Browser;
  const out = freshOutDir('inspect-report');

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a report file; collects console errors, page errors and any request that is not the file itself. */
  async function open(file: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const url = pathToFileURL(file).href;
    page.on('request', (r) => {
      if (r.url() !== url && !r.url().startsWith('data:')) problems.push(`request: ${r.url()}`);
    });
    await page.goto(url);
    return { page, problems };
  }

  it('CNN with its training step: graphs drawn, a node clicked shows its details and kernel source, search, memory plan, screenshot', async () => {
    const graph = await loadExampleGraph('cnn');
    const doc = buildGraphDoc(graph, { sources: true, training: { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) } });
    const file = path.join(out, 'cnn.html');
    writeReport(file, doc);
    const { page, problems } = await open(file);
    // Collapsed: one box per layer, one per node outside any layer.
    const units = new Set(doc.nodes.map((n) => n.layer ?? `%${n.id}`));
    expect(await page.locator('#forward g.node').count()).toBe(units.size);
    expect(await page.locator('#forward path.edge').count()).toBeGreaterThan(0);
    expect(await page.locator('#training g.node.phase-backward').count()).toBeGreaterThan(0);
    expect(await page.locator('#training g.node.phase-optimizer').count()).toBeGreaterThan(0);
    await page.click('#forward .expand-all');
    expect(await page.locator('#forward g.node').count()).toBe(doc.nodes.length);

    const conv = doc.nodes.find((n) => n.op === 'conv2d')!;
    await page.locator(`#forward g.node[data-key="n${conv.id}"]`).click();
    const details = page.locator('#details');
    const text = await details.innerText();
    expect(text).toContain('conv2d_1');
    expect(text).toContain('[N, 26, 26, 32]');
    expect(text).toMatch(/examples\/cnn\.ts:\d+/);
    expect(text).toContain('389,376'); // 2 · 26·26·32 · 3·3·1 FLOPs per sample
    expect(text).toContain(`Fusion group ${conv.kernel}`);
    const kernel = doc.kernels.find((k) => k.name === conv.kernel)!;
    expect(await page.locator('#details pre.source').textContent()).toBe(kernel.source!.js);
    await page.locator('#details .tab', { hasText: 'GPU.js' }).click();
    expect(await page.locator('#details pre.source').textContent()).toBe(kernel.source!.gpujs);
    if (kernel.source!.wasm) {
      await page.locator('#details .tab', { hasText: 'WebAssembly' }).click();
      expect(await page.locator('#details pre.source').textContent()).toBe(kernel.source!.wasm);
    }

    await page.fill('#search', 'dense_2');
    expect(await page.locator('#search-count').textContent()).toMatch(/^[1-9]\d* found$/);
    const matches = await page.locator('#forward g.node.match').count();
    expect(matches).toBe(doc.nodes.filter((n) => n.layer === 'dense_2').length);
    expect(await page.locator('#forward g.node.dim').count()).toBe(doc.nodes.length - matches);

    expect(await page.locator('.memory').count()).toBe(2);
    const training = doc.training!;
    expect(await page.locator('.memory').nth(1).locator('.col').count()).toBe(training.memory.perKernel.length);
    expect(await page.locator('.memory').nth(1).locator('.col.peak').count()).toBe(1);
    expect(await page.locator('#optimizer tbody tr').count()).toBe(training.state.length);
    expect(await page.locator('table.layers tbody tr').count()).toBe(doc.layers.length);

    const png = PNG.sync.read(await page.screenshot({ fullPage: true }));
    const colours = new Set<number>();
    let inked = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      if (r + g + b < 600) inked++;
    }
    expect(colours.size).toBeGreaterThan(50);
    expect(inked / (png.width * png.height)).toBeGreaterThan(0.01);
    writeFileSync(path.join(out, 'cnn.png'), PNG.sync.write(png));
    expect(problems).toEqual([]);
  });

  it('kiln profile --format html: the report with the times of every kernel, and a node\'s kernel time in its details', async () => {
    const file = path.join(out, 'cnn-profile.html');
    expect(await profileCommand(path.join(ROOT, 'examples', 'cnn.ts'), { format: 'html', out: file, batch: 8, runs: 2 })).toBe(`wrote ${file}`);
    const embedded = readFileSync(file, 'utf8').match(/<script type="application\/json" id="kiln-data">(.*)<\/script>/)![1];
    const { doc, profile } = JSON.parse(embedded) as { doc: GraphDoc; profile: ProfileReport };
    expect(profile.kernels.map((k) => k.name)).toEqual(doc.kernels.map((k) => k.name));
    const { page, problems } = await open(file);
    expect(await page.locator('#profile table.kernels tbody tr').count()).toBe(profile.kernels.length);
    const conv = doc.nodes.find((n) => n.op === 'conv2d')!;
    await page.click('#forward .expand-all');
    await page.locator(`#forward g.node[data-key="n${conv.id}"]`).click();
    const ms = profile.kernels.find((k) => k.name === conv.kernel)!.ms;
    expect(await page.locator('#details').innerText()).toMatch(new RegExp(`time per call\\s+${ms.toFixed(3).replace(".", "\\.")} ms`));
    expect(problems).toEqual([]);
  });

  it('lstm-adding --train with its profile: each scan body drawn in a panel of its own, a body node names its per-step kernel, loops\' own times listed', async () => {
    const file = path.join(out, 'lstm-profile.html');
    expect(await profileCommand(path.join(ROOT, 'examples', 'lstm-adding.ts'), { format: 'html', out: file, batch: 4, runs: 1, train: true })).toBe(`wrote ${file}`);
    const embedded = readFileSync(file, 'utf8').match(/<script type="application\/json" id="kiln-data">(.*)<\/script>/)![1];
    const { doc, profile } = JSON.parse(embedded) as { doc: GraphDoc; profile: ProfileReport };
    const loops = doc.training!.loops!;
    expect(loops).toHaveLength(3);
    const { page, problems } = await open(file);
    for (const l of [...doc.loops!.map((x) => ['forward', x] as const), ...loops.map((x) => ['training', x] as const)]) {
      expect(await page.locator(`#${l[0]}-loop-${l[1].id} g.node`).count(), `${l[0]} loop ${l[1].id}`).toBe(l[1].nodes.length);
    }
    const product = loops[0].nodes.find((n) => n.op === 'matmul')!;
    await page.locator(`#training-loop-0 g.node[data-key="n${product.id}"]`).click();
    const details = await page.locator('#details').innerText();
    expect(details).toContain(`Fusion group ${product.kernel}`);
    expect(details).toContain('each step (loop 0)');
    expect(await page.locator('#profile table.kernels tbody tr').count()).toBe(profile.kernels.length);
    expect(await page.locator('#profile table.kernels').innerText()).toContain('50 steps: copies between steps');
    expect(problems).toEqual([]);
  });

  it('hostile names run nothing and show as text', async () => {
    const file = path.join(out, 'hostile.html');
    writeReport(file, buildGraphDoc(hostileGraph(), { sources: true }));
    const { page, problems } = await open(file);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('table.layers').innerText()).toContain(HOSTILE_LAYER);
    expect(await page.locator('h1').textContent()).toBe('</title><script>window.__pwned=3</script>');
    expect(problems).toEqual([]);
  });

  it('a real PyTorch GRU export (batch-first): the report draws every node of the graph and names every data node of the file', async () => {
    const onnxFile = path.join(ROOT, 'test', 'onnx', 'fixtures', 'torch-gru-batch-first.onnx');
    const file = path.join(out, 'torch-gru.html');
    const r = await kiln('inspect', onnxFile, '--input-shape', 'x=2,5,3', '--format', 'html', '--out', file);
    expect(r.status, showRun(r)).toBe(0);
    const embedded = readFileSync(file, 'utf8').match(/<script type="application\/json" id="kiln-data">(.*)<\/script>/)![1];
    const { doc } = JSON.parse(embedded) as { doc: GraphDoc };
    const { page, problems } = await open(file);
    await page.click('#forward .expand-all');
    const drawn = new Set(await page.locator('#forward g.node').evaluateAll((els) => els.map((e) => e.getAttribute('data-key'))));
    expect(doc.nodes.every((n) => drawn.has(`n${n.id}`))).toBe(true);
    const titles = await page.locator('#forward g.node text.title').allTextContents();
    for (const name of dataNodes(new Uint8Array(readFileSync(onnxFile))).names) expect(titles.some((t) => t.endsWith(` ${name}`)), name).toBe(true);
    expect(problems).toEqual([]);
  });

  it('a PyTorch-style ONNX model: every node of the imported graph is drawn, named as in the file', async () => {
    const { bytes, names } = pytorchStyleOnnx();
    const onnxFile = path.join(out, 'torch-cnn.onnx');
    writeFileSync(onnxFile, bytes);
    const { graph } = await loadModel(onnxFile);
    const doc = buildGraphDoc(graph, { sources: true, after: 'input' });
    const file = path.join(out, 'torch-cnn.html');
    writeReport(file, doc);
    const { page, problems } = await open(file);
    await page.click('#forward .expand-all');
    expect(await page.locator('#forward g.node').count()).toBe(doc.nodes.length);
    const drawn = new Set(await page.locator('#forward g.node').evaluateAll((els) => els.map((e) => e.getAttribute('data-key'))));
    expect(doc.nodes.every((n) => drawn.has(`n${n.id}`))).toBe(true);
    const titles = await page.locator('#forward g.node text.title').allTextContents();
    // Every ONNX node that survives import (Shape/Gather/… fold into constants) keeps its name.
    const layers = new Set(doc.nodes.map((n) => n.layer));
    for (const name of names.filter((n) => layers.has(n))) expect(titles.some((t) => t.endsWith(` ${name}`)), name).toBe(true);
    expect(names.filter((n) => layers.has(n))).toEqual(expect.arrayContaining(['/conv1/Conv', '/Relu', '/pool/MaxPool', '/fc/Gemm']));
    expect(readFileSync(file, 'utf8')).toContain('dagre');
    expect(problems).toEqual([]);
  });
});
