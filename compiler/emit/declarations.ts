// The declaration file of an emitted module (`<name>.d.mts`): TypeScript's own declaration emit
// (ts.transpileDeclaration, no type checker) over the module's imports and exported statements
// only, so the kernels' bodies are never walked; every export carries an explicit type for that.
import { Node, ts, type SourceFile } from 'ts-morph';
import { KilnError } from '../../src/ir/errors.ts';

/** The source text TypeScript needs to declare the module: imports, type exports and exported declarations. */
function exportedSurface(f: SourceFile): string {
  const kept = f.getStatements().filter((s) => Node.isImportDeclaration(s) || Node.isExportDeclaration(s) || (Node.isExportable(s) && s.isExported()));
  return kept.map((s) => s.getFullText()).join('');
}

/**
 * The `.d.mts` text of the module in `f`: every export with its type and doc comment, the types it
 * names imported (type-only) from the runtime. A declaration TypeScript cannot write without
 * inference is a bug in an emitter (an export without an explicit type): an internal error.
 */
export function moduleDeclarations(f: SourceFile): string {
  const out = ts.transpileDeclaration(exportedSurface(f), {
    fileName: 'model.mts',
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  });
  const problems = out.diagnostics ?? [];
  if (problems.length) {
    throw new KilnError(`internal: the emitted module's declarations need inference: ${problems.slice(0, 3).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}`);
  }
  // The module's header comment (model, graph hash, inputs, outputs) heads its declarations too.
  const header = f.getStatements()[0]?.getLeadingCommentRanges()[0]?.getText();
  return header ? `${header}\n${out.outputText}` : out.outputText;
}
