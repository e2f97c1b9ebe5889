// Bundling for the browser with esbuild: an entry (a page script importing emitted modules) and
// everything it imports, Kiln's runtime and GPU.js's browser build included, as one script.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../../runtime/atomic-write.ts';

/** The repository root, where `runtime/` lives. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `kiln/runtime` and `kiln/runtime/gpujs` resolved to the runtime's sources (no build step needed). */
const RUNTIME_ENTRIES: Record<string, string> = {
  'kiln/runtime': path.join(ROOT, 'runtime', 'index.ts'),
  'kiln/runtime/gpujs': path.join(ROOT, 'runtime', 'gpujs.ts'),
};

/** Bundles `entry` into one browser script at `outfile` (ES2022, with a source map); `aliases` map bare imports to files. */
export async function bundleForBrowser(entry: string, outfile: string, options: { minify?: boolean; aliases?: Record<string, string> } = {}): Promise<void> {
  const files = { ...RUNTIME_ENTRIES, ...options.aliases };
  // esbuild hands the script and its map back (write: false): they are written atomically like every file Kiln writes.
  const result = await build({
    entryPoints: [entry],
    outfile,
    write: false,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: options.minify ?? false,
    logLevel: 'warning',
    plugins: [
      {
        name: 'kiln-aliases',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => (Object.hasOwn(files, args.path) ? { path: files[args.path] } : undefined));
        },
      },
    ],
  });
  for (const file of result.outputFiles) writeFileAtomicSync(file.path, file.contents);
}
