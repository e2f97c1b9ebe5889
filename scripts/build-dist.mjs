// The package build after `tsc -b tsconfig.build.json`: copies the CLI's static assets, and bundles
// the runtime entries that emitted modules import (`kiln/runtime`, `kiln/runtime/node`,
// `kiln/runtime/gpujs`) into dist/runtime/bundle/. Node's ES-module loader costs about half a
// millisecond per file: the runtime is some 25 files, most of an application's time from import
// to first prediction (bench/startup.md). Bundled with code splitting, each entry is one file plus
// the chunks it shares with the others, so a module and the application that uses it through
// `kiln/runtime/node` still share one copy of the runtime. The .d.ts files stay those of dist/runtime.
import { cpSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

for (const f of ['browser/demo.html', 'report/page.js', 'report/graph-view.js', 'report/page.css']) cpSync(`cli/${f}`, `dist/cli/${f}`);

const outdir = 'dist/runtime/bundle';
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { index: 'runtime/index.ts', 'index-node': 'runtime/index-node.ts', node: 'runtime/node.ts', gpujs: 'runtime/gpujs.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  // Node's built-ins and the optional peer gpu.js are imported, not bundled.
  external: ['node:*', 'gpu.js'],
  chunkNames: 'chunks/[name]-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
