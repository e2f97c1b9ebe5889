// Emitted modules come out formatted: compiler/emit/writer.ts writes them indented and spaced as
// TypeScript's formatter would, and no compile runs the formatter. Here the formatter (the
// `typescript` package's, with the settings Kiln's modules use: two spaces, semicolons) runs over
// emitted modules, both backends, with trainers, profiling and embedded weights, and must change
// nothing; the writer's indentation is checked on its own against hand-indented text.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel, type CompileOptions } from '../../compiler/compile.ts';
import { indentLines } from '../../compiler/emit/writer.ts';
import { loadExampleGraph } from '../e2e/helpers.ts';

/** `text` as TypeScript's formatter formats it (two-space indentation, semicolons inserted). */
function formatted(text: string): string {
  const host: ts.LanguageServiceHost = {
    getCompilationSettings: () => ({ target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext }),
    getScriptFileNames: () => ['model.ts'],
    getScriptVersion: () => '1',
    getScriptSnapshot: (name) => (name === 'model.ts' ? ts.ScriptSnapshot.fromString(text) : undefined),
    getCurrentDirectory: () => '/',
    getDefaultLibFileName: () => 'lib.d.ts',
    fileExists: (name) => name === 'model.ts',
    readFile: () => undefined,
  };
  const settings: ts.FormatCodeSettings = { ...ts.getDefaultFormatCodeSettings('\n'), indentSize: 2, tabSize: 2, convertTabsToSpaces: true, semicolons: ts.SemicolonPreference.Insert };
  const edits = ts.createLanguageService(host).getFormattingEditsForDocument('model.ts', settings);
  // From the end, so that earlier spans stay where they were.
  return [...edits].sort((a, b) => b.span.start - a.span.start).reduce((t, e) => t.slice(0, e.span.start) + e.newText + t.slice(e.span.start + e.span.length), text);
}

/** The first line where `text` and its formatted form differ, with both versions ('' when none). */
function firstChange(text: string): string {
  const [a, b] = [text.split('\n'), formatted(text).split('\n')];
  const i = a.findIndex((line, k) => line !== b[k]);
  return i < 0 && a.length === b.length ? '' : `line ${i + 1}:\n- ${a[i]?.slice(0, 200)}\n+ ${b[i]?.slice(0, 200)}`;
}

async function compiled(example: string, options: CompileOptions, train = true) {
  const graph = await loadExampleGraph(example);
  const training = train ? { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) } : undefined;
  return compileModel(graph, { ...options, training, inferenceModule: true });
}

describe('emitted modules are formatted as written', () => {
  const cases: [string, CompileOptions, boolean][] = [
    ['mlp', { backend: 'js' }, true],
    ['cnn', { backend: 'js' }, true],
    ['lstm-adding', { backend: 'js', profile: true }, true],
    ['mlp', { backend: 'js', profile: true, inlineWeights: true }, false],
    ['mlp', { backend: 'gpujs' }, true],
    ['cnn-small', { backend: 'gpujs', profile: true, inlineWeights: true }, true],
  ];
  it('(the check itself sees a module that is not formatted)', () => {
    expect(firstChange('function f() {\n    return {a: 1};\n}\n')).not.toBe('');
  });

  for (const [example, options, train] of cases) {
    it(`${example} (${options.backend}${train ? ', trainer' : ''}${options.profile ? ', profiled' : ''}${options.inlineWeights ? ', weights embedded' : ''}): TypeScript's formatter changes nothing`, async () => {
      const c = await compiled(example, options, train);
      expect(firstChange(c.ts)).toBe('');
      if (c.inference) expect(firstChange(c.inference.ts)).toBe('');
    });
  }
});

describe('indentLines', () => {
  it('indents one level per line that opens brackets, however many it opens, and dedents the line that closes them', () => {
    const text = ['const a = f((x) => {', 'if (x) {', 'return [', '1,', '];', '}', '}, {', 'b: 1,', '});'].join('\n');
    expect(indentLines(text)).toBe(['const a = f((x) => {', '  if (x) {', '    return [', '      1,', '    ];', '  }', '}, {', '  b: 1,', '});'].join('\n'));
  });

  it('leaves the text of template literals as it is and ignores brackets in strings and comments', () => {
    const text = ['const s = `a {', '   b ${1 + (2)}', '`;', "const t = '{(';", '// {', 'f({', '/* ( */ a,', '});'].join('\n');
    expect(indentLines(text, 1)).toBe(['  const s = `a {', '   b ${1 + (2)}', '`;', "  const t = '{(';", '  // {', '  f({', '    /* ( */ a,', '  });'].join('\n'));
  });

  it('aligns the lines of a block comment under its first', () => {
    expect(indentLines(['{', '/**', '* doc', '*/', 'x;', '}'].join('\n'))).toBe(['{', '  /**', '   * doc', '   */', '  x;', '}'].join('\n'));
  });
});
