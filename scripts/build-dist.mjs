// The package build after `tsc -b tsconfig.build.json`: copies the CLI's static assets, and bundles
// the runtime entries that emitted modules import (`kiln/runtime`, `kiln/runtime/node`,
// `kiln/runtime/gpujs`) into dist/runtime/bundle/. Node's ES-module loader costs about half a
// millisecond per file: the runtime is some 25 files, most of an application's time from import
// to first prediction (bench/startup.md). The browser entry is one file. The Node entries are
// bundled together with code splitting: `kiln/runtime` in Node is its entry and one chunk, which
// `kiln/runtime/node` shares, so a module and the application that uses it through
// `kiln/runtime/node` share one copy of the runtime (its classes, its CRC-32 and file reader).
// The browser's copy is never loaded beside them (the "node" condition picks the Node entry).
// The .d.ts files stay those of dist/runtime.
import { cpSync, rmSync } from 'node:fs';
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
await build({ ...common, entryPoints: { 'index-node': 'runtime/index-node.ts', node: 'runtime/node.ts' }, splitting: true, chunkNames: 'chunks/[name]-[hash]' });
