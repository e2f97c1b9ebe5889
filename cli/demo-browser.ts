// `npm run demo:browser`: builds a static page that trains the compiled MNIST CNN on WebGPU (WebGL2
// where the browser has no WebGPU) and classifies digits drawn on a canvas, then serves it on 127.0.0.1.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileModel } from '../compiler/compile.ts';
import { ensureFolderSync, writeFileAtomicSync } from '../runtime/atomic-write.ts';
import { loadMnist } from '../runtime/mnist.ts';
import { KilnError } from '../src/ir/errors.ts';
import { fileStem } from './names.ts';
import { loadModel } from './load.ts';
import { resolveLoss, resolveOptimizer } from './training-spec.ts';
import { bundleForBrowser } from './browser/bundle.ts';
import { serveFolder, type StaticServer } from './browser/serve.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** `.ts` from the sources, `.js` compiled (dist/cli/, where the build copies demo.html too). */
const EXT = path.extname(fileURLToPath(import.meta.url));
/** The package root, where examples/ lives: above cli/, or above dist/cli/ when compiled. */
const PACKAGE_ROOT = path.resolve(HERE, EXT === '.js' ? '../..' : '..');

export interface DemoBuildOptions {
  /** Output folder: the compiled module under `model/`, the page under `site/`. */
  out: string;
  model?: string;
  /** MNIST images shipped to the page for training and for the test accuracy. */
  trainImages?: number;
  testImages?: number;
}

/** MNIST images as one file: `count` rows of 784 grey bytes, then `count` label bytes. */
function mnistFile(split: 'train' | 'test', limit: number): Uint8Array {
  const { images, labels, count } = loadMnist(split, { limit });
  const bytes = new Uint8Array(count * 785);
  for (let i = 0; i < count * 784; i++) bytes[i] = Math.round(images[i] * 255);
  bytes.set(labels, count * 784);
  return bytes;
}

/** Compiles the model for GPU.js with training and writes the static site; returns its folder. */
export async function buildBrowserDemo(o: DemoBuildOptions): Promise<string> {
  const { graph, weights } = await loadModel(o.model ?? path.join(PACKAGE_ROOT, 'examples', 'cnn.ts'));
  const training = { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) };
  const compiled = compileModel(graph, { backend: 'gpujs', training, seed: 0, initialWeights: weights, sourceName: 'examples/cnn.ts' });
  const modelDir = path.join(o.out, 'model');
  const site = path.join(o.out, 'site');
  ensureFolderSync(modelDir);
  ensureFolderSync(site);
  const modelFile = path.resolve(modelDir, `${fileStem(compiled.name)}.ts`);
  writeFileAtomicSync(modelFile, compiled.ts);
  writeFileAtomicSync(path.join(site, 'mnist-train.bin'), mnistFile('train', o.trainImages ?? 12_000));
  writeFileAtomicSync(path.join(site, 'mnist-test.bin'), mnistFile('test', o.testImages ?? 2_000));
  writeFileAtomicSync(path.join(site, 'index.html'), readFileSync(path.join(HERE, 'browser', 'demo.html')));
  await bundleForBrowser(path.join(HERE, 'browser', `demo-page${EXT}`), path.join(site, 'demo.js'), { aliases: { 'kiln-demo-model': modelFile }, minify: true });
  return site;
}

/** Builds the demo and serves it until the process is stopped. */
export async function demoBrowserCommand(o: { out: string; port: number; buildOnly?: boolean }, print: (s: string) => void): Promise<StaticServer | undefined> {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new KilnError(`--port must be an integer from 0 to 65535, got ${o.port}`);
  if (o.buildOnly) {
    print(`built the browser demo in ${await buildBrowserDemo({ out: o.out })}`);
    return undefined;
  }
  // The port is taken before the build (a minute of work), so that a port in use fails at once.
  const site = path.join(o.out, 'site');
  ensureFolderSync(site);
  const server = await serveFolder(site, o.port);
  try {
    await buildBrowserDemo({ out: o.out });
  } catch (e) {
    await server.close();
    throw e;
  }
  print(`built the browser demo in ${site}`);
  print(`serving on ${server.url}  (open it in a browser with WebGPU or WebGL2; Ctrl-C stops)`);
  return server;
}
