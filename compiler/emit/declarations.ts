// The declaration file of an emitted module (`<name>.d.mts`): TypeScript's own declaration emit
// (ts.transpileDeclaration, no type checker) over the module's imports and exported statements
// only, function bodies left out, so the kernels are never walked; every export carries an
// explicit type for that.
import { ts, type SourceFile } from 'ts-morph';
import { KilnError } from '../../src/ir/errors.ts';

const isExported = (s: ts.Statement) => ts.canHaveModifiers(s) && (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/**
 * The source text TypeScript needs to declare the module: imports, type exports and exported
 * declarations (exported functions without their bodies). Read from the compiler's nodes: asking
 * ts-morph for every statement wraps each kernel, which costs about a second on a large module.
 */
function exportedSurface(sf: ts.SourceFile): string {
  const kept = sf.statements.filter((s) => ts.isImportDeclaration(s) || ts.isExportDeclaration(s) || isExported(s));
  return kept.map((s) => (ts.isFunctionDeclaration(s) && s.body ? `${sf.text.slice(s.pos, s.body.pos)} {}` : sf.text.slice(s.pos, s.end))).join('');
}

/**
 * The `.d.mts` text of the module in `f`: its header comment, every export with its type and doc
 * comment, the types it names imported (type-only) from the runtime. A declaration TypeScript
 * cannot write without inference is a bug in an emitter (an export without an explicit type): an
 * internal error.
 */
export function moduleDeclarations(f: SourceFile): string {
  const sf = f.compilerNode;
  const out = ts.transpileDeclaration(exportedSurface(sf), {
    fileName: 'model.mts',
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  });
  const problems = out.diagnostics ?? [];
  if (problems.length) {
    throw new KilnError(`internal: the emitted module's declarations need inference: ${problems.slice(0, 3).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}`);
  }
  // The module's header comment (model, graph hash, inputs, outputs) heads its declarations too.
  const first = ts.getLeadingCommentRanges(sf.text, sf.statements[0]?.pos ?? 0)?.[0];
  return first ? `${sf.text.slice(first.pos, first.end)}\n${out.outputText}` : out.outputText;
}
