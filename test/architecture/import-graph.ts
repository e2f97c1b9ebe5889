// The repository's import graph, read from the sources: which file imports which, which arrows
// break the floors (cli → compiler → src → runtime), and which files import each other in a loop.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import: `from` imports `to` (both repository-relative, '/'-separated); `typeOnly` if erased before the code runs. */
export interface Arrow {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** A floor rule: files under `from` may not import files under any of `notTo`, except under `exceptUnder`. */
export interface FloorRule {
  from: string;
  notTo: string[];
  exceptUnder?: string;
  why: string;
}

const SOURCE = /\.(m|c)?tsx?$/;

/** Every TypeScript file under `folder` (repository-relative), sorted; walked with a stack, not recursion. */
export function sourceFiles(root: string, folder: string): string[] {
  const found: string[] = [];
  const todo = [folder];
  while (todo.length > 0) {
    const dir = todo.pop()!;
    for (const entry of readdirSync(path.join(root, dir))) {
      const rel = `${dir}/${entry}`;
      if (statSync(path.join(root, rel)).isDirectory()) todo.push(rel);
      else if (SOURCE.test(entry)) found.push(rel);
    }
  }
  return found.sort();
}

/** One import in a source text: its specifier, and whether it is erased before the code runs. */
export interface Import {
  spec: string;
  typeOnly: boolean;
}

/**
 * The imports of a source text: static imports and re-exports, `import x = require(...)`, literal
 * dynamic `import('...')`, `import('...')` types and `/// <reference path>`. The text is parsed
 * with TypeScript, so specifiers quoted inside strings, templates or comments (the emitters write
 * `import … from` into generated code) are not mistaken for imports. `import type`, `export type`,
 * type positions and declaration files are type-only; `import { type A }` is not, since under
 * verbatimModuleSyntax it still loads the module.
 */
export function readImports(fileName: string, text: string): Import[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true);
  const declarations = file.isDeclarationFile;
  const found: Import[] = file.referencedFiles.map((r) => ({ spec: r.fileName, typeOnly: true }));
  const literal = (e: ts.Node | undefined) => (e !== undefined && ts.isStringLiteralLike(e) ? e.text : undefined);
  const add = (spec: string | undefined, typeOnly: boolean) => {
    if (spec !== undefined) found.push({ spec, typeOnly: typeOnly || declarations });
  };
  const todo: ts.Node[] = [file];
  while (todo.length > 0) {
    const node = todo.pop()!;
    if (ts.isImportDeclaration(node)) add(literal(node.moduleSpecifier), node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(literal(node.moduleSpecifier), node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(literal(node.moduleReference.expression), node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(literal(node.arguments[0]), false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(literal(node.argument.literal), true);
    ts.forEachChild(node, (child) => {
      todo.push(child);
    });
  }
  return found;
}

/**
 * The repository file a specifier in `file` names, or undefined for a package outside the repository.
 * Relative specifiers resolve against the importing file; the package's own name (`kiln`,
 * `kiln/runtime…`) resolves to its sources, so a self-import cannot hide an arrow.
 */
export function resolveSpecifier(file: string, spec: string): string | undefined {
  if (spec.startsWith('./') || spec.startsWith('../')) return path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
  if (spec === 'kiln') return 'api/index.ts';
  if (spec.startsWith('kiln/runtime')) return `runtime/${spec.slice('kiln/runtime'.length).replace(/^\//, '') || 'index'}.ts`;
  return undefined;
}

/** All arrows out of the given files (repository-relative), read from disk. */
export function readArrows(root: string, files: string[]): Arrow[] {
  const arrows: Arrow[] = [];
  for (const from of files) {
    for (const { spec, typeOnly } of readImports(from, readFileSync(path.join(root, from), 'utf8'))) {
      const to = resolveSpecifier(from, spec);
      if (to !== undefined) arrows.push({ from, to, typeOnly });
    }
  }
  return arrows;
}

const under = (file: string, folder: string) => file.startsWith(`${folder}/`);

/** The arrows that break a rule, each shown as "from → to (why)". */
export function floorViolations(arrows: Arrow[], rules: FloorRule[]): string[] {
  const bad: string[] = [];
  for (const { from, to } of arrows) {
    for (const rule of rules) {
      if (!under(from, rule.from) || (rule.exceptUnder !== undefined && under(to, rule.exceptUnder))) continue;
      if (rule.notTo.some((folder) => under(to, folder))) bad.push(`${from} → ${to} (${rule.why})`);
    }
  }
  return bad;
}

/**
 * The strongly connected components with a loop in them (two or more files, or a file importing
 * itself), by Tarjan's algorithm run with an explicit stack (no recursion, so any depth is fine).
 */
export function importLoops(arrows: Arrow[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of arrows) {
    if (!next.has(from)) next.set(from, []);
    if (!next.has(to)) next.set(to, []);
    next.get(from)!.push(to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const loops: string[][] = [];
  let counter = 0;
  for (const start of [...next.keys()].sort()) {
    if (index.has(start)) continue;
    // Each frame: a file and how many of its arrows have been followed.
    const frames: { file: string; edge: number }[] = [{ file: start, edge: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const targets = next.get(frame.file)!;
      if (frame.edge < targets.length) {
        const to = targets[frame.edge++];
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          frames.push({ file: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.file, Math.min(low.get(frame.file)!, index.get(to)!));
        }
        continue;
      }
      frames.pop();
      if (frames.length > 0) {
        const parent = frames[frames.length - 1].file;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.file)!));
      }
      if (low.get(frame.file) !== index.get(frame.file)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.file);
      if (component.length > 1 || targets.includes(frame.file)) loops.push(component.sort());
    }
  }
  return loops;
}

/** One concrete loop through a component, as "a → b → … → a": a breadth-first path from its first file back to it. */
export function loopPath(arrows: Arrow[], component: string[]): string {
  const inside = new Set(component);
  const start = component[0];
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i];
    for (const { from, to } of arrows) {
      if (from !== file || !inside.has(to)) continue;
      if (to === start) {
        // Walk back from `file` to the start, then close the loop.
        const files = [start];
        for (let at: string | undefined = file; at !== undefined && at !== start; at = cameFrom.get(at)) files.unshift(at);
        return [start, ...files].join(' → ');
      }
      if (!cameFrom.has(to)) {
        cameFrom.set(to, file);
        queue.push(to);
      }
    }
  }
  return component.join(', ');
}
