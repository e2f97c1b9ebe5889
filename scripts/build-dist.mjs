// The package build after `tsc -b tsconfig.build.json`: copies the CLI's static assets, and bundles
// the runtime entries that emitted modules import (`kiln/runtime`, `kiln/runtime/node`,
// `kiln/runtime/gpujs`) into dist/runtime/bundle/. Node's ES-module loader costs about a
// millisecond per file (bench/startup.md), and the runtime is some 30: each entry is one file.
// `kiln/runtime/node` bundles only its own modules and imports the rest from `kiln/runtime`'s
// Node entry, so that a module and the application that uses it through `kiln/runtime/node` share
// one copy of the runtime (its classes, its CRC-32, its weight-file reader). The browser's copy is
// never loaded beside them (the "node" condition picks the Node entry). The .d.ts files stay
// those of dist/runtime.
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

for (const f of ['browser/demo.html', 'report/page.js', 'report/graph-view.js', 'report/page.css']) cpSync(`cli/${f}`, `dist/cli/${f}`);

const outdir = 'dist/runtime/bundle';
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
await build({ ...common, entryPoints: { index: 'runtime/index.ts', gpujs: 'runtime/gpujs.ts' } });
const nodeIndex = await build({ ...common, entryPoints: { 'index-node': 'runtime/index-node.ts' }, metafile: true });
const shared = new Set(Object.keys(nodeIndex.metafile.inputs).map((f) => path.resolve(f)));
/** Every import of a module that is in index-node.js becomes an import of index-node.js. */
const sharedRuntime = {
  name: 'shared-runtime',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => (shared.has(path.resolve(args.resolveDir, args.path)) ? { path: './index-node.js', external: true } : undefined));
  },
};
await build({ ...common, entryPoints: { node: 'runtime/node.ts' }, plugins: [sharedRuntime] });
// Node links node.js against index-node.js here: a name index-node.ts does not export fails the
// build, not an application.
await import(pathToFileURL(path.join(outdir, 'node.js')).href);
