// The WGSL renderer's kernels run on WebGPU in headless Chromium (SwiftShader on a machine
// without a GPU), against the reference interpreter's values: products at every tile edge (sizes
// 1 to tile + 1, odd reductions, split-K on and off) and every kernel the renderer takes from the
// examples' inference and training programs. Skipped, saying why, without Chromium or WebGPU.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForBrowser } from '../../cli/browser/bundle.ts';
import { findChromium, WEBGPU_CHROMIUM_ARGS } from '../../cli/browser/chromium.ts';
import { compileCommand } from '../../cli/commands.ts';
import { loadModel } from '../../cli/load.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { serveFolder, type StaticServer } from '../../cli/browser/serve.ts';
import type { Kernel } from '../../compiler/lower/kernel.ts';
import { dispatchSize, renderWgslKernel, type WgslKernel, type WgslOptions } from '../../compiler/codegen/wgsl/kernel.ts';
import { extentAt } from '../../compiler/codegen/wgsl/gemm-plan.ts';
import { overrideSource } from '../../compiler/codegen/wgsl/override.ts';
import { exprKey } from '../../src/ir/expr.ts';
import { numel } from '../../src/ir/shape.ts';
import { freshOutDir, randomizeZeroTensors } from '../e2e/helpers.ts';
import { denseKernel, EXAMPLES, exampleKernels, inputsFor, random, referenceValues, ROOT, weightGradKernel, workOf } from './wgsl-kernels.ts';

const CHROMIUM = findChromium();
if (!CHROMIUM) console.warn('[WGSL browser tests skipped] no Chromium: install Debian package `chromium` or point KILN_CHROMIUM at a Chromium binary.');

/** float32 sums against the float64 interpreter. */
const TOLERANCE = { rtol: 1e-4, atol: 1e-4 };
/** Small tiles, so that sizes 1 to tile + 1 stay cheap: 8 × 8 × 4, 2 × 2 per thread (16 threads). */
const SMALL: WgslOptions = { tileM: 8, tileN: 8, tileK: 4, perThreadM: 2, perThreadN: 2 };
/** Above this much reference work (multiply-adds), outputs are checked at a random sample of positions. */
const FULL_CHECK_WORK = 4e5;
const SAMPLE = 200;

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const fromB64 = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

/**
 * The page's job for kernel `k` rendered as each of `ws`, on inputsFor(k, batch, seed) (which the
 * page makes from the seed itself), read back at the flat positions `at` (all when undefined).
 */
function jobFor(k: Kernel, ws: readonly WgslKernel[], batch: number, seed: number, at: readonly number[] | undefined) {
  const used = new Set(ws.flatMap((w) => w.passes.flatMap((p) => p.bindings.flatMap((b) => (b.kind === 'input' ? [b.slot] : [])))));
  return {
    seed,
    inputLengths: k.inputs.map((t) => numel(t.shape, batch)),
    usedSlots: [...used],
    variants: ws.map((w) => ({
      passes: w.passes.map((p) => ({ source: p.source, dispatch: dispatchSize(p, batch), bindings: p.bindings })),
      scratchElements: w.scratch ? w.scratch.splits * extentAt(w.scratch.elements, batch) : 0,
    })),
    outElements: numel(k.shape, batch),
    batch,
    at: at ?? null,
  };
}

