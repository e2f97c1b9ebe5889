// `--standalone`: an emitted module that imports nothing (a GPU.js one: only `gpu.js`), so an
// application ships it without installing Kiln. esbuild bundles the runtime functions the module
// calls into it, tree-shaken, at compile time; its declarations get the runtime types copied in.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveOptional } from '../../runtime/optional-package.ts';
import { KilnError } from '../../src/ir/errors.ts';
import type { Backend, EmittedModule } from './common.ts';
import { inlineRuntimeTypes } from './runtime-types.ts';
import { typescript } from './typescript.ts';

type Esbuild = typeof import('esbuild');

/** The runtime entries an emitted module may import (`kiln/runtime/node` only for types; an inference-only module `kiln/runtime/inference`). */
const RUNTIME_ENTRIES = ['kiln/runtime', 'kiln/runtime/inference', 'kiln/runtime/node', 'kiln/runtime/gpujs'] as const;

/** The one package a standalone GPU.js module still imports: GPU.js itself, which the application installs. */
const KEPT_IMPORTS: Readonly<Record<Backend, readonly string[]>> = { js: [], gpujs: ['gpu.js'] };

/** esbuild, loaded only when a standalone module is asked for (an optional package: nothing else here needs it). */
function loadEsbuild(): Esbuild {
  return createRequire(import.meta.url)(resolveOptional('esbuild', 'kiln compile --standalone')) as Esbuild;
}

/** Kiln's package folder (the nearest above this file whose package.json is named kiln) and that package.json's exports. */
function kilnPackage(): { root: string; exports: Record<string, Record<string, string>> } {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; exports?: Record<string, Record<string, string>> };
      if (pkg.name === 'kiln' && pkg.exports) return { root: dir, exports: pkg.exports };
    }
    if (path.dirname(dir) === dir) throw new KilnError("internal: --standalone found no Kiln package.json above the compiler");
  }
}

/** The file a runtime entry resolves to under `condition` (`default`: the browser-safe JavaScript; `types`). */
function entryFile(pkg: ReturnType<typeof kilnPackage>, entry: string, condition: 'default' | 'types'): string {
  const target = pkg.exports[`.${entry.slice('kiln'.length)}`]?.[condition];
  if (!target) throw new KilnError(`internal: Kiln's package.json exports no '${entry}' (${condition})`);
  const file = path.join(pkg.root, target);
  if (!existsSync(file)) throw new KilnError(`--standalone needs Kiln's built runtime (${path.relative(pkg.root, file)} is missing: run npm run build in ${pkg.root})`);
  return file;
}

/** The module's header comment with a line saying it is standalone. */
function standaloneHeader(js: string, backend: Backend): string {
  const header = /^\/\*\*[\s\S]*?\*\//.exec(js)?.[0] ?? '/**\n */';
  const imports = KEPT_IMPORTS[backend];
  const line = ` * Standalone: the runtime functions it calls are bundled in; it imports ${imports.length ? imports.join(', ') + ' only' : 'nothing'}.`;
  return header.replace(/\n \*\/$/, `\n${line}\n */`);
}

/** The JavaScript with the runtime bundled in (tree-shaken: only what the module calls). */
function bundle(js: string, backend: Backend, pkg: ReturnType<typeof kilnPackage>): string {
  const esbuild = loadEsbuild();
  const alias = Object.fromEntries(RUNTIME_ENTRIES.map((e) => [e, entryFile(pkg, e, 'default')]));
  const result = esbuild.buildSync({
    stdin: { contents: js, loader: 'js', resolveDir: pkg.root, sourcefile: 'model.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    alias,
    external: [...KEPT_IMPORTS[backend]],
    banner: { js: standaloneHeader(js, backend) },
    legalComments: 'none',
    charset: 'utf8',
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

/** The declarations with every runtime type they import copied in, and the runtime type re-exports made local. */
function standaloneDeclarations(dts: string, pkg: ReturnType<typeof kilnPackage>): string {
  const ts = typescript();
  const sf = ts.createSourceFile('model.d.mts', dts, ts.ScriptTarget.ES2022, true);
  const roots: { from: string; name: string }[] = [];
  const reexported: string[] = [];
  const kept: string[] = [];
  for (const s of sf.statements) {
    const spec = (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) && s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier) ? s.moduleSpecifier.text : undefined;
    if (spec === undefined || !(RUNTIME_ENTRIES as readonly string[]).includes(spec)) {
      kept.push(dts.slice(s.getStart(sf, true), s.getEnd()));
      continue;
    }
    const from = entryFile(pkg, spec, 'types');
    const bindings = ts.isImportDeclaration(s) ? s.importClause?.namedBindings : ts.isExportDeclaration(s) ? s.exportClause : undefined;
    const elements = bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings)) ? bindings.elements : [];
    for (const e of elements) {
      if (e.propertyName) throw new KilnError(`internal: the module renames the runtime's '${e.propertyName.text}'; standalone declarations keep names`);
      roots.push({ from, name: e.name.text });
      if (ts.isExportDeclaration(s)) reexported.push(e.name.text);
    }
  }
  const header = /^\s*\/\*\*[\s\S]*?\*\//.exec(dts)?.[0].trim();
  return [
    ...(header ? [header] : []),
    inlineRuntimeTypes(roots),
    ...kept,
    ...(reexported.length ? [`export type { ${[...new Set(reexported)].join(', ')} };`] : []),
  ].join('\n') + '\n';
}

/**
 * The standalone form of an emitted module: its JavaScript with the runtime bundled in, its
 * declarations with the runtime types copied in; the TypeScript source stays as emitted.
 */
export function standaloneModule(m: EmittedModule, backend: Backend): EmittedModule {
  const pkg = kilnPackage();
  return { ts: m.ts, js: bundle(m.js, backend, pkg), dts: standaloneDeclarations(m.dts, pkg) };
}
