// The runtime's types a standalone module's declarations name, copied in from Kiln's built
// declaration files (dist/runtime/*.d.ts) with everything they in turn name, so a `.d.mts` that
// imported them from `kiln/runtime` imports nothing (gpujs: only `gpu.js`'s types).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ts } from 'ts-morph';
import { KilnError } from '../../src/ir/errors.ts';
import { typescript } from './typescript.ts';

/** Where a name comes from: declared in a file, or bound to another file's export. */
interface Link {
  readonly from: string;
  readonly name: string;
}

/** One parsed declaration file: what it declares, what it imports, what it re-exports. */
interface DeclarationFile {
  readonly declared: Map<string, ts.Statement[]>;
  readonly imports: Map<string, Link>;
  readonly exports: Map<string, Link>;
  readonly stars: string[];
  readonly text: string;
}

/** The names a top-level statement declares. */
function declaredNames(s: ts.Statement): string[] {
  const ts = typescript();
  if (ts.isVariableStatement(s)) return s.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  if (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isClassDeclaration(s) || ts.isFunctionDeclaration(s) || ts.isEnumDeclaration(s)) return s.name ? [s.name.text] : [];
  return [];
}

/** A module specifier as a file in `dir`: relative ones only; `'./x.ts'` and `'./x.js'` are `x.d.ts`. */
const fileOf = (dir: string, spec: string) => (spec.startsWith('.') ? path.join(dir, spec.replace(/\.[jt]s$/, '') + '.d.ts') : spec);

function parse(file: string): DeclarationFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new KilnError(`--standalone needs Kiln's built runtime declarations (${file} is missing: run npm run build in Kiln's folder)`);
  }
  const ts = typescript();
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const dir = path.dirname(file);
  const f: DeclarationFile = { declared: new Map(), imports: new Map(), exports: new Map(), stars: [], text };
  for (const s of sf.statements) {
    if (ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier)) {
      const from = fileOf(dir, s.moduleSpecifier.text);
      const bindings = s.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) f.imports.set(e.name.text, { from, name: (e.propertyName ?? e.name).text });
    } else if (ts.isExportDeclaration(s)) {
      const from = s.moduleSpecifier && ts.isStringLiteral(s.moduleSpecifier) ? fileOf(dir, s.moduleSpecifier.text) : file;
      if (!s.exportClause) f.stars.push(from);
      else if (ts.isNamedExports(s.exportClause)) for (const e of s.exportClause.elements) f.exports.set(e.name.text, { from, name: (e.propertyName ?? e.name).text });
    } else {
      for (const n of declaredNames(s)) f.declared.set(n, [...(f.declared.get(n) ?? []), s]);
    }
  }
  return f;
}

/** Reads each declaration file once. */
class Files {
  private readonly cache = new Map<string, DeclarationFile>();
  get(file: string): DeclarationFile {
    let f = this.cache.get(file);
    if (!f) this.cache.set(file, (f = parse(file)));
    return f;
  }

  /** Where `name`, as seen in `file`, is declared (following imports and re-exports); a package name for a non-relative import. */
  resolve(file: string, name: string): Link | undefined {
    const seen = new Set<string>();
    const work: Link[] = [{ from: file, name }];
    for (let at = work.pop(); at; at = work.pop()) {
      const key = `${at.from}\0${at.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (!path.isAbsolute(at.from)) return at;
      const f = this.get(at.from);
      if (f.declared.has(at.name)) return at;
      const next = f.imports.get(at.name) ?? f.exports.get(at.name);
      if (next) work.push(next);
      else work.push(...f.stars.map((from) => ({ from, name: at.name })));
    }
    return undefined;
  }
}

/** Every identifier in a statement (over-approximates the names it refers to; extra ones only add a declaration). */
function identifiers(s: ts.Node): Set<string> {
  const ts = typescript();
  const out = new Set<string>();
  const work: ts.Node[] = [s];
  for (let n = work.pop(); n; n = work.pop()) {
    if (ts.isIdentifier(n)) out.add(n.text);
    n.forEachChild((c) => {
      work.push(c);
    });
  }
  return out;
}

/** A statement's text (with its doc comment) without its `export` keyword. */
function unexported(s: ts.Statement, text: string): string {
  const full = text.slice(s.getFullStart(), s.getEnd());
  const start = s.getStart() - s.getFullStart();
  return (full.slice(0, start) + full.slice(start).replace(/^export\s+/, '')).replace(/^\s*\n/, '');
}

/**
 * The declarations of `roots` (names exported by the runtime entry files given) and of every name
 * they use, as local (not exported) statements, and type-only imports of the packages they name.
 */
export function inlineRuntimeTypes(roots: readonly Link[]): string {
  const files = new Files();
  const chosen = new Map<string, string>();
  const external = new Map<string, Set<string>>();
  const texts: string[] = [];
  const copied = new Set<ts.Statement>();
  const work = [...roots];
  for (let at = work.shift(); at; at = work.shift()) {
    const to = files.resolve(at.from, at.name);
    if (!to) throw new KilnError(`internal: the runtime declares no '${at.name}' (seen from ${path.basename(at.from)})`);
    if (!path.isAbsolute(to.from)) {
      external.set(to.from, (external.get(to.from) ?? new Set()).add(to.name));
      continue;
    }
    if (to.name !== at.name) throw new KilnError(`internal: the runtime renames '${to.name}' to '${at.name}' on import; inlining keeps names`);
    const f = files.get(to.from);
    const statements = (f.declared.get(to.name) ?? []).filter((s) => !copied.has(s));
    const text = statements.map((s) => unexported(s, f.text)).join('\n');
    const previous = chosen.get(to.name);
    if (previous !== undefined) {
      // Two files' private helpers of one name (`type Array32 = …`) are one type when spelled alike.
      if (statements.length && previous.trim() !== text.trim()) throw new KilnError(`internal: two different runtime declarations named '${to.name}' (one in ${path.basename(to.from)})`);
      continue;
    }
    chosen.set(to.name, text);
    for (const s of statements) {
      copied.add(s);
      for (const id of identifiers(s)) if (id !== to.name && (f.declared.has(id) || f.imports.has(id))) work.push({ from: to.from, name: id });
    }
    texts.push(text);
  }
  const imports = [...external].map(([pkg, names]) => `import type { ${[...names].sort().join(', ')} } from ${JSON.stringify(pkg)};`);
  return [...imports, ...texts].join('\n');
}
