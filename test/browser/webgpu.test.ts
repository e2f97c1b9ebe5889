// The GPU.js backend on WebGPU in a real browser: every example model compiled with `--backend
// gpujs`, run through the asynchronous API (predictAsync, stepAsync, fitAsync) with
// `{ mode: 'webgpu' }` in headless Chromium (SwiftShader's Vulkan where there is no GPU), the
// backend asserted. References: the same models compiled for the JavaScript backend, run in Node
// on the same weights and inputs; the gradient-check cases of test/grad against the reference
// interpreter. One page load for the whole file: SwiftShader compiles shaders slowly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../../cli/browser/bundle.ts';
import { findChromium, WEBGPU_CHROMIUM_ARGS } from '../../cli/browser/chromium.ts';
import { serveFolder, type StaticServer } from '../../cli/browser/serve.ts';
import { compileCommand } from '../../cli/commands.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { unrollScans } from '../../compiler/passes/unroll-scans.ts';
import { EMITTERS } from '../../compiler/emit/emit.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import { decodeWeights } from '../../runtime/weights.ts';
import { prepareCase, type GradCase } from '../grad/check.ts';
import { CASES as binary } from '../grad/cases/binary.ts';
import { CASES as convPool } from '../grad/cases/conv-pool.ts';
import { CASES as linalg } from '../grad/cases/linalg.ts';
import { CASES as movement } from '../grad/cases/movement.ts';
import { CASES as reduce } from '../grad/cases/reduce.ts';
import { CASES as unary } from '../grad/cases/unary.ts';
import { freshOutDir, importModule, perSample, randomFloats, randomizeZeroTensors, ROOT } from '../e2e/helpers.ts';
import type { PlainFeeds } from './page-api-webgpu.ts';

const EXAMPLES = ['mlp', 'mlp256', 'cnn', 'cnn-small', 'lenet', 'cnn2', 'cifar-cnn'];
const TRAINED = ['mlp', 'cnn-small'];
const FAMILIES: [string, readonly GradCase[]][] = [
  ['unary', unary],
  ['binary', binary],
  ['reduce', reduce],
  ['linalg', linalg],
  ['movement', movement],
  ['conv-pool', convPool],
];
/** float32 kernels against the float64 interpreter (test/gpujs/ops.test.ts's tolerance). */
const GRAD_TOLERANCE = { rtol: 2e-4, atol: 2e-5 };
const CHROMIUM = findChromium();

interface Compiled {
  file: string;
  weights: Uint8Array;
  inputSize: number;
}
interface GradGroup {
  key: string;
  graph: Graph;
  feeds: Record<string, Float32Array | Float64Array | Int32Array>;
  batch: number;
}

/** The file stem `kiln compile` gives each model: its graph name (the examples use underscores). */
const modelName = (name: string) => name.replace(/-/g, '_');
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const plainFeeds = (feeds: Record<string, Float32Array | Float64Array | Int32Array>): PlainFeeds =>
  Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { type: v.constructor.name as PlainFeeds[string]['type'], values: Array.from(v) }]));

/** The gradient-check cases, one graph per family and batch size (as test/gpujs/ops.test.ts groups them). */
function gradGroups(): GradGroup[] {
  const groups: GradGroup[] = [];
  for (const [family, cases] of FAMILIES) {
    for (const batch of new Set(cases.map((c) => c.batch ?? 2))) {
      const prepared = cases.filter((c) => (c.batch ?? 2) === batch).map((c, k) => prepareCase(c, `c${k}_`));
      const key = `${family.replace(/-/g, '_')}_b${batch}`;
      const graph: Graph = { name: `webgpu_${key}`, inputs: prepared.flatMap((p) => p.graph.inputs), outputs: prepared.flatMap((p) => p.graph.outputs) };
      groups.push({ key, graph, feeds: Object.assign({}, ...prepared.map((p) => p.feeds)), batch });
    }
  }
  return groups;
}

