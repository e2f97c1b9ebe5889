// The package build after `tsc -b tsconfig.build.json`: copies the CLI's static assets, and bundles
// the runtime entries that emitted modules import (`kiln/runtime/inference`, `kiln/runtime`,
// `kiln/runtime/node`, `kiln/runtime/gpujs`) into dist/runtime/bundle/. Node's ES-module loader
// costs about a millisecond per file and parses every byte of it (bench/startup.md), and the
// runtime is some 30 files: each entry is one file, and layered so that an application loads one
// copy of each module (its classes, its CRC-32, its weight-file reader) whichever entries it
// imports. inference.js (what an inference-only module imports: no training code) is the base;
// index.js and index-node.js (`kiln/runtime` in browsers and in Node) import what they share with
// it from it; node.js (`kiln/runtime/node`) imports the rest of what it shares with index-node.js
// from that. The browser's index.js is never loaded beside index-node.js (the "node" condition
// picks the Node entry). gpujs.js stands alone. The .d.ts files stay those of dist/runtime.
// The bundles are built in a staging folder and renamed into place file by file, so that a test
// suite running beside a rebuild (test/package/pack.test.ts builds first) never finds them missing.
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

for (const f of ['browser/demo.html', 'report/page.js', 'report/graph-view.js', 'report/page.css']) cpSync(`cli/${f}`, `dist/cli/${f}`);

const target = 'dist/runtime/bundle';
const outdir = `${target}.next`;
rmSync(outdir, { recursive: true, force: true });
const common = {
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  // Node's built-ins and the optional peer gpu.js are imported, not bundled.
  external: ['node:*', 'gpu.js'],
  legalComments: 'none',
  logLevel: 'warning',
};
/** The absolute paths of the modules an esbuild metafile says were bundled. */
const inputsOf = (result) => new Set(Object.keys(result.metafile.inputs).map((f) => path.resolve(f)));

/** Every import of a module in `files` becomes an import of the bundle `target` (which exports its names). */
const importFrom = (files, target) => ({
  name: `import-from-${target}`,
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => (files.has(path.resolve(args.resolveDir, args.path)) ? { path: `./${target}`, external: true } : undefined));
  },
});

// 1. inference.js: runtime/inference.ts, and every export of each module it bundles, so that the
// entries above it can import from it whatever their own modules import from those (names
// runtime/inference.ts does not export are not part of its types).
const inference = inputsOf(await build({ ...common, entryPoints: { inference: 'runtime/inference.ts' }, write: false, metafile: true }));
const modules = [...inference].filter((f) => f.endsWith('.ts'));
await build({
  ...common,
  stdin: { contents: modules.map((f) => `export * from ${JSON.stringify(f)};`).join('\n'), resolveDir: process.cwd(), sourcefile: 'inference-entry.ts', loader: 'ts' },
  outdir: undefined,
  outfile: `${outdir}/inference.js`,
});
// 2. kiln/runtime (browser, Node) over it, and gpujs.js alone.
await build({ ...common, entryPoints: { index: 'runtime/index.ts' }, plugins: [importFrom(inference, 'inference.js')] });
await build({ ...common, entryPoints: { gpujs: 'runtime/gpujs.ts' } });
const nodeIndex = inputsOf(await build({ ...common, entryPoints: { 'index-node': 'runtime/index-node.ts' }, metafile: true, plugins: [importFrom(inference, 'inference.js')] }));
// 3. kiln/runtime/node over both.
const shared = {
  name: 'shared-runtime',
  setup(b) {
    importFrom(inference, 'inference.js').setup(b);
    importFrom(nodeIndex, 'index-node.js').setup(b);
  },
};
await build({ ...common, entryPoints: { node: 'runtime/node.ts' }, plugins: [shared] });
// Node links each entry against the bundles it imports here: a name one of them does not export
// fails the build, not an application.
for (const entry of ['inference.js', 'index.js', 'index-node.js', 'node.js']) await import(pathToFileURL(path.join(outdir, entry)).href);

// Into place: each file by a rename (atomic), the base bundle first; then files no longer built go.
mkdirSync(target, { recursive: true });
const built = readdirSync(outdir).sort((a, b) => Number(b === 'inference.js') - Number(a === 'inference.js'));
for (const f of built) renameSync(path.join(outdir, f), path.join(target, f));
for (const f of readdirSync(target)) if (!built.includes(f)) rmSync(path.join(target, f), { recursive: true, force: true });
rmSync(outdir, { recursive: true, force: true });
