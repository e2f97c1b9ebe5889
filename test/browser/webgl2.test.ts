// The GPU.js backend on WebGL2 in a real browser: every example model (and a saturation fixture)
// compiled with `--backend gpujs`, bundled with esbuild, served on 127.0.0.1 and run in headless
// Chromium through Playwright, with the backend asserted to be webgl2. References are the same
// models compiled with the JavaScript backend, run in Node on the same weights and inputs.
import { writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWeights, encodeWeights } from '../../runtime/weights.ts';
import { bundleForBrowser } from '../../cli/browser/bundle.ts';
import { CHROMIUM_ARGS, findChromium } from '../../cli/browser/chromium.ts';
import { serveFolder, type StaticServer } from '../../cli/browser/serve.ts';
import { compileCommand } from '../../cli/commands.ts';
import { freshOutDir, importModule, perSample, randomFloats, randomizeZeroTensors, ROOT } from '../e2e/helpers.ts';

const EXAMPLES = ['mlp', 'mlp256', 'cnn', 'cnn-small', 'lenet', 'cnn2', 'cifar-cnn'];
const SATURATE = 'test/browser/saturate.model.ts';
const CHROMIUM = findChromium();

if (!CHROMIUM) {
  console.warn(
    '[browser suite skipped] no Chromium: install Debian packages `chromium libegl-mesa0 libgl1-mesa-dri libgbm1` ' +
      '(.ci/run does, as root) or point KILN_CHROMIUM at a Chromium binary.',
  );
}

interface Compiled {
  file: string;
  weights: Uint8Array;
  inputSize: number;
}

