// The `.d.mts` of an emitted module is written from the declarations writer.ts keeps, without
// TypeScript; test/e2e/typecheck.test.ts checks real ones under a strict consumer. Here: what each
// kind of export declares, the imports kept (only names the declarations use), and an export
// without an explicit type as an internal error.
import { describe, expect, it } from 'vitest';
import { moduleDeclarations } from '../../compiler/emit/declarations.ts';
import { ModuleText } from '../../compiler/emit/writer.ts';

describe('moduleDeclarations', () => {
  it('declares each export with its type and doc comment, imports only the names they use', () => {
    const f = new ModuleText('/** Header. */');
    f.addImportDeclaration({ moduleSpecifier: 'kiln/runtime', namedImports: ['checkInput', 'Used'] });
    f.addImportDeclaration({ moduleSpecifier: 'kiln/runtime', isTypeOnly: true, namedImports: ['Info', 'Unused'] });
    f.addExportDeclaration({ moduleSpecifier: 'kiln/runtime', isTypeOnly: true, namedExports: ['Unused'] });
    f.addVariableStatement({ isExported: true, declarations: [{ name: 'name', initializer: '"m"' }] });
    f.addVariableStatement({ isExported: true, declarations: [{ name: 'backend', initializer: "'js' as const" }] });
    f.addVariableStatement({ isExported: true, docs: ['Inputs.'], declarations: [{ name: 'inputs', type: 'readonly Info[]', initializer: '[]' }] });
    f.addVariableStatement({ declarations: [{ name: 'hidden', initializer: 'checkInput' }] });
    f.addFunction({ name: 'make', isExported: true, parameters: [{ name: 'a', type: 'Used', hasQuestionToken: true }, { name: 'b', type: 'number', initializer: '1' }], returnType: 'void', statements: ['checkInput(a, b);'] });
    expect(moduleDeclarations(f)).toBe(
      [
        '/** Header. */',
        'import { Used } from "kiln/runtime";',
        'import type { Info } from "kiln/runtime";',
        'export type { Unused } from "kiln/runtime";',
        'export declare const name = "m";',
        "export declare const backend: 'js';",
        '/** Inputs. */',
        'export declare const inputs: readonly Info[];',
        'export declare function make(a?: Used, b?: number): void;',
        '',
      ].join('\n'),
    );
  });

  it('an export whose type would need inference is an internal error', () => {
    const f = new ModuleText('/** Header. */');
    expect(() => f.addVariableStatement({ isExported: true, declarations: [{ name: 'x', initializer: 'f()' }] })).toThrow(/internal: .*'x' has no explicit type/);
    expect(() => f.addFunction({ name: 'g', isExported: true, parameters: [{ name: 'a' }], returnType: 'void', statements: [] })).toThrow(/internal: .*'g\(a\)' has no explicit type/);
  });
});
