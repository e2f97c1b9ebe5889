// Node module hooks for a user's model file: TypeScript turned into JavaScript (esbuild), ES
// syntax run as an ES module whatever the folder's package.json says, and `kiln` resolved to the
// CLI's own copy, so that the model's layers land in the same DSL state the CLI reads.
import { createRequire, register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** This file's extension: `.ts` when Kiln runs from source (tsx, vitest), `.js` when compiled. */
const OWN_EXT = path.extname(fileURLToPath(import.meta.url));

/** Kiln's package root (above cli/, or above dist/cli/ when compiled): its files are not the user's. */
const OWN_ROOT = fileURLToPath(new URL(OWN_EXT === '.js' ? '../../' : '../', import.meta.url));

/**
 * The hooks, as plain JavaScript registered from a data: URL: the hooks thread must load them
 * without a TypeScript loader, from source or compiled alike.
 *
 * resolve: `kiln` → the CLI's own entry (one module instance: the DSL builds graphs in module
 * state); `kiln/…` → resolved from the CLI's package; a relative `./x.js` or `./x` that only
 * exists as `./x.ts` → that file (TypeScript's NodeNext style).
 * load: a user's `.ts`/`.mts`/`.tsx`/`.jsx`, and a `.js` with import/export → esbuild's ES module
 * with an inline source map (stack frames and layer lines point into the user's file), an ES
 * module even in a CommonJS folder. `.mjs` (always an ES module: emitted modules that `kiln train`
 * imports are left as they are), `.cts`/`.cjs`, CommonJS `.js`, node_modules and Kiln's own files
 * go on to Node (or to tsx, when Kiln itself runs from source).
 */
const HOOKS = String.raw`
import { readFile } from 'node:fs/promises';
let opts;
let esbuild;
export function initialize(data) { opts = data; }
const TS = /\.(ts|mts|tsx|jsx)$/;
const JS = /\.js$/;
const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;
const isUsers = (url) => url.startsWith('file:') && !url.includes('/node_modules/') && !opts.ownFolders.some((f) => url.startsWith(f));
// A compiled Kiln reads its own sources from dist/: a model that imports Kiln's .ts files by path
// (a checkout's tests and examples do) gets the compiled copy, the one instance the CLI reads.
const compiledOwn = (r) => {
  if (!opts.compiledRoot || !r.url.startsWith(opts.root) || !r.url.endsWith('.ts')) return r;
  const rel = r.url.slice(opts.root.length);
  return /^(src|compiler|runtime|cli)\//.test(rel) ? { ...r, url: opts.compiledRoot + rel.replace(/\.ts$/, '.js'), format: 'module' } : r;
};
export async function resolve(specifier, context, next) {
  if (specifier === 'kiln') return next(opts.kiln, context);
  if (specifier.startsWith('kiln/')) return next(specifier, { ...context, parentURL: opts.parent });
  try {
    return compiledOwn(await next(specifier, context));
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !/^\.\.?\//.test(specifier) || !context.parentURL || !isUsers(context.parentURL)) throw e;
    for (const alt of [specifier.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts').replace(/\.jsx$/, '.tsx'), specifier + '.ts', specifier + '.js']) {
      if (alt === specifier) continue;
      try { return await next(alt, context); } catch {}
    }
    throw e;
  }
}
export async function load(url, context, next) {
  if (!isUsers(url) || !(TS.test(url) || JS.test(url))) return next(url, context);
  const file = new URL(url);
  const source = await readFile(file, 'utf8');
  if (!TS.test(url) && !ESM_SYNTAX.test(source)) return next(url, context);
  // JavaScript goes through esbuild too: its syntax errors carry file:line:column, V8's do not.
  esbuild ??= await import(opts.esbuild);
  const transform = esbuild.transform ?? esbuild.default.transform;
  const path = decodeURIComponent(file.pathname);
  const loader = url.endsWith('.tsx') ? 'tsx' : url.endsWith('.jsx') ? 'jsx' : JS.test(url) ? 'js' : 'ts';
  const out = await transform(source, { loader, format: 'esm', sourcemap: 'inline', sourcefile: path, target: 'node20' });
  return { format: 'module', source: out.code, shortCircuit: true };
}
`;

let registered = false;

/** Registers the hooks once per process (later model loads reuse them). */
export function registerModelHooks(): void {
  if (registered) return;
  registered = true;
  process.setSourceMapsEnabled(true);
  const ownFolders = ['cli', 'src', 'compiler', 'runtime', 'dist', 'node_modules'].map((d) => pathToFileURL(path.join(OWN_ROOT, d)).href + '/');
  const data = {
    kiln: new URL(`../api/index${OWN_EXT}`, import.meta.url).href,
    root: pathToFileURL(OWN_ROOT).href,
    compiledRoot: OWN_EXT === '.js' ? pathToFileURL(path.join(OWN_ROOT, 'dist')).href + '/' : null,
    parent: import.meta.url,
    esbuild: pathToFileURL(createRequire(import.meta.url).resolve('esbuild')).href,
    ownFolders,
  };
  register(`data:text/javascript,${encodeURIComponent(HOOKS)}`, { data });
}