describe.skipIf(!CHROMIUM)('GPU.js backend on WebGL2 in headless Chromium', () => {
  const compiled = new Map<string, Compiled>();
  let server: StaticServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const out = freshOutDir('browser');
    const entries: string[] = [];
    for (const [name, file] of [...EXAMPLES.map((e) => [e, `examples/${e}.ts`]), ['saturate', SATURATE]]) {
      for (const backend of ['gpujs', 'js']) {
        await compileCommand(path.join(ROOT, file), { backend, out: path.join(out, backend), seed: 1, train: name !== 'saturate' });
      }
      const js = path.join(out, 'js', `${modelName(name)}.mjs`);
      const initial = readFileSync(path.join(out, 'js', `${modelName(name)}.weights.bin`));
      let weights = randomizeZeroTensors(initial, 7).bytes;
      if (name === 'saturate') weights = scaled(weights, 100);
      const mod = await importModule(js);
      compiled.set(name, { file: js, weights, inputSize: perSample(mod.inputs[0].shape) });
      entries.push(`import * as ${modelName(name)} from './gpujs/${modelName(name)}.mjs';`);
    }
    const names = [...compiled.keys()];
    writeFileSync(
      path.join(out, 'entry.ts'),
      [
        `import { install } from ${JSON.stringify(path.join(ROOT, 'test', 'browser', 'page-api.ts'))};`,
        ...entries,
        `install({ ${names.map((n) => `${JSON.stringify(n)}: ${modelName(n)}`).join(', ')} });`,
      ].join('\n'),
    );
    const site = path.join(out, 'site');
    mkdirSync(site, { recursive: true });
    await bundleForBrowser(path.join(out, 'entry.ts'), path.join(site, 'page.js'));
    writeFileSync(path.join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>kiln webgl2 tests</title><script src="page.js"></script>');
    server = await serveFolder(site);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e));
    await page.goto(server.url);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const predictInPage = (name: string, calls: { x: number[]; batch: number }[], mode = 'webgl2') => {
    const weights = Buffer.from(compiled.get(name)!.weights).toString('base64');
    return page.evaluate(([n, w, m, c]) => (globalThis as any).kiln.predict(n, w, m, c), [name, weights, mode, calls] as const);
  };

  const predictInNode = async (name: string, x: Float32Array, batch: number) => {
    const c = compiled.get(name)!;
    return (await importModule(c.file)).createModel(c.weights).predict(x, batch);
  };

  it('the page has WebGL2, and GPU.js runs on it when asked', async () => {
    expect(await page.evaluate(() => (globalThis as any).kiln.webgl2())).toBe(true);
    const r = await predictInPage('mlp', [{ x: Array.from(randomFloats(784, 1, 0, 1)), batch: 1 }]);
    expect(r.backend).toBe('webgl2');
  });

  it.each(EXAMPLES)('%s: predictions on webgl2 agree with the JS backend to 1e-4, batch 3 then 5 then 1', async (name) => {
    const { inputSize } = compiled.get(name)!;
    const batches = [3, 5, 1];
    const xs = batches.map((b, i) => randomFloats(b * inputSize, 100 + i, 0, 1));
    const r = await predictInPage(name, batches.map((b, i) => ({ x: Array.from(xs[i]), batch: b })));
    expect(r.backend).toBe('webgl2');
    for (let i = 0; i < batches.length; i++) {
      const want = await predictInNode(name, xs[i], batches[i]);
      expect(r.outputs[i].length).toBe(want.length);
      expect(Float32Array.from(r.outputs[i])).toBeAllclose(want, { rtol: 0, atol: 1e-4 });
    }
  });

  it.each(['mlp', 'cnn-small'])('%s: five training steps on webgl2 follow the JS trainer (losses and weights)', async (name) => {
    const c = compiled.get(name)!;
    const batch = 8;
    const x = randomFloats(batch * c.inputSize, 5, 0, 1);
    const labels = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
    const weights = Buffer.from(c.weights).toString('base64');
    const r = await page.evaluate(([n, w, xx, yy, b]) => (globalThis as any).kiln.train(n, w, 'webgl2', xx, yy, b, 5), [name, weights, Array.from(x), Array.from(labels), batch] as const);
    const trainer = (await importModule(c.file) as unknown as { createTrainer(o: object): { step(x: Float32Array, y: Int32Array, b: number): number; getWeights(): { name: string; data: Float32Array }[] } }).createTrainer({ weights: c.weights });
    const losses = Array.from({ length: 5 }, () => trainer.step(x, labels, batch));
    expect(Float32Array.from(r.losses)).toBeAllclose(Float32Array.from(losses), { rtol: 1e-3, atol: 1e-4 });
    expect(r.losses[4]).toBeLessThan(r.losses[0]);
    for (const w of trainer.getWeights()) expect(Float32Array.from(r.weights[w.name]), w.name).toBeAllclose(w.data, { rtol: 1e-3, atol: 1e-4 });
  });

  it('an intermediate result longer than the maximum texture size is packed and still exact', async () => {
    // mlp256's first layer at batch 80: 20,480 values in one kernel output, above 16,384.
    const batch = 80;
    const x = randomFloats(batch * 784, 9, 0, 1);
    const r = await predictInPage('mlp256', [{ x: Array.from(x), batch }]);
    expect(r.maxTextureSize).toBeGreaterThan(0);
    expect(256 * batch).toBeGreaterThan(r.maxTextureSize);
    expect(Float32Array.from(r.outputs[0])).toBeAllclose(await predictInNode('mlp256', x, batch), { rtol: 0, atol: 1e-4 });
  });

  it('tanh, sigmoid and softmax deep in saturation stay finite and agree with the JS backend', async () => {
    const batch = 6;
    const x = randomFloats(batch * 4, 11, -3, 3);
    const r = await predictInPage('saturate', [{ x: Array.from(x), batch }]);
    expect(r.outputs[0].every(Number.isFinite)).toBe(true);
    expect(Float32Array.from(r.outputs[0])).toBeAllclose(await predictInNode('saturate', x, batch), { rtol: 0, atol: 1e-4 });
  });

  it('precompiled kernels (GPU.js toString, shaders included) give the same predictions; first-call time is reported', async () => {
    const batch = 4;
    const weights = Buffer.from(compiled.get('cnn')!.weights).toString('base64');
    const x = Array.from(randomFloats(batch * 784, 21, 0, 1));
    const pre = (await page.evaluate(([b]) => (globalThis as any).kiln.exportKernels('cnn', b), [batch] as const)) as { batch: number; backend: string; kernels: Record<string, string> };
    expect(pre.batch).toBe(batch);
    expect(pre.backend).toBe('webgl2');
    expect(Object.keys(pre.kernels).length).toBeGreaterThan(3);
    const first = (p: unknown) => page.evaluate(([w, pc, xx, b]) => (globalThis as any).kiln.firstCall('cnn', w, pc, xx, b), [weights, p, x, batch] as const) as Promise<{ ms: number; output: number[] }>;
    const plain = await first(null);
    const precompiled = await first(pre);
    const plainAgain = await first(null);
    expect(Float32Array.from(precompiled.output)).toBeAllclose(Float32Array.from(plain.output), { rtol: 0, atol: 1e-6 });
    expect(Float32Array.from(plain.output)).toBeAllclose(await predictInNode('cnn', Float32Array.from(x), batch), { rtol: 0, atol: 1e-4 });
    const fromSource = Math.min(plain.ms, plainAgain.ms);
    console.log(`[first call, cnn batch ${batch}, webgl2] from source: ${fromSource.toFixed(0)} ms; precompiled: ${precompiled.ms.toFixed(0)} ms`);
  });

  it('demanding a backend the page cannot give is an error, not a silent fallback', async () => {
    const message = await page.evaluate(() => {
      try {
        (globalThis as any).kiln.predict('mlp', '', 'headlessgl', []);
        return 'no error';
      } catch (e) {
        return String((e as Error).message);
      }
    });
    expect(message).toMatch(/headlessgl/);
  });
});

/** The file stem `kiln compile` gives each model: its graph name (the examples use underscores). */
const modelName = (name: string) => name.replace(/-/g, '_');

/** A weight file with every tensor multiplied by `factor`. */
function scaled(bytes: Uint8Array, factor: number): Uint8Array {
  const { tensors, meta } = decodeWeights(bytes);
  return encodeWeights(tensors.map((t) => ({ ...t, data: Float32Array.from(t.data as Float32Array, (v) => v * factor) })), meta);
}
