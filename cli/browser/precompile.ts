// `kiln precompile`: exports a GPU.js module's kernels with their shaders, from WebGL2 in headless
// Chromium, so that pages using them skip GPU.js's JavaScript → GLSL translation at that batch size.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { checkWritableFile, ensureFolderSync, writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { importOptional } from '../../runtime/optional-package.ts';
import { KilnError } from '../../src/ir/errors.ts';
import { bundleForBrowser } from './bundle.ts';
import { CHROMIUM_ARGS, findChromium } from './chromium.ts';
import { serveFolder } from './serve.ts';

/** Writes `<module>.webgl2.b<batch>.json` beside the module; returns its path. */
export async function precompileCommand(modulePath: string, o: { batch: number; out?: string }): Promise<string> {
  if (!Number.isInteger(o.batch) || o.batch < 1) throw new KilnError(`--batch must be a positive integer, got ${o.batch}`);
  const executablePath = findChromium();
  if (!executablePath) throw new KilnError('kiln precompile needs Chromium (Debian: apt-get install chromium libegl-mesa0 libgl1-mesa-dri libgbm1; or set KILN_CHROMIUM)');
  // playwright-core is optional (only this command drives a browser): loaded when it runs.
  const { chromium } = await importOptional<typeof import('playwright-core')>('playwright-core', 'kiln precompile');
  const module = path.resolve(modulePath);
  const out = o.out ?? module.replace(/\.m?[jt]s$/, `.webgl2.b${o.batch}.json`);
  checkWritableFile(out);
  const work = path.join(path.dirname(module), '.precompile');
  ensureFolderSync(work);
  const entry = path.join(work, 'entry.ts');
  writeFileAtomicSync(
    entry,
    [
      `import * as m from ${JSON.stringify(module)};`,
      `if (m.backend !== 'gpujs') throw new Error('not a module compiled with --backend gpujs');`,
      `(globalThis as any).exportKernels = (batch: number) => {`,
      `  const model = m.createModel(undefined, { mode: 'webgl2' });`,
      `  try { return model.exportKernels(batch); } finally { model.destroy(); }`,
      `};`,
    ].join('\n'),
  );
  await bundleForBrowser(entry, path.join(work, 'page.js'));
  writeFileAtomicSync(path.join(work, 'index.html'), '<!doctype html><meta charset="utf-8"><script src="page.js"></script>');
  const server = await serveFolder(work);
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    const kernels = await page.evaluate((b) => (globalThis as unknown as { exportKernels(b: number): unknown }).exportKernels(b), o.batch);
    writeFileAtomicSync(out, JSON.stringify(kernels));
    return out;
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}
