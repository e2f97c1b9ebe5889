// Bundling for the browser with esbuild: an entry (a page script importing emitted modules) and
// everything it imports, Kiln's runtime and GPU.js's browser build included, as one script.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '../../runtime/atomic-write.ts';
import { importOptional, resolveOptional } from '../../runtime/optional-package.ts';

const HERE = fileURLToPath(import.meta.url);

/** Where `runtime/` lives: the repository root from the sources, `dist/` when compiled (same layout below). */
const ROOT = path.resolve(path.dirname(HERE), '..', '..');

/** `.ts` when Kiln runs from its sources, `.js` when compiled: the runtime's files have the same extension. */
const EXT = path.extname(HERE);

/** `kiln/runtime`, `/inference` and `/gpujs` resolved to the runtime's own files, whichever Kiln runs from. */
const RUNTIME_ENTRIES: Record<string, string> = {
  'kiln/runtime': path.join(ROOT, 'runtime', `index${EXT}`),
  'kiln/runtime/inference': path.join(ROOT, 'runtime', `inference${EXT}`),
  'kiln/runtime/gpujs': path.join(ROOT, 'runtime', `gpujs${EXT}`),
};

/** Bundles `entry` into one browser script at `outfile` (ES2022, with a source map); `aliases` map bare imports to files. */
export async function bundleForBrowser(entry: string, outfile: string, options: { minify?: boolean; aliases?: Record<string, string> } = {}): Promise<void> {
  const files = { ...RUNTIME_ENTRIES, ...options.aliases };
  // Loaded here, not at start-up: only the browser commands bundle. The page's runtime is GPU.js's.
  const { build } = await importOptional<typeof import('esbuild')>('esbuild', 'bundling for the browser');
  resolveOptional('gpu.js', 'bundling for the browser (GPU.js runs the kernels)');
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
