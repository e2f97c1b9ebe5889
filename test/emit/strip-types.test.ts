// An emitted module's JavaScript is its TypeScript with the types stripped by compiler/emit/
// strip-types.ts, not by TypeScript's transpiler. Here both run over whole emitted modules (both
// backends, trainers, profiling, embedded weights, loops) and the programs must be the same:
// each printed by TypeScript's printer without comments, parentheses left around a plain value
// (which TypeScript drops when it removes an `as`) removed from both.
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel, type CompileOptions } from '../../compiler/compile.ts';
import { moduleJs } from '../../compiler/emit/javascript.ts';
import { stripTypes } from '../../compiler/emit/strip-types.ts';
import { loadExampleGraph } from '../e2e/helpers.ts';

/** `js` printed by TypeScript without comments and without parentheses around calls, names, members and literals. */
function program(js: string): string {
  const unwrap: ts.TransformerFactory<ts.SourceFile> = (context) => (root) => {
    const visit = (n: ts.Node): ts.Node => {
      if (ts.isParenthesizedExpression(n) && (ts.isCallExpression(n.expression) || ts.isIdentifier(n.expression) || ts.isPropertyAccessExpression(n.expression) || ts.isLiteralExpression(n.expression))) return visit(n.expression);
      return ts.visitEachChild(n, visit, context);
    };
    return ts.visitNode(root, visit) as ts.SourceFile;
  };
  const sf = ts.createSourceFile('model.js', js, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  const [out] = ts.transform(sf, [unwrap]).transformed;
  return ts.createPrinter({ removeComments: true }).printFile(out);
}

/** TypeScript's JavaScript for a module. */
const transpiled = (source: string) => ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true } }).outputText;

/** The module without what has no JavaScript (interfaces, type aliases, type-only imports and exports): what the writer gives stripTypes. */
function valueStatements(source: string): string {
  const sf = ts.createSourceFile('model.ts', source, ts.ScriptTarget.ES2022, false);
  const typeOnly = (s: ts.Statement) => ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || (ts.isImportDeclaration(s) && !!s.importClause?.isTypeOnly) || (ts.isExportDeclaration(s) && s.isTypeOnly);
  let out = '';
  let at = 0;
  for (const s of sf.statements.filter(typeOnly)) {
    out += source.slice(at, s.pos);
    at = s.end;
  }
  return out + source.slice(at);
}

describe('stripTypes on emitted modules', () => {
  const cases: [string, CompileOptions, boolean][] = [
    ['mlp', { backend: 'js' }, true],
    ['cnn', { backend: 'js', profile: true }, true],
    ['lstm-adding', { backend: 'js' }, true],
    ['transformer-sort', { backend: 'js', inlineWeights: true }, false],
    ['mlp', { backend: 'gpujs', profile: true, inlineWeights: true }, true],
    ['cnn-small', { backend: 'gpujs' }, true],
  ];
  for (const [example, options, train] of cases) {
    it(`${example} (${options.backend}${train ? ', trainer' : ''}${options.profile ? ', profiled' : ''}${options.inlineWeights ? ', weights embedded' : ''}): the same program as TypeScript's transpile`, async () => {
      const graph = await loadExampleGraph(example);
      const training = train ? { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) } : undefined;
      const c = compileModel(graph, { ...options, training, inferenceModule: true });
      for (const m of [c, ...(c.inference ? [c.inference] : [])]) {
        expect(program(stripTypes(valueStatements(m.ts)))).toBe(program(transpiled(m.ts)));
        // The module's own JavaScript is the stripped one (two spaces a level: not the transpiler's four), and the same program.
        expect(m.js).toMatch(/^ {2}const \w+ = /m);
        expect(m.js).not.toMatch(/^ {4}const pool = /m);
        expect(program(m.js)).toBe(program(transpiled(m.ts)));
      }
    });
  }
});

describe('stripTypes', () => {
  it('removes parameter, return, variable and property-method types, as, non-null and type arguments; keeps conditionals and object literals', () => {
    const source = [
      'function f(a: number, b?: string, c: { x: number; } = { x: 1 }, ...d: (number | string)[]): Readonly<Record<string, number>> {',
      '  const g = (x: Float32Array, y = a > 0 ? 1 : 2): number => x.length + (y as number);',
      '  const h: Map<string, number> = new Map<string, number>();',
      '  const o = { k: a ? b! : c, m(x: number): void {}, async n(y: string) { return y; } };',
      '  return { [b!]: [1, 2].reduce<number>((s, v) => s + v, 0) } as const;',
      '}',
    ].join('\n');
    expect(stripTypes(source)).toBe(
      [
        'function f(a, b, c = { x: 1 }, ...d) {',
        '  const g = (x, y = a > 0 ? 1 : 2) => x.length + (y);',
        '  const h = new Map();',
        '  const o = { k: a ? b : c, m(x) {}, async n(y) { return y; } };',
        '  return { [b]: [1, 2].reduce((s, v) => s + v, 0) };',
        '}',
      ].join('\n'),
    );
  });

  it('leaves strings, templates, comments and comparisons alone', () => {
    const source = "const s = 'a: number' + `b as ${c ? d : e} x!` + /* f(g: T) */ \"h<T>(\"; if (i < j && k > (l)) m(n!== o);";
    expect(stripTypes(source)).toBe(source);
  });

  it('what it does not know (here an enum) V8 does not parse, and the module goes through TypeScript instead', () => {
    const source = 'enum E {\n  A,\n}\nexport const e: E = E.A;\n';
    const made = moduleJs(source, source);
    expect(made.transpiled).toBe(true);
    expect(program(made.js)).toBe(program(transpiled(source)));
    expect(moduleJs('export const x: number = 1;\n', '').transpiled).toBe(false);
  });
});
