// The floors hold: cli → api → compiler → src (ir, dsl, onnx) → runtime, with no arrow back up and no
// files that import each other in a loop; read from the sources of cli/, api/, compiler/, src/, runtime/.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { floorViolations, importLoops, loopPath, readArrows, readImports, resolveSpecifier, sourceFiles, type Arrow, type FloorRule } from './import-graph.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FOLDERS = ['cli', 'api', 'compiler', 'src', 'runtime'];

/** Type-only arrows count for the floors as well: a type from a higher floor couples the code to it as much as a value does. */
const FLOORS: FloorRule[] = [
  { from: 'runtime', notTo: ['src', 'compiler', 'api', 'cli', 'test', 'bench', 'examples'], why: 'runtime/ is the floor emitted modules stand on: it imports nothing of Kiln' },
  { from: 'src', notTo: ['compiler', 'api', 'cli', 'test', 'bench', 'examples'], why: 'the core (IR, DSL, ONNX) is below the compiler, the API and the shell' },
  { from: 'compiler', notTo: ['api', 'cli', 'test', 'bench', 'examples'], why: 'the compiler is below the API (compile()) and the shell' },
  { from: 'api', notTo: ['cli', 'test', 'bench', 'examples'], why: "the API (the package's main entry with compile()) is below the shell, which uses it" },
  { from: 'cli/browser', notTo: ['cli'], exceptUnder: 'cli/browser', why: 'the browser pieces (bundle, serve, page, precompile) are below the commands that use them' },
];

/**
 * The one arrow left out of the loop search: a type-only import of `src/ir/ops/index.ts`, where the
 * op names are defined as the keys of the op table (`OpName = keyof typeof OPS`, so that a new op
 * is a new name and every per-op table must decide it). The table's rules are typed over `Node`,
 * whose `op` is such a name: node types and op table name each other by design, in types only,
 * which the compiler erases before anything is loaded (no load-order hazard). Every other
 * type-only import counts, as do all value imports.
 */
const excusedFromLoops = (a: Arrow) => a.typeOnly && a.to === 'src/ir/ops/index.ts';

const files = FOLDERS.flatMap((folder) => sourceFiles(ROOT, folder));
const arrows = readArrows(ROOT, files);

describe('the import graph of cli/, api/, compiler/, src/ and runtime/', () => {
  it('reads the sources (a sanity check that the walk found them)', () => {
    for (const folder of FOLDERS) expect(files.some((f) => f.startsWith(`${folder}/`)), folder).toBe(true);
    expect(arrows.some((a) => a.from.startsWith('cli/') && a.to.startsWith('compiler/'))).toBe(true);
  });

  it('has no arrow from a lower floor up to a higher one', () => {
    const bad = floorViolations(arrows, FLOORS);
    expect(bad, `imports against the floors (cli → api → compiler → src → runtime):\n  ${bad.join('\n  ')}`).toEqual([]);
  });

  it('has no import loops among files (type-only imports included, but for the op-name knot)', () => {
    const counted = arrows.filter((a) => !excusedFromLoops(a));
    const loops = importLoops(counted).map((component) => loopPath(counted, component));
    expect(loops, `files that import each other in a loop (break each by moving what they share into its own module):\n  ${loops.join('\n  ')}`).toEqual([]);
  });

  it('has no loops among value imports at all (those decide load order)', () => {
    const values = arrows.filter((a) => !a.typeOnly);
    const loops = importLoops(values).map((component) => loopPath(values, component));
    expect(loops, `value-import loops:\n  ${loops.join('\n  ')}`).toEqual([]);
  });
});

describe('the import-graph reader itself', () => {
  it('finds static, re-export, type-only, dynamic and declaration imports, and no quoted ones', () => {
    const text = [
      "import type { A } from './a.ts';",
      "import { type B } from './b.ts';",
      "export * from './c.ts';",
      "export type { D } from './d.ts';",
      "const m = await import('./e.ts');",
      "let t: import('./f.ts').T;",
      "const s = \"import { q } from './in-string.ts'\";",
      "// import { z } from './in-comment.ts';",
      'const g = `import { y } from \'./in-template.ts\'`;',
      "declare module 'x' { import type { T } from './g.ts'; }",
    ].join('\n');
    expect(readImports('m.ts', text).sort((x, y) => x.spec.localeCompare(y.spec))).toEqual([
      { spec: './a.ts', typeOnly: true },
      { spec: './b.ts', typeOnly: false },
      { spec: './c.ts', typeOnly: false },
      { spec: './d.ts', typeOnly: true },
      { spec: './e.ts', typeOnly: false },
      { spec: './f.ts', typeOnly: true },
      { spec: './g.ts', typeOnly: true },
    ]);
    expect(readImports('m.d.ts', "import { A } from './a.ts';")).toEqual([{ spec: './a.ts', typeOnly: true }]);
  });

  it('resolves relative specifiers and the package’s own name, and leaves other packages out', () => {
    expect(resolveSpecifier('cli/browser/serve.ts', '../../src/ir/errors.ts')).toBe('src/ir/errors.ts');
    expect(resolveSpecifier('cli/main.ts', './browser/precompile.ts')).toBe('cli/browser/precompile.ts');
    expect(resolveSpecifier('runtime/x.ts', 'kiln')).toBe('api/index.ts');
    expect(resolveSpecifier('runtime/x.ts', 'kiln/runtime/gpujs')).toBe('runtime/gpujs.ts');
    expect(resolveSpecifier('cli/main.ts', 'commander')).toBeUndefined();
  });

  it('names an upward arrow and lets the exception through', () => {
    const a = (from: string, to: string): Arrow => ({ from, to, typeOnly: false });
    const found = floorViolations([a('src/onnx/export.ts', 'compiler/version.ts'), a('cli/browser/x.ts', 'cli/browser/y.ts'), a('cli/browser/x.ts', 'cli/load.ts'), a('compiler/a.ts', 'src/b.ts')], FLOORS);
    expect(found).toEqual([
      `src/onnx/export.ts → compiler/version.ts (${FLOORS.find((f) => f.from === 'src')!.why})`,
      `cli/browser/x.ts → cli/load.ts (${FLOORS.find((f) => f.from === 'cli/browser')!.why})`,
    ]);
  });

  it('finds loops of two, three and one file, walks them in order, and passes a chain without one', () => {
    const a = (from: string, to: string): Arrow => ({ from, to, typeOnly: false });
    const graph = [a('p', 'q'), a('q', 'p'), a('x', 'y'), a('y', 'z'), a('z', 'x'), a('z', 'w'), a('s', 's'), a('c1', 'c2'), a('c2', 'c3')];
    const loops = importLoops(graph);
    expect(loops.map((c) => c.join(' '))).toEqual(expect.arrayContaining(['p q', 's', 'x y z']));
    expect(loops).toHaveLength(3);
    expect(loopPath(graph, ['x', 'y', 'z'])).toBe('x → y → z → x');
    expect(loopPath(graph, ['s'])).toBe('s → s');
    expect(importLoops([a('c1', 'c2'), a('c2', 'c3'), a('c1', 'c3')])).toEqual([]);
  });

  it('walks a 100,000-file chain closed into one loop without recursion', () => {
    const n = 100_000;
    const chain: Arrow[] = Array.from({ length: n }, (_, i) => ({ from: `f${i}`, to: `f${(i + 1) % n}`, typeOnly: false }));
    const loops = importLoops(chain);
    expect(loops).toHaveLength(1);
    expect(loops[0]).toHaveLength(n);
  });
});
