// A ts-morph source file that is built by appending, cheaply: each add* call goes to a small scratch
// file holding only the last statements, and the real file is parsed once, when first read.
//
// Why: ts-morph re-parses the whole file on every insertion, so building a module of a few hundred
// KB by twenty-odd add* calls parsed it twenty-odd times (about half of a CNN's emit time). The text
// ts-morph writes for an appended structure depends only on the statement before it (blank line
// or not, comment or not), so a scratch file that keeps that statement writes the same text.
// Emitted modules are byte-identical to building in one file (cnn and mlp with --train, js and gpujs).
import type { Project, SourceFile } from 'ts-morph';

/**
 * A source file starting with `initial` whose add* methods append through a scratch file; any other
 * member (getFullText, formatText, getImportDeclarations, …) first makes the real file, which then
 * serves every later call. Callers must not keep the nodes add* returns (they belong to the scratch).
 */
export function appendOnlySourceFile(project: Project, name: string, initial: string): SourceFile {
  let done = '';
  let scratchCount = 0;
  let scratch = project.createSourceFile(`${name}.scratch${scratchCount++}.ts`, initial);
  let real: SourceFile | undefined;

  /** Keeps in the scratch only what the last add* inserted (and what followed its insertion point). */
  const rotate = (before: string) => {
    const after = scratch.getFullText();
    let p = 0;
    while (p < before.length && before.charCodeAt(p) === after.charCodeAt(p)) p++;
    done += after.slice(0, p);
    project.removeSourceFile(scratch);
    scratch = project.createSourceFile(`${name}.scratch${scratchCount++}.ts`, after.slice(p));
  };
  const bound = (target: SourceFile, key: PropertyKey) => {
    const v = Reflect.get(target, key) as unknown;
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  };

  return new Proxy({} as SourceFile, {
    get(_, key) {
      if (real) return bound(real, key);
      if (typeof key === 'string' && key.startsWith('add')) {
        return (...args: unknown[]) => {
          const before = scratch.getFullText();
          const result = (Reflect.get(scratch, key) as (...a: unknown[]) => unknown).apply(scratch, args);
          rotate(before);
          return result;
        };
      }
      real = project.createSourceFile(name, done + scratch.getFullText());
      project.removeSourceFile(scratch);
      return bound(real, key);
    },
  });
}
