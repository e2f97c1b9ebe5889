// The declaration file of an emitted module (`<name>.d.mts`): TypeScript's own declaration emit
// (ts.transpileDeclaration, no type checker) over the module's imports and exported statements
// only, function bodies left out (writer.ts keeps that surface as the module is written), so the
// kernels are never read; every export carries an explicit type for that.
import { KilnError } from '../../src/ir/errors.ts';
import { typescript } from './typescript.ts';
import type { ModuleText } from './writer.ts';

/**
 * The `.d.mts` text of the module in `f`: its header comment, every export with its type and doc
 * comment, the types it names imported (type-only) from the runtime. A declaration TypeScript
 * cannot write without inference is a bug in an emitter (an export without an explicit type): an
 * internal error.
 */
export function moduleDeclarations(f: ModuleText): string {
  const ts = typescript();
  const out = ts.transpileDeclaration(f.exportedSurface(), {
    fileName: 'model.mts',
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  });
  const problems = out.diagnostics ?? [];
  if (problems.length) {
    throw new KilnError(`internal: the emitted module's declarations need inference: ${problems.slice(0, 3).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}`);
  }
  // The module's header comment (model, graph hash, inputs, outputs) heads its declarations too.
  return `${f.header}\n${out.outputText}`;
}
