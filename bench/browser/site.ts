// Builds the benchmark's site: Kiln's modules compiled for both backends, one bundled script and
// page per engine (Kiln, tfjs, onnxruntime-web, jax-js; esbuild through cli/browser/bundle.ts),
// the peers' WebAssembly files copied beside them (the page reaches no network), and the data.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser } from '../../cli/browser/bundle.ts';
import { compileModel } from '../../compiler/compile.ts';
import { input, matmul, model as functionalModel } from '../../src/index.ts';
import type { Model } from '../../src/dsl/model.ts';
import { writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { writeSharedData, type SharedData } from './data.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
const PEERS = path.join(ROOT, 'bench', 'node_modules');

/** The pages: each bundles one engine file of bench/browser/page/ (the variant comes in the URL). */
export const PAGES = ['kiln', 'tfjs', 'ort', 'jax'] as const;
export type PageName = (typeof PAGES)[number];

/** Compiles the MLP, the CNN (both with an Adam step) and the matmuls for `backend` into `dir`. */
function compileKiln(dir: string, backend: 'js' | 'gpujs', models: Record<string, Model>): string[] {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  for (const [name, m] of Object.entries(models)) {
    const training = name.startsWith('mm') ? {} : { training: { loss: { kind: 'sparseCategoricalCrossEntropy', fromLogits: m.graph.outputs[0].node.op !== 'softmax' }, optimizer: { kind: 'adam', lr: 1e-3 } } };
    const compiled = compileModel(m.graph, { seed: 1, backend, ...training } as Parameters<typeof compileModel>[1]);
    writeFileAtomicSync(path.join(dir, `${name}.mjs`), compiled.js);
    names.push(name);
  }
  return names;
}

/** The Kiln page's entry: both backends' modules, handed to bench/browser/page/kiln.ts. */
function kilnEntry(src: string, names: string[]): string {
  const id = (backend: string, name: string) => `${backend}_${name}`;
  const lines = [`import { run } from ${JSON.stringify(path.join(HERE, 'page', 'kiln.ts'))};`];
  for (const b of ['js', 'gpujs']) for (const n of names) lines.push(`import * as ${id(b, n)} from ${JSON.stringify(path.join(src, b, `${n}.mjs`))};`);
  const table = (b: string) => `{ ${names.map((n) => `${JSON.stringify(n)}: ${id(b, n)}`).join(', ')} }`;
  lines.push(`run({ js: ${table('js')}, gpujs: ${table('gpujs')} } as never);`);
  const file = path.join(src, 'kiln-entry.ts');
  writeFileAtomicSync(file, lines.join('\n') + '\n');
  return file;
}

/** Copies the files of `from` whose names match into `to` (the peers load them by URL). */
function copyFiles(from: string, to: string, match: RegExp): void {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (match.test(f)) writeFileAtomicSync(path.join(to, f), readFileSync(path.join(from, f)));
}

/** Builds everything under `site` (emptied first); returns the shared data's description. */
export async function buildSite(site: string, sizes: readonly number[], log: (s: string) => void): Promise<SharedData> {
  rmSync(site, { recursive: true, force: true });
  const src = path.join(site, '..', 'src');
  const data = writeSharedData(site, sizes);
  const models: Record<string, Model> = {
    mlp: (await import('../models/mlp.ts')).default as Model,
    cnn: (await import('../../examples/cnn.ts')).default as Model,
  };
  for (const n of sizes) {
    const a = input([n, n], { batched: false, name: 'a' });
    const b = input([n, n], { batched: false, name: 'b' });
    models[`mm${n}`] = functionalModel({ name: `mm${n}`, inputs: [a, b], outputs: { c: matmul(a, b) } });
  }
  let t = performance.now();
  compileKiln(path.join(src, 'js'), 'js', models);
  const names = compileKiln(path.join(src, 'gpujs'), 'gpujs', models); // the weights reach Kiln at run time, by name
  log(`compiled Kiln's modules in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const entries: Record<PageName, string> = {
    kiln: kilnEntry(src, names),
    tfjs: path.join(HERE, 'page', 'tfjs.ts'),
    ort: path.join(HERE, 'page', 'ort.ts'),
    jax: path.join(HERE, 'page', 'jax.ts'),
  };
  for (const page of PAGES) {
    await bundleForBrowser(entries[page], path.join(site, `${page}.js`), { minify: true });
    writeFileAtomicSync(path.join(site, `${page}.html`), `<!doctype html><meta charset="utf-8"><title>kiln bench: ${page}</title><script src="${page}.js"></script>\n`);
  }
  // A page with no script, where the driver asks the browser about its GPU.
  writeFileAtomicSync(path.join(site, 'probe.html'), '<!doctype html><meta charset="utf-8"><title>probe</title>\n');
  copyFiles(path.join(PEERS, '@tensorflow', 'tfjs-backend-wasm', 'dist'), path.join(site, 'wasm', 'tfjs'), /\.wasm$/);
  copyFiles(path.join(PEERS, 'onnxruntime-web', 'dist'), path.join(site, 'wasm', 'ort'), /^ort-wasm-.*\.(wasm|mjs)$/);
  log(`bundled the pages in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return data;
}

/** What --prepare leaves beside a built site, so that a machine without the peers can time it. */
export interface PreparedSite extends Pick<SharedData, 'tensors' | 'paramKeys'> { sizes: number[]; versions: Record<string, string> }

/** A peer package's installed version (bench/node_modules). */
export function peerVersion(pkg: string): string {
  return JSON.parse(readFileSync(path.join(PEERS, pkg, 'package.json'), 'utf8')).version;
}