describe.skipIf(!CHROMIUM)('GPU.js backend on WebGPU in headless Chromium', () => {
  const compiled = new Map<string, Compiled>();
  const grads = gradGroups();
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  /** The adapter's description, or null where the browser offers none (the tests then skip). */
  let adapter: string | null = null;

  beforeAll(async () => {
    const out = freshOutDir('browser-webgpu');
    const models: string[] = [];
    for (const name of EXAMPLES) {
      for (const backend of ['gpujs', 'js']) {
        await compileCommand(path.join(ROOT, `examples/${name}.ts`), { backend, out: path.join(out, backend), seed: 1, train: TRAINED.includes(name) });
      }
      const js = path.join(out, 'js', `${modelName(name)}.mjs`);
      const weights = randomizeZeroTensors(readFileSync(path.join(out, 'js', `${modelName(name)}.weights.bin`)), 7).bytes;
      compiled.set(name, { file: js, weights, inputSize: perSample((await importModule(js)).inputs[0].shape) });
      models.push(`import * as ${modelName(name)} from './gpujs/${modelName(name)}.mjs';`);
    }
    mkdirSync(path.join(out, 'grad'), { recursive: true });
    for (const g of grads) {
      // The emitter `kiln compile --backend gpujs` uses: contraction kernels (and their gradients) run Kiln's WGSL.
      // GPU.js has no host loop: scans are unrolled first, as test/grad's harness does for gpujs.
      writeFileSync(path.join(out, 'grad', `${g.key}.mjs`), EMITTERS.gpujs(compileGraph(unrollScans(g.graph)).program, { graphHash: `webgpu-${g.key}` }).js);
      models.push(`import * as grad_${g.key} from './grad/${g.key}.mjs';`);
    }
    writeFileSync(
      path.join(out, 'entry.ts'),
      [
        `import { install } from ${JSON.stringify(path.join(ROOT, 'test', 'browser', 'page-api-webgpu.ts'))};`,
        ...models,
        `install({ ${EXAMPLES.map((n) => `${JSON.stringify(n)}: ${modelName(n)}`).join(', ')} }, { ${grads.map((g) => `${g.key}: grad_${g.key}`).join(', ')} } as never);`,
      ].join('\n'),
    );
    const site = path.join(out, 'site');
    mkdirSync(site, { recursive: true });
    await bundleForBrowser(path.join(out, 'entry.ts'), path.join(site, 'page.js'));
    writeFileSync(path.join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>kiln webgpu tests</title><script src="page.js"></script>');
    server = await serveFolder(site);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e));
    await page.goto(server.url);
    adapter = await page.evaluate(() => (globalThis as any).kiln.adapter());
    if (!adapter) console.warn('[webgpu suite skipped] Chromium offers no WebGPU adapter here (started with --enable-unsafe-webgpu on 127.0.0.1)');
    else console.log(`[webgpu] adapter: ${adapter}`);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const predictInNode = async (name: string, x: Float32Array, batch: number) => {
    const c = compiled.get(name)!;
    return (await importModule(c.file)).createModel(c.weights).predict(x, batch);
  };

  it('every example model predicts what the JS backend does (1e-4) at batch 1, 3 and 64, on webgpu', async (ctx) => {
    if (!adapter) return ctx.skip('no WebGPU adapter');
    const batches = [1, 3, 64];
    const inputs = new Map(EXAMPLES.map((name) => [name, batches.map((b, i) => randomFloats(b * compiled.get(name)!.inputSize, 100 + i, 0, 1))]));
    const jobs = EXAMPLES.map((name) => ({ name, weights: b64(compiled.get(name)!.weights), calls: batches.map((batch, i) => ({ x: Array.from(inputs.get(name)![i]), batch })) }));
    const results = (await page.evaluate(([j]) => (globalThis as any).kiln.predict(j, 'webgpu'), [jobs] as const)) as { name: string; backend: string; outputs: number[][]; ms: number; wgsl: string[]; wgslCalls: Record<string, number> }[];
    for (const r of results) {
      console.log(`[webgpu] ${r.name}: batches ${batches.join(', ')} in ${r.ms.toFixed(0)} ms (shader builds included); WGSL kernels ${Object.keys(r.wgslCalls).join(', ')}`);
      expect(r.backend, r.name).toBe('webgpu');
      // Kiln's WGSL ran for each of the model's contraction kernels, once per call: no silent GPU.js fallback.
      const modelWgsl = r.wgsl.filter((n) => /^k\d+$/.test(n));
      expect(modelWgsl.length, `${r.name}: kernels rendered as WGSL`).toBeGreaterThan(0);
      expect(r.wgslCalls, r.name).toEqual(Object.fromEntries(modelWgsl.map((n) => [n, batches.length])));
      for (let i = 0; i < batches.length; i++) {
        const want = await predictInNode(r.name, inputs.get(r.name)![i], batches[i]);
        expect(r.outputs[i].length, `${r.name} batch ${batches[i]}`).toBe(want.length);
        expect(Float32Array.from(r.outputs[i]), `${r.name} batch ${batches[i]}`).toBeAllclose(want, { rtol: 0, atol: 1e-4 });
      }
    }
  }, 240_000);

  it.for(TRAINED)('%s: five stepAsync steps on webgpu follow the JS trainer (losses and weights); saveAsync writes them', { timeout: 120_000 }, async (name: string, ctx) => {
    if (!adapter) return ctx.skip('no WebGPU adapter');
    const c = compiled.get(name)!;
    const batch = 8;
    const x = randomFloats(batch * c.inputSize, 5, 0, 1);
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
    const r = await page.evaluate(([n, w, xx, yy, b]) => (globalThis as any).kiln.train(n, w, 'webgpu', xx, yy, b, 5), [name, b64(c.weights), Array.from(x), Array.from(labels), batch] as const);
    expect(r.backend).toBe('webgpu');
    // Every step ran the training program's WGSL kernels (no evaluation here, so no e* kernel).
    const stepWgsl = (r.wgsl as string[]).filter((n) => /^t\d+$/.test(n));
    expect(stepWgsl.length).toBeGreaterThan(0);
    expect(r.wgslCalls).toEqual(Object.fromEntries(stepWgsl.map((n) => [n, 5])));
    const trainer = ((await importModule(c.file)) as unknown as { createTrainer(o: object): { step(x: Float32Array, y: Int32Array, b: number): number; getWeights(): { name: string; data: Float32Array }[] } }).createTrainer({ weights: c.weights });
    const losses = Array.from({ length: 5 }, () => trainer.step(x, labels, batch));
    expect(Float32Array.from(r.losses)).toBeAllclose(Float32Array.from(losses), { rtol: 1e-3, atol: 1e-4 });
    expect(r.losses[4]).toBeLessThan(r.losses[0]);
    for (const w of trainer.getWeights()) expect(Float32Array.from(r.weights[w.name]), w.name).toBeAllclose(w.data, { rtol: 1e-3, atol: 1e-4 });
    // saveAsync writes what the device holds: the step count and the weights read back above.
    const saved = decodeWeights(Uint8Array.from(r.saved));
    expect(saved.meta.steps).toBe(5);
    for (const t of saved.tensors.filter((t) => t.name in r.weights)) expect(Array.from(t.data), t.name).toEqual(r.weights[t.name]);
  });

  it('fitAsync trains an epoch on webgpu as the JS trainer does (epoch loss, validation loss, weights); evaluateAsync gives evaluate', async (ctx) => {
    if (!adapter) return ctx.skip('no WebGPU adapter');
    const c = compiled.get('mlp')!;
    const [count, batchSize] = [40, 16];
    const x = randomFloats(count * c.inputSize, 31, 0, 1);
    const labels = Int32Array.from({ length: count }, (_, i) => (i * 3) % 10);
    const r = await page.evaluate(([w, xx, yy, n, b]) => (globalThis as any).kiln.fit('mlp', w, 'webgpu', xx, yy, n, b), [b64(c.weights), Array.from(x), Array.from(labels), count, batchSize] as const);
    expect(r.backend).toBe('webgpu');
    type JsTrainer = { fit(d: object, o: object): { epochs: { loss: number; valLoss: number }[] }; evaluate(d: object, b: number, m: string[]): { loss: number; accuracy: number }; getWeights(): { name: string; data: Float32Array }[] };
    const trainer = ((await importModule(c.file)) as unknown as { createTrainer(o: object): JsTrainer }).createTrainer({ weights: c.weights });
    const data = { x, y: labels, count };
    const history = trainer.fit(data, { epochs: 1, batchSize, shuffle: false, metrics: ['accuracy'], validationData: data });
    expect(r.loss).toBeCloseTo(history.epochs[0].loss, 4);
    // Validation (fitAsync through evaluateAsync) and evaluateAsync after it, on the device.
    expect(r.valLoss).toBeCloseTo(history.epochs[0].valLoss, 4);
    const evaluation = trainer.evaluate(data, batchSize, ['accuracy']);
    expect(r.evaluation.loss).toBeCloseTo(evaluation.loss, 4);
    expect(r.evaluation.accuracy).toBe(evaluation.accuracy);
    // The evaluation program's WGSL kernels ran: once per batch, for validation and for evaluateAsync.
    expect(r.evalWgsl.length).toBeGreaterThan(0);
    for (const n of r.evalWgsl) expect(r.wgslCalls[n], n).toBe(2 * Math.ceil(count / batchSize));
    for (const w of trainer.getWeights()) expect(Float32Array.from(r.weights[w.name]), w.name).toBeAllclose(w.data, { rtol: 1e-3, atol: 1e-4 });
  }, 120_000);

  it(`every gradient-check case of test/grad (${grads.length} groups) agrees with the reference interpreter on webgpu`, async (ctx) => {
    if (!adapter) return ctx.skip('no WebGPU adapter');
    let wgslRan = 0;
    for (const g of grads) {
      const r = await page.evaluate(([k, f, b]) => (globalThis as any).kiln.grad(k, f, b, 'webgpu'), [g.key, plainFeeds(g.feeds), g.batch] as const);
      expect(r.backend, g.key).toBe('webgpu');
      expect(r.wgslCalls, `${g.key}: each WGSL kernel ran once`).toEqual(Object.fromEntries((r.wgsl as string[]).map((n) => [n, 1])));
      wgslRan += r.wgsl.length;
      const want = interpret(g.graph, g.feeds, {}, g.batch);
      for (const o of g.graph.outputs) expect(Float32Array.from(r.out[o.name]), `${g.key}: ${o.name} (${o.node.op})`).toBeAllclose(want[o.name], GRAD_TOLERANCE);
    }
    // The matmul and convolution cases, and their gradients, went through Kiln's WGSL.
    expect(wgslRan).toBeGreaterThan(0);
  }, 240_000);

  it('a kernel overridden by hand-written WGSL (the wgsl seam) runs instead of the GPU.js one and gives the same predictions', async (ctx) => {
    if (!adapter) return ctx.skip('no WebGPU adapter');
    const batches = [2, 5];
    const xs = batches.map((b, i) => randomFloats(b * 784, 40 + i, 0, 1));
    const r = await page.evaluate(([w, c]) => (globalThis as any).kiln.predictOverridden(w, c), [b64(compiled.get('mlp')!.weights), batches.map((batch, i) => ({ x: Array.from(xs[i]), batch }))] as const);
    expect(r.backend).toBe('webgpu');
    expect(r.overrideCalls).toBe(batches.length);
    for (let i = 0; i < batches.length; i++) expect(Float32Array.from(r.outputs[i])).toBeAllclose(await predictInNode('mlp', xs[i], batches[i]), { rtol: 0, atol: 1e-4 });
  }, 60_000);

  it('the WGSL kernels take the shader for the adapter: registers only on a CPU adapter such as SwiftShader, workgroup tiles on a GPU', async (ctx) => {
    if (!adapter) return ctx.skip('no WebGPU adapter');
    const software = await page.evaluate(() => (globalThis as any).kiln.softwareAdapter());
    // Chromium's only CPU adapter is SwiftShader; any other adapter it offers is a GPU.
    expect(software, adapter).toBe(adapter.toLowerCase().includes('swiftshader'));
  }, 60_000);

  it("'async' picks webgpu where an adapter answers; the synchronous API refuses webgpu with a pointer to predictAsync", async (ctx) => {
    if (!adapter) return ctx.skip('no WebGPU adapter');
    const x = randomFloats(784, 3, 0, 1);
    const [r] = (await page.evaluate(([w, xx]) => (globalThis as any).kiln.predict([{ name: 'mlp', weights: w, calls: [{ x: xx, batch: 1 }] }], 'async'), [b64(compiled.get('mlp')!.weights), Array.from(x)] as const)) as { backend: string; outputs: number[][] }[];
    expect(r.backend).toBe('webgpu');
    expect(Float32Array.from(r.outputs[0])).toBeAllclose(await predictInNode('mlp', x, 1), { rtol: 0, atol: 1e-4 });
    const message = await page.evaluate(() => (globalThis as any).kiln.syncRefusal('mlp', 784));
    expect(message).toMatch(/webgpu.*predictAsync/);
  }, 60_000);
});