describe.skipIf(!CHROMIUM)('WGSL kernels on WebGPU in headless Chromium', () => {
  let server: StaticServer;
  let browser: Browser;
  let page: Page;
  let webgpu: { ok: boolean; reason?: string; architecture?: string } = { ok: false, reason: 'not started' };
  const weights = new Map<string, Uint8Array>();
  /** Kernels already checked (expression and input shapes), across the examples. */
  const checked = new Set<string>();

  beforeAll(async () => {
    const out = freshOutDir('wgsl-browser');
    const site = path.join(out, 'site');
    mkdirSync(site, { recursive: true });
    copyFileSync(path.join(import.meta.dirname, 'wgsl-page.js'), path.join(site, 'page.js'));
    // The GPU.js modules whose kernels the renderer's are measured against, through the WGSL seam.
    for (const name of MEASURED) {
      await compileCommand(path.join(ROOT, 'examples', `${name}.ts`), { backend: 'gpujs', out: path.join(out, 'gpujs'), seed: 1 });
      weights.set(name, randomizeZeroTensors(readFileSync(path.join(out, 'gpujs', `${stem(name)}.weights.bin`)), 7).bytes);
    }
    writeFileSync(path.join(out, 'entry.ts'), [...MEASURED.map((n) => `import * as ${stem(n)} from './gpujs/${stem(n)}.mjs';`), `(globalThis as any).kilnModels = { ${MEASURED.map((n) => `${JSON.stringify(n)}: ${stem(n)}`).join(', ')} };`].join('\n'));
    await bundleForBrowser(path.join(out, 'entry.ts'), path.join(site, 'models.js'));
    writeFileSync(path.join(site, 'index.html'), '<!doctype html><meta charset="utf-8"><title>kiln wgsl tests</title><script src="page.js"></script><script src="models.js"></script>');
    server = await serveFolder(site);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e));
    await page.goto(server.url);
    webgpu = await page.evaluate(() => (globalThis as any).wgslAdapter());
    if (!webgpu.ok) console.warn(`[WGSL browser tests skipped] Chromium offers no WebGPU: ${webgpu.reason}`);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Runs `k` rendered with each of `variants` in the page and compares every output (or a sample) with the interpreter. */
  async function check(k: Kernel, variants: readonly WgslOptions[], batch: number, seed: number, label: string): Promise<WgslKernel[]> {
    const inputs = inputsFor(k, batch, seed);
    const total = numel(k.shape, batch);
    const at = workOf(k, batch) <= FULL_CHECK_WORK ? undefined : sample(total, seed);
    const want = referenceValues(k, inputs, batch, at);
    const rendered = variants.map((options) => renderWgslKernel(k, options)!);
    rendered.forEach((w, i) => expect(w, `${label}: rendered with ${JSON.stringify(variants[i])}`).toBeDefined());
    // Every variant in one page call, on inputs the page makes from the seed: nothing large crosses the wire.
    const results = (await page.evaluate((job) => (globalThis as any).wgslRun(job), jobFor(k, rendered, batch, seed, at))) as { out: string; errors: string[] }[];
    for (const [i, r] of results.entries()) {
      expect(r.errors, `${label} (${rendered[i].how})`).toEqual([]);
      expect(fromB64(r.out), `${label} (${rendered[i].how})`).toBeAllclose(want, TOLERANCE);
    }
    return rendered;
  }

  it('the page has a WebGPU adapter (SwiftShader here)', (ctx) => {
    if (!webgpu.ok) ctx.skip();
    expect(webgpu.ok).toBe(true);
  });

  it('x·W + b, relu at small-tile edges: M, N in 1…9, odd K, split-K off and 3, workgroup tiles and registers only', async (ctx) => {
    if (!webgpu.ok) ctx.skip();
    let seed = 1;
    for (const K of [1, 5, 9]) {
      for (const N of [1, 8, 9]) {
        for (const M of [1, 7, 9]) {
          await check(denseKernel(K, N), bothShaders([{ ...SMALL, splitK: 1 }, { ...SMALL, splitK: 3 }]), M, seed++, `dense K=${K} N=${N} M=${M}`);
        }
      }
    }
  }, 300_000);

  it('x·Wᵀ and the weight gradient xᵀ·dy (sum over the batch) at small-tile edges', async (ctx) => {
    if (!webgpu.ok) ctx.skip();
    let seed = 100;
    for (const [K, N] of [[3, 9], [8, 1], [9, 8]]) {
      for (const M of [1, 8, 9]) {
        const splits = bothShaders([{ ...SMALL, splitK: 1 }, { ...SMALL, splitK: 2 }]);
        await check(denseKernel(K, N, true), splits, M, seed++, `x·Wᵀ K=${K} N=${N} M=${M}`);
        // Here the batch is the reduction: K = M.
        await check(weightGradKernel(K, N), splits, M, seed++, `xᵀ·dy ${K}×${N} batch ${M}`);
      }
    }
  }, 300_000);

  it('default 64 × 64 × 16 tiles at their edges: M, N in {1, 64, 65}, K = 17 and 33, split-K off and 2', async (ctx) => {
    if (!webgpu.ok) ctx.skip();
    let seed = 200;
    for (const K of [17, 33]) {
      for (const N of [1, 64, 65]) {
        for (const M of [1, 64, 65]) {
          await check(denseKernel(K, N), bothShaders([{ splitK: 1 }, { splitK: 2 }]), M, seed++, `dense K=${K} N=${N} M=${M}`);
        }
      }
    }
  }, 300_000);

  for (const name of EXAMPLES) it(`${name}: every kernel the renderer takes, inference and training, batch 1 and 3, split-K as chosen and the other way`, async (ctx) => {
    if (!webgpu.ok) ctx.skip();
    const { inference, training } = await exampleKernels(name);
    const rendered = [...inference, ...training].filter((k) => renderWgslKernel(k));
    expect(rendered.length).toBeGreaterThan(0);
    // A training step recomputes the forward kernels, and examples share layers: each distinct kernel once.
    const taken = rendered.filter((k) => {
      const key = `${exprKey(k.expr)}|${k.inputs.map((t) => t.shape.join('x')).join(';')}`;
      return !checked.has(key) && !!checked.add(key);
    });
    let seed = 1000;
    for (const k of taken) {
      const auto = renderWgslKernel(k)!;
      // Split-K as chosen, and the other way: off where it is on, 3 slices where it is off (forcing
      // it found cifar-cnn's 8.4 M-output split-K pass over WebGPU's 65,535 workgroups per axis).
      // The workgroup-tiles shader, which emitted modules do not use, is checked at the tile edges above.
      const variants: WgslOptions[] = [{}, { splitK: auto.scratch ? 1 : 3 }];
      await check(k, variants.slice(0, 1), 1, seed++, `${name} ${k.name} ${k.ops.join('→')} batch 1`);
      await check(k, variants, 3, seed++, `${name} ${k.name} ${k.ops.join('→')} batch 3`);
    }
  }, 600_000);

  for (const name of MEASURED) {
    it(`${name} on WebGPU at batch 64: the rendered kernels through the module's WGSL seam give GPU.js's predictions; times compared`, async (ctx) => {
      if (!webgpu.ok) ctx.skip();
      const { graph } = await loadModel(path.join(ROOT, 'examples', `${name}.ts`));
      const kernels = compileGraph(graph).program.kernels;
      // The overrides as the module's wgslKernels table would hold them (override.ts), made in the page.
      const table = (o: WgslOptions) => Object.fromEntries(kernels.flatMap((k) => (renderWgslKernel(k, o) ? [[k.name, overrideSource(renderWgslKernel(k, o)!)]] : [])));
      const variants = [table({ workgroupTiles: true }), table({ workgroupTiles: false })];
      const batch = 64;
      const x = Float32Array.from(inputsFor({ inputs: [graph.inputs[0].type] } as unknown as Kernel, batch, 5)[0], (v) => (v + 1) / 2);
      const r = await page.evaluate(([n, w, xx, b, v]) => (globalThis as any).wgslCompare(n, w, xx, b, v, 3), [name, Buffer.from(weights.get(name)!).toString('base64'), b64(x), batch, variants] as const);
      expect(r.backends).toEqual(['webgpu', 'webgpu', 'webgpu']);
      for (const out of r.outs.slice(1)) expect(fromB64(out)).toBeAllclose(fromB64(r.outs[0]), TOLERANCE);
      const [gpujs, tiles, registers] = r.ms as number[];
      console.log(
        `[wgsl] ${name} batch ${batch} predictAsync on ${webgpu.architecture} (${Object.keys(variants[0]).join(', ')} rendered): GPU.js kernels ${gpujs.toFixed(1)} ms; ` +
          `workgroup tiles ${tiles.toFixed(1)} ms (${(gpujs / tiles).toFixed(2)}×); registers only ${registers.toFixed(1)} ms (${(gpujs / registers).toFixed(2)}×)`,
      );
    }, 300_000);
  }
});

/** Each geometry with workgroup tiles and with registers only. */
const bothShaders = (gs: readonly WgslOptions[]): WgslOptions[] => gs.flatMap((g) => [{ ...g, workgroupTiles: true }, { ...g, workgroupTiles: false }]);

/** Examples measured with and without the rendered kernels. */
const MEASURED = ['mlp256', 'cnn'];
const stem = (name: string) => name.replace(/-/g, '_');

/** `n` distinct random positions below `total` (all of them when there are fewer), ascending. */
function sample(total: number, seed: number): number[] {
  if (total <= SAMPLE) return Array.from({ length: total }, (_, i) => i);
  const r = random(seed);
  const picked = new Set<number>([0, total - 1]);
  while (picked.size < SAMPLE) picked.add(Math.floor(r() * total));
  return [...picked].sort((a, b) => a - b);
}
